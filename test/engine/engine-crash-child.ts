/**
 * Child process of engine-crash.test.ts: starts an engine on a data
 * directory (small snapshot threshold so compactions happen under load),
 * writes continuously through the driver with eight concurrent writers and
 * prints "ack <id>" for every acknowledged insert, plus "inc <n>" for every
 * acknowledged $inc of a counter. It never exits by itself: the parent kills it.
 */
import { MongoClient } from 'mongodb';
import { launchEngine } from '../../src/engine/launch.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: engine-crash-child.ts <dataDir>');

const engine = await launchEngine({ dataDir: dir }, { compactBytes: 64 * 1024, chunkDocs: 100 });
const client = new MongoClient(engine.uri, { maxPoolSize: 8 });
await client.connect();
const coll = client.db('crash').collection<{ _id: number; payload: string; n: number }>('c');
const counter = client.db('crash').collection<{ _id: string; n: number }>('counter');
await counter.updateOne({ _id: 'k' }, { $setOnInsert: { n: 0 } }, { upsert: true });
process.stdout.write('ready\n');

let next = 0;
async function writer(): Promise<never> {
  for (;;) {
    const id = next++;
    await coll.insertOne({ _id: id, payload: `p${id}`.repeat(4), n: id * 3 });
    process.stdout.write(`ack ${id}\n`);
    if (id % 5 === 0) {
      const r = await counter.findOneAndUpdate({ _id: 'k' }, { $inc: { n: 1 } }, { returnDocument: 'after' });
      process.stdout.write(`inc ${r!.n}\n`);
    }
  }
}
await Promise.all(Array.from({ length: 8 }, () => writer()));
