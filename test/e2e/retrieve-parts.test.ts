/**
 * RETRIEVE-TEXTS answered in several datagrams: a native client at a
 * validated address gets a hundred missed texts in one request, in order
 * (and one more, empty, that says they were shown);
 * from an address the server has not validated, the answer stays within the
 * anti-amplification budget (one datagram per request) and nothing is lost.
 */
import { describe, expect, it } from 'vitest';
import { MemoryKeyRing } from '../../src/client/keys';
import { decodeNative } from '../../src/protocol/native';
import type { Transport } from '../../src/transport/types';
import { openUdp } from '../../src/transport/udp';
import { rawPeer } from '../helpers/raw';
import type { Logger } from '../../src/util/log';
import { systemsClosedAfterEach } from '../helpers/system';
import { owedTo } from '../helpers/owed';

/** A client logger that counts the RETRIEVE-TEXTS requests it sends (retransmissions are not new requests). */
function retrieveCounter(): { logger: Logger; count: () => number } {
  let n = 0;
  const logger: Logger = {
    debug: (obj) => {
      if ((obj as { type?: string }).type === 'RETRIEVE-TEXTS') n++;
    },
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => logger,
  };
  return { logger, count: () => n };
}

const system = systemsClosedAfterEach();

async function carolMissed(n: number) {
  const sys = await system();
  const alice = await sys.client();
  await alice.register('alice');
  await alice.subjects('alice', ['news']);
  const keys = new MemoryKeyRing();
  const carol1 = await sys.client({ keys });
  await carol1.register('carol');
  await carol1.subjects('carol', ['news']);
  const { cid } = carol1;
  const port = carol1.localAddress.port;
  // carol1 answered its CHALLENGE at REGISTER: its address is validated. Then it goes away.
  await carol1.close();
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push((await alice.publish('alice', 'news', `text number ${i} `.padEnd(40, '.'))).seq);
  return { sys, keys, cid, port, seqs };
}

describe('RETRIEVE-TEXTS in several datagrams', () => {
  it('a validated address gets 100 missed texts in one request, in order (then one empty ask saying they were shown)', async () => {
    const { sys, keys, cid, port, seqs } = await carolMissed(100);
    // carol comes back on the same address.
    const sent = retrieveCounter();
    const carol = await sys.client({ keys, cid, bind: { host: '127.0.0.1', port }, logger: sent.logger });
    const got = await carol.retrieve('carol');
    expect(got.texts.map((t) => t.seq)).toEqual(seqs);
    expect(sent.count()).toBe(2);
    expect((await carol.retrieve('carol')).texts).toEqual([]);
  });

  it('after a handoff the other server trusts the address the user proved (addrOk) and answers in parts too', async () => {
    const { sys, keys, cid, port, seqs } = await carolMissed(100);
    expect(await sys.pair.a.server.handoff()).toBe(true);
    const sent = retrieveCounter();
    const carol = await sys.client({ keys, cid, bind: { host: '127.0.0.1', port }, logger: sent.logger });
    const got = await carol.retrieve('carol');
    expect(carol.currentServer).toEqual(sys.servers[1]);
    expect(got.texts.map((t) => t.seq)).toEqual(seqs);
    // The first request goes to both servers and only B answers; one RETRIEVE-TEXTS carried every text, the next said so.
    expect(sent.count()).toBe(2);
  });

  it('an address not validated yet gets one datagram per request, and still every text', async () => {
    const { sys, keys, cid, seqs } = await carolMissed(60);
    const sent = retrieveCounter();
    const carol = await sys.client({ keys, cid, logger: sent.logger });
    const got = await carol.retrieve('carol');
    expect(got.texts.map((t) => t.seq)).toEqual(seqs);
    expect(sent.count()).toBeGreaterThan(2);
  });

  it('the other server answers a retransmission after a handoff with the very datagrams recorded, and executes nothing', async () => {
    const { sys, keys, cid, port, seqs } = await carolMissed(40);
    // carol's datagrams, both ways, are captured.
    const out: Buffer[] = [];
    const back: Buffer[] = [];
    const udp = await openUdp({ host: '127.0.0.1', port });
    const spy: Transport = {
      send: (bytes, to) => {
        out.push(Buffer.from(bytes));
        udp.send(bytes, to);
      },
      onDatagram: (h) => udp.onDatagram((bytes, from) => {
        back.push(Buffer.from(bytes));
        h(bytes, from);
      }),
      address: () => udp.address(),
      close: () => udp.close(),
    };
    const carol = await sys.client({ keys, cid, transport: spy });
    expect((await carol.retrieve('carol')).texts.map((t) => t.seq)).toEqual(seqs);
    const request = out.find((b) => decodeNative(b).message.type === 'RETRIEVE-TEXTS')!;
    const answer = back.filter((b) => decodeNative(b).message.type === 'RETRIEVED');
    expect(answer.length).toBeGreaterThan(1);
    expect(await sys.pair.a.server.handoff()).toBe(true);
    // The same request reaches B from elsewhere: B answers from the record A stored (within its budget), changes nothing.
    const peer = await rawPeer();
    try {
      peer.send(request, sys.servers[1]);
      // The first answer, then an absence window: whatever else B sends from there must also be one of A's answers.
      const got = [...(await peer.take(1)), ...(await peer.quiet(100))].map((g) => g.bytes);
      expect(got.length).toBeGreaterThan(0);
      for (const g of got) expect(answer.some((a) => a.equals(g))).toBe(true);
      expect(await owedTo(sys.pair.b.server, 'carol')).toEqual([]);
    } finally {
      peer.close();
    }
  });
});
