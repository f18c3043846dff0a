/**
 * `node --import tsx bench/server-path.bench.ts [fan-out] [publishers] [rounds]`
 *
 * The server's own CPU per acknowledged publish, without sockets or a
 * database: a real RssServer (dispatch, intake, reply cache, replay window,
 * budgets, publish handler, fan-out, delivery, ACKs, protocol codecs) fed
 * by a fake transport, over an in-memory store that indexes texts by request
 * key (so the store costs next to nothing). Each round every publisher
 * publishes once and every push is acknowledged, as the load generator of
 * bench/rss does over UDP. Prints the best of several measured blocks
 * (process.cpuUsage), so other work on the machine inflates it less; run
 * with --cpu-prof to see where the time goes.
 */
import { legacyDialects } from '../src/protocol/dialects';
import { decodeNative } from '../src/protocol/native';
import type { Message } from '../src/protocol/messages';
import { RssServer } from '../src/server/server';
import type { TextDoc } from '../src/store/documents';
import type { Address, DatagramHandler, Transport } from '../src/transport/types';
import { MemoryStore } from '../test/security/memory-store';
import { NativeWire, readFast } from './rss/wire';

const [fanout = 1, publishers = 64, rounds = 300] = process.argv.slice(2).map(Number);

/** As MemoryStore, with texts found by request key in O(1): the bench measures the server, not the store. */
class IndexedStore extends MemoryStore {
  private readonly byReq = new Map<string, TextDoc>();
  override async findTextByReq(req: string): Promise<TextDoc | null> {
    return this.byReq.get(req) ?? null;
  }
  override async storeText(text: TextDoc): Promise<{ stored: boolean; text: TextDoc }> {
    const before = this.byReq.get(text.req);
    if (before) return { stored: false, text: before };
    this.byReq.set(text.req, text);
    this.texts.set(text._id, text);
    return { stored: true, text };
  }
}

const SELF = { host: '10.0.0.1', port: 5001 };
const out: { bytes: Buffer; to: Address }[] = [];
let handler: DatagramHandler = () => {};
const transport: Transport = {
  send: (bytes, to) => void out.push({ bytes: bytes as Buffer, to }),
  onDatagram: (h) => void (handler = h),
  address: () => SELF,
  close: async () => {},
};
const server = new RssServer({ tag: 'A', transport, peer: { host: '10.0.0.9', port: 5002 }, self: SELF, store: new IndexedStore(), period: 3_600_000, dialects: legacyDialects,
  // Rate limits far above what the rounds ask: the bench measures the path of requests that pass.
  security: { userRate: { burst: 1e9, perSecond: 1e9 }, sourceRate: { burst: 1e9, perSecond: 1e9 } },
});
const serving = new Promise((r) => server.once('serving', r));
server.start();
await serving;

const wire = new NativeWire();
const addressOf = new Map<string, Address>();
let nextPort = 10_000;
let measuring = false;
const tick = () => new Promise((r) => setImmediate(r));

/** Deliver what the server sent: replies to the wire, CHALLENGEs answered, pushes acknowledged. Returns PUBLISHED and MESSAGE counts. */
function drain(): { published: number; pushes: number } {
  let published = 0;
  let pushes = 0;
  for (const { bytes } of out.splice(0)) {
    const fast = readFast(bytes);
    if (fast?.type === 'PUBLISHED') {
      published++;
      if (measuring) continue;
    }
    if (fast?.type === 'MESSAGE') {
      pushes++;
      handler(wire.fastAck(fast.to, fast.seq), addressOf.get(fast.to)!);
      continue;
    }
    const m = decodeNative(bytes);
    const msg = m.message as Message;
    wire.learn(msg);
    if (msg.type === 'PUBLISHED' && m.envelope.pv) wire.proven.add(msg.name);
    if (msg.type === 'CHALLENGE') handler(wire.challengeResponse(msg.to, msg.nonce), addressOf.get(msg.to)!);
  }
  return { published, pushes };
}

async function request(name: string, body: Parameters<NativeWire['request']>[0]): Promise<void> {
  handler(wire.request(body, wire.nextRq()), addressOf.get(name)!);
  // A few turns and a store group's linger (store/group.ts) for the answer.
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 2));
    drain();
  }
}

const pubs: { name: string; build: (rq: number) => Buffer }[] = [];
for (let p = 0; p < publishers; p++) {
  const names = [`p${p}`, ...Array.from({ length: fanout }, (_, j) => `l${p}_${j}`)];
  for (const name of names) {
    addressOf.set(name, { host: '127.0.0.1', port: nextPort++ });
    const a = addressOf.get(name)!;
    await request(name, { type: 'REGISTER', name, host: a.host, port: a.port });
    await request(name, { type: 'SUBJECTS', name, subjects: [`s${p}`] });
  }
  // One publish to learn `pv` (the publisher's requests then go unpadded, as the load generator's).
  await request(names[0]!, { type: 'PUBLISH', name: names[0]!, subject: `s${p}`, text: 'warm-up' });
}
measuring = true;
for (let p = 0; p < publishers; p++) pubs.push({ name: `p${p}`, build: wire.publisher(`p${p}`, `s${p}`, 'a text of some forty bytes, as the bench')! });

async function round(): Promise<number> {
  for (const p of pubs) handler(p.build(wire.nextRq()), addressOf.get(p.name)!);
  let published = 0;
  let pushes = 0;
  while (published < pubs.length || pushes < pubs.length * fanout) {
    await tick();
    const d = drain();
    published += d.published;
    pushes += d.pushes;
  }
  return published;
}

for (let i = 0; i < 50; i++) await round();
let best = Infinity;
for (let block = 0; block < 6; block++) {
  let n = 0;
  const t = process.cpuUsage();
  for (let i = 0; i < rounds / 6; i++) n += await round();
  const u = process.cpuUsage(t);
  best = Math.min(best, (u.user + u.system) / n);
}
process.stdout.write(`fan-out ${fanout}, ${publishers} publishers: ${best.toFixed(1)} µs CPU per acknowledged publish (best of 6 blocks; the in-process client's work included)\n`);
await server.close();
