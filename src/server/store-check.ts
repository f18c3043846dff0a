/**
 * Do the two servers really share one store? Each asks the other, at its
 * configured address, which store it uses (STORE-CHECK, with a fresh
 * nonce); the answer (STORE-CHECK-REPLY) must come from that address and
 * echo the nonce, so only whoever receives there can give it: a blind
 * spoofer cannot make a server stop serving (a process that can receive at
 * the peer's address can; unMACed, as two stores mean two peer secrets). A peer that names another
 * store means two stores (two `rss server` started without one shared
 * --mongo, say), where both would serve, each its own users and texts:
 * this server then refuses to serve and says why. It keeps asking, and
 * serves again once the peer names the same store, or after the peer has
 * not answered for `forgetAfter` (stopped, or moved elsewhere).
 */
import { randomBytes } from 'node:crypto';
import type { PeerMessage, ServerTag } from '../protocol/messages';
import { formatAddress, sameAddress, type Address } from '../transport/types';
import type { Clock, TimerHandle } from '../util/clock';
import type { Logger } from '../util/log';

export interface StoreCheckOptions {
  /** How often the peer is asked (ms). */
  every: number;
  /** A refusal ends when the peer has not answered for this long (ms). */
  forgetAfter: number;
}

export function defaultStoreCheckOptions(): StoreCheckOptions {
  return { every: 2000, forgetAfter: 10_000 };
}

/** Why this server refuses to serve: the peer's store is not this server's. */
export interface StoreMismatch {
  peer: Address;
  ours: string;
  theirs: string;
  /** When the peer last named its store (this server's clock). */
  heardAt: number;
}

type CheckMessage = Extract<PeerMessage, { type: 'STORE-CHECK' | 'STORE-CHECK-REPLY' }>;

/** Nonces of the questions still awaited: the last few only. */
const OPEN_QUESTIONS = 4;

export class StoreCheck {
  private ours: string | undefined;
  private asked: string[] = [];
  private timer: TimerHandle | undefined;
  private running = false;
  /** Set while the peer names another store. */
  mismatch: StoreMismatch | undefined;

  constructor(
    private readonly tag: ServerTag,
    private readonly peer: () => Address,
    private readonly send: (msg: CheckMessage, to: Address) => void,
    private readonly clock: Clock,
    private readonly opts: StoreCheckOptions,
    private readonly onChange: (mismatch: StoreMismatch | undefined) => void,
    private readonly log: Logger,
  ) {}

  /** Learn this server's store id (asked again every `every` ms until known), then ask the peer now and every `every` ms. */
  start(storeId: () => Promise<string>): void {
    this.running = true;
    this.learn(storeId);
  }

  private learn(storeId: () => Promise<string>): void {
    storeId().then(
      (id) => {
        this.ours = id;
        if (this.running) this.tick();
      },
      (err) => {
        // Stopping closes the store client under the question: nothing to say then.
        if (!this.running) return;
        this.log.warn({ err: String(err) }, 'store id unknown yet: cannot check that the other server shares the store; asking again');
        this.timer = this.clock.after(this.opts.every, () => this.running && this.learn(storeId));
      },
    );
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
  }

  /** The peer asks which store this server uses: answered to the configured peer address only. */
  onCheck(msg: CheckMessage, from: Address): void {
    if (this.ours === undefined || !sameAddress(from, this.peer())) return;
    this.send({ type: 'STORE-CHECK-REPLY', from: this.tag, nonce: msg.nonce, store: this.ours }, this.peer());
  }

  /** The peer names its store, answering one of our questions. */
  onReply(msg: CheckMessage, from: Address): void {
    const i = this.asked.indexOf(msg.nonce);
    if (this.ours === undefined || i === -1 || !sameAddress(from, this.peer())) return;
    this.asked.splice(i, 1);
    if (msg.store === this.ours) {
      if (this.mismatch) this.change(undefined);
      return;
    }
    const known = this.mismatch?.theirs === msg.store;
    this.mismatch = { peer: this.peer(), ours: this.ours, theirs: msg.store, heardAt: this.clock.now() };
    if (!known) this.change(this.mismatch);
  }

  private tick(): void {
    if (!this.running || this.ours === undefined) return;
    if (this.mismatch && this.clock.now() - this.mismatch.heardAt > this.opts.forgetAfter) {
      this.log.warn({ peer: formatAddress(this.mismatch.peer) }, 'the server with another store no longer answers');
      this.change(undefined);
    }
    const nonce = randomBytes(16).toString('base64url');
    this.asked = [...this.asked.slice(1 - OPEN_QUESTIONS), nonce];
    this.send({ type: 'STORE-CHECK', from: this.tag, nonce, store: this.ours }, this.peer());
    this.timer = this.clock.after(this.opts.every, () => this.tick());
  }

  private change(mismatch: StoreMismatch | undefined): void {
    this.mismatch = mismatch;
    this.onChange(mismatch);
  }
}

/** What an operator reads when the servers do not share a store. */
export function mismatchText(m: StoreMismatch, storeLabel: string | undefined): string {
  return `the other server (${formatAddress(m.peer)}) uses a different store (id ${m.theirs}; this server's store ${storeLabel ?? ''} has id ${m.ours}): ` +
    'refusing to serve until both share one store (give both the same --mongo URI)';
}
