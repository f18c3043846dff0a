/** Running commands on an EngineCore directly, as they would arrive over the wire (property tests). */
import { BSON, type Document } from 'bson';
import type { EngineCore } from '../../src/engine/core.js';
import { compactNumbers } from '../../src/engine/query/normalize.js';

/** Round-trips through BSON as the wire would, so the engine sees wrapped numbers. */
export function wire(doc: Document): Document {
  return compactNumbers(BSON.deserialize(BSON.serialize(doc), { promoteValues: false }));
}

/** Execute `cmd`; throws unless it answered ok: 1. */
export function run(core: EngineCore, cmd: Document): Document {
  const { reply } = core.execute('p', wire(cmd), 1);
  if (reply.ok !== 1) throw new Error(`command failed: ${JSON.stringify(reply)}`);
  return reply;
}
