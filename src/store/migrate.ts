/**
 * Bringing a store written by an older rss to the current data model, once,
 * at Store.open.
 *
 * Version 1 kept one `inbox` row per text and recipient; version 2 keeps per
 * user a cursor (every text numbered up to it received) and, per subject,
 * the number from which texts on it are owed (UserDoc.cursor, since). A
 * user's rows become: cursor = its lowest owed number − 1 (nothing owed: the
 * lease's last allocated number), each current subject owed from the
 * cursor. Texts between the lowest owed one and the last one the user
 * received are then owed again: pushed again, which a native client drops
 * as seen; never one lost. The cursors are written before the inbox is
 * dropped and only where none is stored, so two servers opening the store
 * at once, or a migration interrupted and run again, come to the same.
 */
import type { Db } from 'mongodb';
import { SCHEMA_VERSION, type LeaseDoc, type SchemaDoc, type UserDoc } from './documents';

/** What a migration did (for the one log line). */
export interface MigrationReport {
  from: number;
  to: number;
  users: number;
  rows: number;
}

interface InboxRow {
  user: string;
  seq: number;
}

/** Migrate `db` to SCHEMA_VERSION if its marker says it is older; null when it was current already. */
export async function migrateToLog(db: Db): Promise<MigrationReport | null> {
  const control = db.collection<SchemaDoc | LeaseDoc>('control');
  const marker = (await control.findOne({ _id: 'schema' })) as SchemaDoc | null;
  if (marker && marker.version >= SCHEMA_VERSION) return null;
  const lease = (await control.findOne({ _id: 'lease' })) as LeaseDoc | null;
  const inbox = db.collection<InboxRow>('inbox');
  const lowest = new Map<string, number>();
  let rows = 0;
  for await (const row of inbox.find({}, { projection: { _id: 0, user: 1, seq: 1 } })) {
    rows++;
    const low = lowest.get(row.user);
    if (low === undefined || row.seq < low) lowest.set(row.user, row.seq);
  }
  const users = db.collection<UserDoc>('users');
  const unmigrated = await users.find({ cursor: { $exists: false } }, { projection: { _id: 1, subjects: 1 } }).toArray();
  if (unmigrated.length > 0) {
    const updates = unmigrated.map((u) => {
      const low = lowest.get(u._id);
      const cursor = low === undefined ? (lease?.seq ?? 0) : low - 1;
      const since = (u.subjects ?? []).map((subject) => ({ subject, seq: cursor }));
      return { q: { _id: u._id, cursor: { $exists: false } }, u: { $set: { cursor, since } } };
    });
    for (let i = 0; i < updates.length; i += 1000) await db.command({ update: 'users', updates: updates.slice(i, i + 1000), ordered: false });
  }
  if ((await db.listCollections({ name: 'inbox' }, { nameOnly: true }).toArray()).length > 0) {
    await inbox.drop().catch(() => {});
  }
  await control.updateOne({ _id: 'schema' }, { $max: { version: SCHEMA_VERSION } }, { upsert: true });
  // A store that never held a user or a row (a new one) only gets its marker: nothing to tell.
  if (unmigrated.length === 0 && rows === 0) return null;
  return { from: marker?.version ?? 1, to: SCHEMA_VERSION, users: unmigrated.length, rows };
}
