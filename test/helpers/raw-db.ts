/**
 * A test's own driver connection to the database a Store uses, to look at
 * (or plant) raw documents: the Store keeps its collections to itself.
 */
import { MongoClient, type Collection, type Db } from 'mongodb';
import type { ContactDoc, LeaseDoc, RequestDoc, TextDoc, UserDoc } from '../../src/store/documents';

export interface RawDb {
  db: Db;
  users: Collection<UserDoc>;
  texts: Collection<TextDoc>;
  requests: Collection<RequestDoc>;
  control: Collection<LeaseDoc>;
  contacts: Collection<ContactDoc>;
  close(): Promise<void>;
}

export async function openRawDb(uri: string, dbName: string): Promise<RawDb> {
  const client = await new MongoClient(uri, { serverSelectionTimeoutMS: 2000 }).connect();
  const db = client.db(dbName);
  return {
    db,
    users: db.collection<UserDoc>('users'),
    texts: db.collection<TextDoc>('texts'),
    requests: db.collection<RequestDoc>('requests'),
    control: db.collection<LeaseDoc>('control'),
    contacts: db.collection<ContactDoc>('contacts'),
    close: () => client.close(),
  };
}
