/**
 * Bringing a store written by an older rss to the current data model, once,
 * at Store.open.
 *
 * Version 1 kept one `inbox` row per text and recipient; version 2 keeps per
 * user a cursor (every text numbered up to it received) and, per subject,
 * the number from which texts on it are owed (UserDoc.cursor, since). A
 * user's rows become, per current subject, `since` = the lowest row on that
 * subject − 1 (no row on it: the lease's last allocated number, nothing
 * owed), and the cursor = its lowest row − 1 (no row: that same number), at
 * or below every `since`, so each subject is owed exactly from its own line.
 * The v1 owed set comes out whole, plus one kind of text a cursor cannot
 * express: one received out of order, above a lower row on its subject; it
 * is owed again (pushed again, which a native client drops as seen),
 * never one lost. The cursors are written before the inbox is dropped and
 * only where none is stored, so two servers opening the store at once, or a
 * migration interrupted and run again, come to the same.
 */
import type { Db } from 'mongodb';
import { StorageError } from '../errors';
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

/**
 * The store's data model marker (null: none yet). A store marked with a
 * newer data model than this code's was written by a newer rss: reading or
 * writing it with this one could lose what it keeps, so it is refused.
 */
export async function readSchemaMarker(db: Db): Promise<SchemaDoc | null> {
  const marker = (await db.collection<SchemaDoc>('control').findOne({ _id: 'schema' })) as SchemaDoc | null;
  if (marker && marker.version > SCHEMA_VERSION) {
    throw new StorageError(
      `the store holds data model version ${marker.version}, newer than this rss understands (version ${SCHEMA_VERSION}): run the newer rss that wrote it, or use another database`,
    );
  }
  return marker;
}

/** Migrate `db` to SCHEMA_VERSION if its `marker` (readSchemaMarker) says it is older; null when it was current already. */
export async function migrateToLog(db: Db, marker: SchemaDoc | null): Promise<MigrationReport | null> {
  if (marker && marker.version >= SCHEMA_VERSION) return null;
  const control = db.collection<SchemaDoc | LeaseDoc>('control');
  const lease = (await control.findOne({ _id: 'lease' })) as LeaseDoc | null;
  const inbox = db.collection<InboxRow>('inbox');
  const rowsOf = new Map<string, number[]>();
  let rows = 0;
  for await (const row of inbox.find({}, { projection: { _id: 0, user: 1, seq: 1 } })) {
    rows++;
    let seqs = rowsOf.get(row.user);
    if (!seqs) rowsOf.set(row.user, (seqs = []));
    seqs.push(row.seq);
  }
  const subjectOf = await subjectsOfTexts(db, [...rowsOf.values()].flat());
  const none = lease?.seq ?? 0;
  const users = db.collection<UserDoc>('users');
  const unmigrated = await users.find({ cursor: { $exists: false } }, { projection: { _id: 1, subjects: 1 } }).toArray();
  if (unmigrated.length > 0) {
    const updates = unmigrated.map((u) => {
      const seqs = rowsOf.get(u._id) ?? [];
      const lowestOn = new Map<string, number>();
      for (const seq of seqs) {
        const subject = subjectOf.get(seq);
        if (subject !== undefined) lowestOn.set(subject, Math.min(seq, lowestOn.get(subject) ?? Infinity));
      }
      const cursor = seqs.length > 0 ? seqs.reduce((a, b) => Math.min(a, b)) - 1 : none;
      const since = (u.subjects ?? []).map((subject) => ({ subject, seq: lowestOn.has(subject) ? lowestOn.get(subject)! - 1 : none }));
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

/** The subject of each text numbered in `seqs` (read in batches). */
async function subjectsOfTexts(db: Db, seqs: number[]): Promise<Map<number, string>> {
  const unique = [...new Set(seqs)];
  const subjectOf = new Map<number, string>();
  const texts = db.collection<{ _id: number; subject?: string }>('texts');
  for (let i = 0; i < unique.length; i += 10_000) {
    const batch = unique.slice(i, i + 10_000);
    for await (const t of texts.find({ _id: { $in: batch } }, { projection: { _id: 1, subject: 1 } })) {
      if (typeof t.subject === 'string') subjectOf.set(t._id, t.subject);
    }
  }
  return subjectOf;
}
