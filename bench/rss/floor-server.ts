/**
 * The floor: a minimal server, as its own process, that does exactly the
 * datagram work of an acknowledged publish and nothing else — no store, no
 * reply cache, no replay window, no rate limits, no ordering. It speaks to
 * the same load generator (load.ts) with rss's own codecs: a PUBLISH is
 * decoded and its MAC checked, PUBLISHED goes back MACed (with the ctr,
 * epoch and proven-address envelope the server adds), one MACed MESSAGE goes to each other
 * user on the subject (encoded as the server's outbox does it), and each
 * ACK is decoded and its MAC checked. REGISTER (with the same key
 * agreement), SUBJECTS and CHALLENGE are served just enough for the load
 * generator's set-up. rss ÷ floor is then what the store path and the
 * server's guarantees cost on top of the unavoidable datagram work.
 * Bench code may use node:dgram directly: it is not part of rss.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { deriveUserKey, newAgreementKeys, newNonce } from '../../src/protocol/auth';
import { decodeNative, encodeNative, sealNativeBody, verifyNativeMac, withFields, type NativeFrame } from '../../src/protocol/native';
import type { Reply } from '../../src/protocol/messages';
import { emitEvent, serveCommands } from './proc';
import { ThreadProbe } from './tail';

interface FloorUser {
  name: string;
  key?: Buffer;
  /** The key agreement of the REGISTER: a retransmitted REGISTER gets the same answer (the generator may already hold this key). */
  clientPub: string;
  serverPub: string;
  host: string;
  port: number;
  subjects: string[];
  nonce?: string;
  proven: boolean;
}

const EPOCH = 1;
let socket: Socket | undefined;
const users = new Map<string, FloorUser>();
const bySubject = new Map<string, FloorUser[]>();
let seq = 0;
const counters = { publishes: 0, pushes: 0, acks: 0, refused: 0 };
const probe = new ThreadProbe();

function reply(r: Reply, frame: NativeFrame, u: FloorUser | undefined, to: RemoteInfo): void {
  const proven = u?.proven && u.host === to.address && u.port === to.port ? (1 as const) : undefined;
  socket!.send(encodeNative(r, { ctr: frame.envelope.ctr, ep: EPOCH, pv: proven }, u?.key), to.port, to.address);
}

function follow(u: FloorUser, subjects: string[]): void {
  for (const s of u.subjects) bySubject.set(s, (bySubject.get(s) ?? []).filter((x) => x !== u));
  u.subjects = subjects;
  for (const s of subjects) bySubject.set(s, [...(bySubject.get(s) ?? []), u]);
}

/** The user named by an authenticated frame, or undefined (counted) when the MAC does not verify. */
function authed(frame: NativeFrame, name: string): FloorUser | undefined {
  const u = users.get(name);
  if (u?.key && verifyNativeMac(frame, u.key)) return u;
  counters.refused++;
  return undefined;
}

function onDatagram(bytes: Buffer, from: RemoteInfo): void {
  let frame: NativeFrame;
  try {
    frame = decodeNative(bytes);
  } catch {
    counters.refused++;
    return;
  }
  const m = frame.message;
  switch (m.type) {
    case 'PUBLISH': {
      const u = authed(frame, m.name);
      if (!u) return;
      const text = { seq: ++seq, from: m.name, subject: m.subject, text: m.text, at: Date.now() };
      counters.publishes++;
      reply({ type: 'PUBLISHED', rq: m.rq, name: m.name, subject: m.subject, text: m.text, seq: text.seq }, frame, u, from);
      const body = JSON.stringify({ type: 'MESSAGE', ...text });
      for (const r of bySubject.get(m.subject) ?? []) {
        if (r === u || !r.key || !r.proven) continue;
        socket!.send(sealNativeBody(withFields(body, { to: r.name }), r.key), r.port, r.host);
        counters.pushes++;
      }
      return;
    }
    case 'ACK':
      if (authed(frame, m.name)) counters.acks++;
      return;
    case 'REGISTER': {
      if (!m.pub) return reply({ type: 'REGISTER-DENIED', rq: m.rq, name: m.name, reason: 'no public key' }, frame, undefined, from);
      const known = users.get(m.name);
      if (known && known.clientPub === m.pub) return reply({ type: 'REGISTERED', rq: m.rq, name: m.name, pub: known.serverPub }, frame, undefined, from);
      const ours = newAgreementKeys();
      const key = deriveUserKey(ours, m.pub, m.pub, ours.pub, m.name);
      const u: FloorUser = {
        name: m.name, host: m.host, port: m.port, subjects: [], proven: false, nonce: newNonce(), clientPub: m.pub, serverPub: ours.pub, ...(key ? { key } : {}),
      };
      users.set(m.name, u);
      reply({ type: 'REGISTERED', rq: m.rq, name: m.name, pub: ours.pub }, frame, undefined, from);
      socket!.send(encodeNative({ type: 'CHALLENGE', to: u.name, nonce: u.nonce! }, {}, key), u.port, u.host);
      return;
    }
    case 'CHALLENGE-RESPONSE': {
      const u = authed(frame, m.name);
      if (u && m.nonce === u.nonce) u.proven = true;
      return;
    }
    case 'SUBJECTS': {
      const u = authed(frame, m.name);
      if (!u) return;
      follow(u, m.subjects);
      reply({ type: 'SUBJECTS-UPDATED', rq: m.rq, name: m.name, subjects: m.subjects }, frame, u, from);
      return;
    }
    default:
      counters.refused++;
  }
}

serveCommands({
  async start() {
    // The receive buffer rss's servers ask for (src/transport/udp.ts SERVER_RECV_BUFFER); FLOOR_RCVBUF=0 keeps the system default.
    const rcv = Number(process.env.FLOOR_RCVBUF ?? 4 << 20);
    const s = createSocket({ type: 'udp4', ...(rcv > 0 ? { recvBufferSize: rcv } : {}) });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    s.on('message', onDatagram);
    socket = s;
    const address = { host: '127.0.0.1', port: s.address().port };
    // The load generator expects a pair; the floor is both of it (nobody ever hands over).
    return { servers: [address, address], serving: 'A' };
  },
  cpu() {
    return process.cpuUsage();
  },
  /** As the rss server worker's: the thread's figures while the open-loop latency runs (no store here, requests not timed). */
  loopDelayStart() {
    probe.start();
    return true;
  },
  loopDelayStop() {
    return { ...probe.stop(), serverRequests: 0, serverOver50ms: 0, storeCalls: {} };
  },
  counters() {
    return counters;
  },
  async close() {
    await new Promise<void>((r) => (socket ? socket.close(() => r()) : r()));
    return true;
  },
});
emitEvent('up');
