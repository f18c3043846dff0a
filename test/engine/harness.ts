/** Shared setup for driver-level engine tests: an engine on port 0 and a connected client. */
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startEngine, type EngineOptions, type RunningEngine } from '../../src/engine/index.js';

/** An engine, a client connected to it and a fresh database. */
export interface Harness {
  engine: RunningEngine;
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/** Starts an engine and connects a driver client to it. */
export async function openHarness(opts: EngineOptions = {}, uriSuffix = ''): Promise<Harness> {
  const engine = await startEngine({ port: 0, ...opts });
  const client = new MongoClient(engine.uri + uriSuffix, { serverSelectionTimeoutMS: 2000 });
  await client.connect();
  return {
    engine,
    client,
    db: client.db('t'),
    async close() {
      await client.close();
      await engine.close();
    },
  };
}

/**
 * Registers the usual hooks in the calling `describe`: one engine for the
 * block, an empty database before each test. Returns a getter for the harness.
 */
export function useHarness(): () => Harness {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h!.db.dropDatabase();
  });
  return () => h!;
}
