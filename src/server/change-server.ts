/**
 * CHANGE-SERVER, sent from this one place: at a handoff (by the server
 * handing over, naming the other) and at a failover (by the server taking
 * over, naming itself). It reaches every registered user at a validated
 * address, each native user in a datagram MACed with its own key, and every
 * legacy client that announced itself or was recently active
 * (legacy-contacts.ts), registered or not.
 *
 * A legacy address is told once per change, however many names live there:
 * pickle clients flip between the two servers on every CHANGE-SERVER
 * without reading its address, so a second one would send them back.
 * Every datagram to an address that has not proved it receives (every
 * legacy one) is charged to its anti-amplification budget (send-budgets.ts).
 */
import type { Push } from '../protocol/messages';
import type { ContactDoc, UserDoc } from '../store/documents';
import { addressKey, type Address } from '../transport/types';

export type ChangeServer = Extract<Push, { type: 'CHANGE-SERVER' }>;

/** How the notice goes out (Outbox, charged to the send budgets). */
export interface SwitchSender {
  /** To a registered user, in its dialect (false when not sent: unvalidated address, no key, ...). */
  toUser(user: UserDoc, msg: ChangeServer): boolean;
  /** To a legacy client's address, within its budget. */
  toAddress(at: Address, dialect: 'text' | 'pickle', msg: ChangeServer): boolean;
}

export interface SwitchTold {
  /** Registered users told. */
  users: number;
  /** Legacy addresses told where no registered user was told. */
  others: number;
}

export function tellEveryoneToSwitch(
  msg: ChangeServer,
  users: Iterable<UserDoc>,
  contacts: readonly ContactDoc[],
  send: SwitchSender,
): SwitchTold {
  const told: SwitchTold = { users: 0, others: 0 };
  /** Legacy addresses told, and how many registered users live at each legacy address. */
  const toldLegacy = new Set<string>();
  const legacyUsers = new Map<string, number>();
  for (const u of users) {
    if (u.dialect === 'native') {
      if (send.toUser(u, msg)) told.users++;
      continue;
    }
    const key = addressKey(u);
    legacyUsers.set(key, (legacyUsers.get(key) ?? 0) + 1);
    if (!toldLegacy.has(key) && send.toUser(u, msg)) toldLegacy.add(key);
  }
  // Then the clients heard at an address not told yet (users whose address is not validated included).
  for (const c of contacts) {
    if (toldLegacy.has(c._id) || !send.toAddress(c, c.dialect, msg)) continue;
    toldLegacy.add(c._id);
    if (!legacyUsers.has(c._id)) told.others++;
  }
  for (const [key, n] of legacyUsers) if (toldLegacy.has(key)) told.users += n;
  return told;
}
