/**
 * Who a client is on the wire: a stable client id (`cid`) and the counters
 * that make each request unique. The server de-duplicates by cid (which
 * survives address changes) and rejects replays by `ctr`, which must grow
 * strictly per cid, also across restarts of a client that keeps its cid.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { InvalidArgumentError } from '../errors';
import { LIMITS } from '../protocol/limits';

/** A fresh random client id: 16 bytes, base64url (22 characters). */
export function newClientId(): string {
  return randomBytes(16).toString('base64url');
}

/** Validate a caller-given cid (the native codec accepts 1–64 base64url characters). */
export function checkClientId(cid: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cid)) throw new InvalidArgumentError(`cid "${cid.slice(0, 70)}" must be 1-64 base64url characters`);
  return cid;
}

/** Per-client counters: `ctr` for the envelope and `rq` (RQ#) for requests. */
export class ClientIdentity {
  readonly cid: string;
  private lastCtr = 0;
  private rq: number;

  /** `wallMs` is the wall clock (not the monotonic Clock): ctr must outgrow the previous run's. */
  constructor(cid?: string, private readonly wallMs: () => number = Date.now) {
    this.cid = cid === undefined ? newClientId() : checkClientId(cid);
    // A random start keeps a restarted client that reuses its cid away from the RQ#s the
    // server's reply cache still remembers from the previous run.
    this.rq = randomInt(0, 2 ** 31);
  }

  /** max(last + 1, wall-clock µs): strictly increasing, and larger than any ctr of an earlier run
   * (as long as the wall clock did not step back). */
  nextCtr(): number {
    this.lastCtr = Math.max(this.lastCtr + 1, Math.floor(this.wallMs() * 1000));
    return this.lastCtr;
  }

  /** The next RQ#, wrapping after LIMITS.maxRq; `inUse` skips numbers of pending requests. */
  nextRq(inUse: (rq: number) => boolean = () => false): number {
    do {
      this.rq = this.rq >= LIMITS.maxRq ? 0 : this.rq + 1;
    } while (inUse(this.rq));
    return this.rq;
  }
}
