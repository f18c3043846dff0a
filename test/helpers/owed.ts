/** What the serving server's rule over the log owes a user now (its in-memory cursor and subjects, up to the visible line). */
import type { RssServer } from '../../src/server/server';
import { readOwed } from '../../src/server/owed';

export async function owedTo(server: RssServer, name: string): Promise<number[]> {
  return (await readOwed(server, name, 10_000)).texts.map((t) => t._id);
}
