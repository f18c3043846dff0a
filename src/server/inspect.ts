/**
 * A read-only look into one server for the tools around it (the demo's
 * console, the dashboard): plain data copied out, never a collaborator
 * (directory, delivery, role, store) handed over. Cheap enough to call
 * every second; the counts of the status report are `statusReport()`'s.
 */
import type { DialectName, ServerTag } from '../protocol/messages';
import type { Address } from '../transport/types';
import type { UserDoc } from '../store/documents';
import type { RssServer } from './server';

export interface ServerInspection {
  tag: ServerTag;
  address: Address;
  /** Serving and allowed to act right now. */
  serving: boolean;
  /** The lease epoch this server last knew. */
  epoch: number;
  /** How long a silent holder keeps the lease before another server takes over (ms). */
  leaseTtl: number;
  /** Pushes to native users since this server started: first sends, retransmissions, and users given up on (their texts wait for RETRIEVE). */
  pushes: { sent: number; retransmissions: number; givenUp: number };
  /** Requests this server took in since it started (answered or not). */
  requests: number;
}

/** A user as an operator's tools show it: never its address, key or counters. */
export interface UserView {
  name: string;
  dialect: DialectName;
  subjects: string[];
  /** WHO's online flag; absent when no serving server could say. */
  online?: boolean;
}

export function inspectServer(server: RssServer): ServerInspection {
  const { pushes, retransmissions, givenUp } = server.delivery.stats;
  return {
    tag: server.tag,
    address: { ...server.address },
    serving: server.serving,
    epoch: server.role.epoch,
    leaseTtl: server.role.timing.leaseTtl,
    pushes: { sent: pushes, retransmissions, givenUp },
    requests: server.counters.requests,
  };
}

/**
 * The serving server's users, from its directory (current only while it
 * serves: undefined otherwise), with online flags, sorted by name; at most
 * `limit`. A directory over ten times the limit is not sorted whole: the
 * first `limit` users found are, so a large one costs little to look at.
 */
export function servingUsers(server: RssServer, limit = Infinity): { total: number; users: UserView[] } | undefined {
  if (!server.serving) return undefined;
  const all = [...server.directory.all()];
  const picked = all.length > limit * 10 ? all.slice(0, limit) : all;
  const users = byName(picked).slice(0, limit).map((u) => ({ ...userView(u), online: server.online(u._id) }));
  return { total: all.length, users };
}

/** Every registered user as the store has them (without online flags), sorted by name: for when no server serves. */
export async function storedUsers(server: RssServer): Promise<UserView[]> {
  return byName(await server.store.loadUsers()).map(userView);
}

/** Texts in the store (whichever server asks, the same count); rejects while the store is unreachable. */
export function storedTexts(server: RssServer): Promise<number> {
  return server.store.countTexts();
}

function userView(u: UserDoc): UserView {
  return { name: u._id, dialect: u.dialect, subjects: [...u.subjects] };
}

function byName(users: UserDoc[]): UserDoc[] {
  return users.sort((x, y) => x._id.localeCompare(y._id));
}
