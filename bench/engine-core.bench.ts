/**
 * Server-side cost per command without the driver: decode an OP_MSG, execute
 * it in the core, encode the reply. Run: node --import tsx bench/engine-core.bench.ts
 */
import { BSON, ObjectId } from 'bson';
import { EngineCore } from '../src/engine/core.js';
import { decodeMessage, encodeMsg } from '../src/engine/wire/codec.js';

const core = new EngineCore();
const N = 200_000;

function msg(body: object): Buffer {
  return encodeMsg(1, 0, body);
}

function bench(label: string, make: (i: number) => Buffer, distinct = 1000): void {
  const bufs = Array.from({ length: distinct }, (_, i) => make(i));
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const req = decodeMessage(bufs[i % distinct]);
    const { reply } = core.execute('b', req.body, 1);
    encodeMsg(2, 1, reply);
  }
  const us = ((performance.now() - t0) * 1000) / N;
  console.log(label.padEnd(28), us.toFixed(2), 'µs/op', Math.round(1e6 / us), 'ops/s');
}

core.execute('b', BSON.deserialize(BSON.serialize({ createIndexes: 'c', indexes: [{ key: { k: 1 }, name: 'k_1' }] })), 1);
let seq = 0;
bench('insert', () => msg({ insert: 'c', documents: [{ _id: new ObjectId(), k: seq++, s: 'value' }], $db: 'b', lsid: { id: new ObjectId() } }), N);
bench('find by indexed k', (i) => msg({ find: 'c', filter: { k: i }, limit: 1, singleBatch: true, batchSize: 1, $db: 'b' }));
const ids = core.execute('b', { find: 'c', filter: {}, limit: 1000, batchSize: 1000 }, 1).reply.cursor.firstBatch.map((d: { _id: unknown }) => d._id);
bench('find by _id', (i) => msg({ find: 'c', filter: { _id: ids[i] }, limit: 1, singleBatch: true, batchSize: 1, $db: 'b' }));
bench('update $inc by k', (i) => msg({ update: 'c', updates: [{ q: { k: i }, u: { $inc: { n: 1 } } }], $db: 'b' }));
bench('ping', () => msg({ ping: 1, $db: 'admin' }));
