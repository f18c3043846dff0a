/**
 * One storage contract, run against every engine available: the embedded
 * engine always, and a real mongod when one is configured
 * (RSS_TEST_MONGO_URI, or MONGOMS_SYSTEM_BINARY for mongodb-memory-server).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startEngine, type RunningEngine } from '../../src/engine';
import { driverContract } from './driver-contract';
import { expectOpenFailure, storeContract } from './store-contract';

describe('embedded engine', () => {
  let engine: RunningEngine;
  beforeAll(async () => {
    engine = await startEngine({ port: 0 });
  });
  afterAll(async () => {
    await engine.close();
  });

  describe('Store contract', () => storeContract(() => engine.uri));
  describe('driver CRUD contract', () => driverContract(() => engine.uri));

  it('Store.open on a closed engine fails with StorageError', async () => {
    const gone = await startEngine({ port: 0 });
    await gone.close();
    await expectOpenFailure(gone.uri);
  }, 15_000);
});

const mongoUri = process.env.RSS_TEST_MONGO_URI;
const mongoBinary = process.env.MONGOMS_SYSTEM_BINARY;

if (mongoUri || mongoBinary) {
  describe(`real mongod (${mongoUri ? 'RSS_TEST_MONGO_URI' : 'MONGOMS_SYSTEM_BINARY'})`, () => {
    let uri = mongoUri ?? '';
    let stopServer: (() => Promise<unknown>) | undefined;
    beforeAll(async () => {
      if (mongoUri) return;
      const { MongoMemoryServer } = await import('mongodb-memory-server-core');
      const server = await MongoMemoryServer.create({ binary: { systemBinary: mongoBinary } });
      stopServer = () => server.stop();
      uri = server.getUri();
    }, 60_000);
    afterAll(async () => {
      await stopServer?.();
    });

    describe('Store contract', () => storeContract(() => uri));
    describe('driver CRUD contract', () => driverContract(() => uri));
  });
} else {
  const title = 'real mongod: skipped (set RSS_TEST_MONGO_URI or MONGOMS_SYSTEM_BINARY)';
  console.info(title);
  describe.skip(title, () => {
    it('Store and driver CRUD contracts', () => {});
  });
}
