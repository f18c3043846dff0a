/**
 * RssClient: the native-dialect client library. It keeps one UDP socket,
 * finds the serving server (first request to every known server, adopt
 * whoever answers), retransmits under the RetryPolicy, follows CHANGE-SERVER
 * between the known servers only (the pair, or a ring it was given or
 * learned from a MACed ring list), and shows pushed texts exactly once, in
 * order.
 *
 * Every user this client registers gets a key (agreed at REGISTER, kept in
 * the KeyRing); its requests are MACed with it, and only replies and pushes
 * MACed with it are believed: a forged MESSAGE, CHANGE-SERVER or
 * UPDATE-SERVER is dropped even when it claims a known server's address.
 */
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { DeniedError, InvalidArgumentError } from '../errors';
import { LIMITS } from '../protocol/limits';
import { DENIAL_REASONS, type MessageOf, type Push, type Reply, type RingMember, type ServerTag, type StoredText } from '../protocol/messages';
import { decodeNative, encodeNative, nativeTextSize, verifyNativeMac, type NativeFrame } from '../protocol/native';
import { logged } from '../transport/logging';
import { sameAddress, type Address, type Transport } from '../transport/types';
import { openUdp } from '../transport/udp';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { silentLogger, type Logger } from '../util/log';
import { Delivery, type ReceivedText } from './delivery';
import { ClientIdentity } from './identity';
import { MemoryKeyRing, type KeyRing } from './keys';
import type { ShownLog } from './shown';
import { Exchanges, type RequestBody } from './requests';
import { CHALLENGE_WAIT_MS, resolveRetryPolicy, type RetryPolicy } from './retry';
import { ServerBook } from './servers';

export type { ReceivedText } from './delivery';

export interface RssClientOptions {
  /** Servers A and B, in that order (or a ring's servers, in ring order). Host names are resolved once, at open. */
  servers: readonly Address[];
  /** Local address to bind (default: the wildcard address, a system-chosen port). */
  bind?: Address;
  policy?: Partial<RetryPolicy>;
  clock?: Clock;
  logger?: Logger;
  /** Also log every datagram of the client's own socket (debug level) to `logger`. */
  logDatagrams?: boolean;
  /** Use this transport instead of opening a UDP socket; the client owns it and closes it. */
  transport?: Transport;
  /** A stable client id to keep across runs (default: a fresh random one). */
  cid?: string;
  /** Source of the retransmission jitter, values in [0, 1) (default Math.random). */
  random?: () => number;
  /** Where the user keys live (default: in memory, for this client's lifetime). */
  keys?: KeyRing;
  /** Where the highest seq shown per user is kept across runs (default: nowhere; this run only). */
  shown?: ShownLog;
}

/** Why the current server changed. */
export interface ServerChange {
  address: Address;
  tag: ServerTag;
  reason: 'reply' | 'change-server';
}

export interface RssClientEvents {
  /** A pushed or gap-filled text, once per seq and in seq order per user. */
  message: [ReceivedText];
  /** The client now talks to another server. */
  server: [ServerChange];
  /** UPDATE-SERVER replaced the address of a server, or a ring list replaced the servers. */
  'servers-updated': [Address[]];
  /** A server of a ring sent the ring (MACed), changed or not: its servers in ring order. */
  ring: [Address[]];
}

export type RetrieveOptions = { last?: number };

/** The rss client of one process (one socket, any number of users). */
export class RssClient extends EventEmitter<RssClientEvents> {
  private readonly book: ServerBook;
  private readonly identity: ClientIdentity;
  private readonly exchanges: Exchanges;
  private readonly delivery: Delivery;
  private readonly clock: Clock;
  private readonly policy: RetryPolicy;
  private readonly log: Logger;
  private readonly keys: KeyRing;
  private readonly shown: ShownLog | undefined;
  /** Pushes dropped because they were not MACed with a key this client holds. */
  private forgedPushes = 0;
  /** Exceptions thrown by the application's listeners (caught: they cannot take the client down). */
  listenerErrors = 0;
  private readonly listened = new Set<string>();
  /** Users whose address was just pointed at this socket: the server's CHALLENGE is on its way here. */
  private readonly challengeDue = new Set<string>();
  private challengeWaiters: (() => void)[] = [];
  private silence: TimerHandle | undefined;
  /** The most recent lease epoch known: from MACed replies and believed CHANGE-SERVERs (-1 until one). */
  private epoch = -1;
  private closing: Promise<void> | undefined;

  private constructor(private readonly transport: Transport, opts: RssClientOptions) {
    super();
    this.book = new ServerBook(opts.servers);
    this.identity = new ClientIdentity(opts.cid);
    this.clock = opts.clock ?? systemClock;
    this.policy = resolveRetryPolicy(opts.policy);
    this.log = opts.logger?.child({ component: 'client' }) ?? silentLogger;
    this.keys = opts.keys ?? new MemoryKeyRing();
    this.exchanges = new Exchanges({
      transport, clock: this.clock, policy: this.policy, random: opts.random ?? Math.random,
      logger: this.log, identity: this.identity, servers: this.book, keys: this.keys,
      epochSeen: (ep) => {
        this.epoch = Math.max(this.epoch, ep);
      },
    });
    this.shown = opts.shown;
    this.delivery = new Delivery((t) => this.tell('message', t), (user) => this.retrieveOnce(user), this.log, opts.shown);
    transport.onDatagram((bytes, from) => this.onDatagram(bytes, from));
  }

  /**
   * Emit an event to the application. A listener that throws is the
   * application's bug, not a reason to stop receiving: caught, counted
   * (`listenerErrors`) and logged, and the next text is shown as usual.
   */
  private tell<K extends keyof RssClientEvents>(event: K, ...args: RssClientEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: RssClientEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.listenerErrors++;
      this.log.error({ event, err: err instanceof Error ? err.message : String(err) }, 'a listener threw');
    }
  }

  /** Open a client: resolve the server names, bind the socket (unless a transport is given). */
  static async open(opts: RssClientOptions): Promise<RssClient> {
    const v6 = (opts.bind?.host ?? opts.servers[0].host).includes(':');
    const servers = await resolveServers(opts.servers, v6 ? 6 : 4);
    let transport = opts.transport;
    if (!transport) {
      const socket = await openUdp({ host: opts.bind?.host ?? (v6 ? '::' : '0.0.0.0'), port: opts.bind?.port ?? 0 });
      transport = opts.logger && opts.logDatagrams ? logged(socket, opts.logger.child({ component: 'client-udp' })) : socket;
    }
    try {
      return new RssClient(transport, { ...opts, servers });
    } catch (err) {
      await transport.close();
      throw err;
    }
  }

  /** This client's id in the native envelope. */
  get cid(): string {
    return this.identity.cid;
  }

  /** The users this client holds keys for: the names it acts for. */
  knownUsers(): string[] {
    return this.keys.names();
  }

  /** True when this client holds `name`'s user key (it registered the name). */
  hasKey(name: string): boolean {
    return this.keys.get(name) !== undefined;
  }

  /** Datagrams dropped because they failed authentication (forged or damaged replies and pushes). */
  get forgedDropped(): number {
    return this.forgedPushes + this.exchanges.forgedReplies;
  }

  /** The local socket address. */
  get localAddress(): Address {
    return this.transport.address();
  }

  /** The address to register or update a user to: the socket's, or 0.0.0.0 ("use my source address") when bound to a wildcard. */
  get reachableAt(): Address {
    const a = this.transport.address();
    return a.host === '0.0.0.0' || a.host === '::' ? { host: '0.0.0.0', port: a.port } : a;
  }

  /** The servers as currently known, in ring order (UPDATE-SERVER and ring lists may change them). */
  get servers(): Address[] {
    return this.book.all;
  }

  /** The serving server as far as this client knows; undefined before the first answer. */
  get currentServer(): Address | undefined {
    return this.book.current;
  }

  /** Register `name`, reachable at `at` (default: this client's socket). */
  async register(name: string, at: Address = this.reachableAt): Promise<MessageOf<'REGISTERED'>> {
    const body = { type: 'REGISTER', name, host: at.host, port: at.port } as const;
    let r: MessageOf<'REGISTERED'>;
    try {
      r = await this.call<'REGISTERED'>(body);
    } catch (err) {
      // The servers know no such user (their store started afresh): the key held is stale, so agree a new one.
      // The old key is replaced only by a REGISTERED that proves the new one: a forged denial cannot take it.
      if (!(err instanceof DeniedError && err.reply.reason === DENIAL_REASONS.needKey && this.hasKey(name))) throw err;
      r = (await this.exchanges.request(body, { freshKey: true })) as MessageOf<'REGISTERED'>;
    }
    // A new native user's address must prove that it receives: the CHALLENGE comes here when it is this socket.
    if (r.pub !== undefined && this.isThisSocket(at)) this.challengeDue.add(name);
    // A ring's server names every server in the (MACed) answer.
    if (r.ring) this.learnRing(r.ring);
    return r;
  }

  /** Remove `name` and all its data from the system. */
  async deregister(name: string): Promise<MessageOf<'DE-REGISTERED'>> {
    const r = await this.call<'DE-REGISTERED'>({ type: 'DE-REGISTER', name });
    this.keys.delete(name);
    this.challengeDue.delete(name);
    this.unlisten(name);
    this.delivery.forget(name);
    return r;
  }

  /** Tell the servers where `name` is reachable now (default: this client's socket). */
  async update(name: string, at: Address = this.reachableAt): Promise<MessageOf<'UPDATE-CONFIRMED'>> {
    const r = await this.call<'UPDATE-CONFIRMED'>({ type: 'UPDATE', name, host: at.host, port: at.port });
    if (this.isThisSocket(at)) this.challengeDue.add(name);
    return r;
  }

  /**
   * Resolves once every CHALLENGE due to this socket (after a register or
   * update that named it) was answered, or after `maxWaitMs`. A one-shot
   * command awaits it before closing: an address that never answered stays
   * unproven, and the server would keep challenging it instead of pushing.
   */
  challengesAnswered(maxWaitMs: number = CHALLENGE_WAIT_MS): Promise<void> {
    if (this.challengeDue.size === 0 || this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.clock.after(maxWaitMs, () => done());
      const done = () => {
        timer.cancel();
        this.challengeWaiters = this.challengeWaiters.filter((w) => w !== done);
        resolve();
      };
      this.challengeWaiters.push(done);
    });
  }

  private isThisSocket(at: Address): boolean {
    const here = this.reachableAt;
    return at.port === here.port && (at.host === here.host || sameAddress(at, this.localAddress));
  }

  /** Replace the subjects of interest of `name`. */
  subjects(name: string, list: readonly string[]): Promise<MessageOf<'SUBJECTS-UPDATED'>> {
    return this.call<'SUBJECTS-UPDATED'>({ type: 'SUBJECTS', name, subjects: [...list] });
  }

  /** Publish `text` on `subject`; the reply carries the text's seq. */
  publish(name: string, subject: string, text: string): Promise<MessageOf<'PUBLISHED'>> {
    // Refused here rather than by the server: the datagram could not even be sent whole.
    const size = nativeTextSize(name, subject, text);
    if (!size.fits || Buffer.byteLength(text) > LIMITS.maxTextBytes) {
      return Promise.reject(new InvalidArgumentError(
        `text too long: ${size.bytes} bytes once encoded, more than one ${LIMITS.maxNativeDatagram}-byte datagram (at most ${LIMITS.maxTextBytes} bytes of plain text)`,
      ));
    }
    return this.call<'PUBLISHED'>({ type: 'PUBLISH', name, subject, text });
  }

  /**
   * Without `last`: every unseen text on the user's subjects, which then
   * count as shown. Asked until an answer is empty: each ask tells the
   * server what the answers before it brought (`seen`), and only that
   * marks them received; if a later ask fails, what came so far is
   * returned (`more: true`), since the server already counts it shown.
   * With `last`: the N most recent texts, seen or not (retrieveLast).
   */
  async retrieve(name: string, opts: RetrieveOptions = {}): Promise<MessageOf<'RETRIEVED'>> {
    if (opts.last !== undefined) return this.retrieveLast(name, opts.last);
    const texts: StoredText[] = [];
    let first: MessageOf<'RETRIEVED'> | undefined;
    for (let round = 0; ; round++) {
      const seen = Math.max(this.delivery.lastShown(name), texts.at(-1)?.seq ?? 0);
      let r: MessageOf<'RETRIEVED'>;
      try {
        r = await this.call<'RETRIEVED'>({ type: 'RETRIEVE-TEXTS', name, parts: LIMITS.maxRetrieveParts, seen });
      } catch (err) {
        if (!first) throw err;
        this.delivery.noteSeen(name, texts);
        return { ...first, texts, more: true };
      }
      first ??= r;
      texts.push(...r.texts);
      if (r.texts.length === 0 || round >= 1000) {
        this.delivery.noteSeen(name, texts);
        return { ...r, texts, more: false };
      }
    }
  }

  /**
   * The `last` most recent texts, seen or not, oldest first. An answer holds
   * what fits its datagrams (one to an address that is not the user's own:
   * its budget; at most 16 otherwise): while it says more did not fit, the
   * older ones are asked for (`before` the oldest so far). `more` in the result: fewer came than asked for,
   * though the server had more.
   */
  private async retrieveLast(name: string, last: number): Promise<MessageOf<'RETRIEVED'>> {
    const texts: StoredText[] = [];
    let before: number | undefined;
    for (;;) {
      const r = await this.call<'RETRIEVED'>({ type: 'RETRIEVE-TEXTS', name, last: last - texts.length, ...(before !== undefined ? { before } : {}), parts: LIMITS.maxRetrieveParts });
      // A server that did not take `before` answers the newest again: what came is all there is to get.
      const older = before === undefined ? r.texts : r.texts.filter((t) => t.seq < before!);
      texts.unshift(...older);
      const more = Boolean(r.more);
      if (!more || older.length === 0 || texts.length >= last) return { ...r, texts, more: more && texts.length < last };
      before = older[0]!.seq;
    }
  }

  /** Registered users sharing a subject with `name`, with online flags. */
  who(name: string): Promise<MessageOf<'WHO-LIST'>> {
    return this.call<'WHO-LIST'>({ type: 'WHO', name });
  }

  /** The serving server's counters. */
  status(): Promise<MessageOf<'STATUS-REPORT'>> {
    return this.call<'STATUS-REPORT'>({ type: 'STATUS' });
  }

  /**
   * Receive pushes for `name` on this socket: fetch what it missed now, again
   * after every CHANGE-SERVER and after a silence of policy.listenSilenceMs.
   * Resolves after the first gap fill (failures are logged, not thrown).
   */
  async listen(name: string): Promise<void> {
    this.listened.delete(name);
    this.listened.add(name);
    this.armSilence();
    await this.delivery.fill(name);
  }

  /** Stop gap-filling for `name` (pushes that still arrive are shown). */
  unlisten(name: string): void {
    this.listened.delete(name);
    if (this.listened.size === 0) {
      this.silence?.cancel();
      this.silence = undefined;
    }
  }

  /** The highest seq shown to `name` by this client. */
  lastShown(name: string): number {
    return this.delivery.lastShown(name);
  }

  /** Reject pending calls (RSS_CLOSED), stop timers, close the socket. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.silence?.cancel();
      this.silence = undefined;
      this.listened.clear();
      this.exchanges.close();
      try {
        this.shown?.flush();
      } catch (err) {
        // Losing the record costs at most a text shown again by a later run, never a text.
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not keep the last shown numbers');
      }
      await this.transport.close();
    })();
    return this.closing;
  }

  private async call<T extends Reply['type']>(body: RequestBody): Promise<MessageOf<T>> {
    return (await this.exchanges.request(body)) as MessageOf<T>;
  }

  /** One ask of a gap fill, saying what was shown (the fill asks until an answer is empty). */
  private async retrieveOnce(user: string): Promise<{ texts: StoredText[]; more: boolean }> {
    return this.call<'RETRIEVED'>({ type: 'RETRIEVE-TEXTS', name: user, parts: LIMITS.maxRetrieveParts, seen: this.delivery.lastShown(user) });
  }

  private armSilence(): void {
    this.silence?.cancel();
    this.silence = undefined;
    if (this.listened.size === 0 || this.closing) return;
    this.silence = this.clock.after(this.policy.listenSilenceMs, () => {
      this.silence = undefined;
      this.log.debug({}, 'silence: asking for missed texts');
      for (const u of this.listened) void this.delivery.fill(u);
      this.armSilence();
    });
  }

  private onDatagram(bytes: Buffer, from: Address): void {
    if (this.closing) return;
    let frame: NativeFrame;
    try {
      frame = decodeNative(bytes);
    } catch (err) {
      this.log.debug({ from, err }, 'undecodable datagram dropped');
      return;
    }
    const msg = frame.message;
    // Only the known servers may answer, push or redirect: anything else could be forged. A server of a
    // ring this client does not know yet may redirect it with a ring list naming itself (MACed, checked below).
    if (!this.book.isKnown(from) && !namesSender(msg, from)) {
      this.log.debug({ from }, 'datagram from a stranger dropped');
      return;
    }
    switch (msg.type) {
      case 'MESSAGE': case 'CHANGE-SERVER': case 'UPDATE-SERVER': case 'CHALLENGE': {
        // Unsolicited: believed only with a MAC by the key of the user it names.
        const key = msg.to === undefined ? undefined : this.keys.get(msg.to);
        if (!key || !verifyNativeMac(frame, key)) {
          this.forgedPushes++;
          this.log.debug({ from, type: msg.type }, 'unauthenticated push dropped');
          return;
        }
        if (this.silence) this.armSilence();
        if (msg.type === 'MESSAGE') return this.onText(msg, msg.to!, key, from);
        if (msg.type === 'CHANGE-SERVER') return this.onChangeServer(msg, from);
        if (msg.type === 'UPDATE-SERVER') return this.onUpdateServer(msg);
        return this.onChallenge(msg, key, from);
      }
      default:
        if ('rq' in msg && this.exchanges.accept(frame)) {
          if (this.silence) this.armSilence();
          if (this.book.adopt(from)) this.tell('server', { address: this.book.current!, tag: this.book.currentTag!, reason: 'reply' });
        }
    }
  }

  /** Prove that this socket receives the user's datagrams: answer from here, MACed. */
  private onChallenge(m: Extract<Push, { type: 'CHALLENGE' }>, key: Buffer, from: Address): void {
    const env = { cid: this.identity.cid, ctr: this.identity.nextCtr() };
    this.transport.send(encodeNative({ type: 'CHALLENGE-RESPONSE', name: m.to, nonce: m.nonce }, env, key), from);
    if (this.challengeDue.delete(m.to) && this.challengeDue.size === 0) {
      // On the next turn: the answer must leave the socket before a waiting command closes it.
      this.clock.after(0, () => {
        for (const w of [...this.challengeWaiters]) w();
      });
    }
  }

  private onText(m: Extract<Push, { type: 'MESSAGE' }>, user: string, key: Buffer, from: Address): void {
    // Every copy is acknowledged (MACed: an ACK moves the user's cursor): the server retransmits until it hears one.
    this.transport.send(encodeNative({ type: 'ACK', name: user, seq: m.seq }, { cid: this.identity.cid, ctr: this.identity.nextCtr() }, key), from);
    this.delivery.push(user, { seq: m.seq, from: m.from, subject: m.subject, text: m.text, at: m.at });
  }

  private onChangeServer(m: Extract<Push, { type: 'CHANGE-SERVER' }>, from: Address): void {
    // Believed only for an epoch this client knows to be current (from MACed replies or an earlier change):
    // a reordered or captured older one must not send it to the server that stopped serving.
    if (m.epoch === undefined || this.epoch < 0) {
      // Nothing to compare with yet: ask (the answers carry the epoch); a genuine change is then learnt from them.
      this.log.debug({ epoch: m.epoch }, 'CHANGE-SERVER of an epoch not known to be current: asking instead');
      for (const u of this.listened) void this.delivery.fill(u);
      return;
    }
    if (m.epoch < this.epoch) return this.log.debug({ epoch: m.epoch }, 'stale CHANGE-SERVER dropped');
    this.epoch = m.epoch;
    if (m.ring) this.learnRing(m.ring);
    const target = { host: m.host, port: m.port };
    if (!this.book.isKnown(target)) {
      this.log.debug({ target, from }, 'CHANGE-SERVER to an unknown address ignored');
      return;
    }
    if (this.book.adopt(target)) {
      this.exchanges.resendAll();
      this.tell('server', { address: this.book.current!, tag: this.book.currentTag!, reason: 'change-server' });
    }
    for (const u of this.listened) void this.delivery.fill(u);
  }

  private onUpdateServer(m: Extract<Push, { type: 'UPDATE-SERVER' }>): void {
    if (m.ring) return this.learnRing(m.ring);
    this.book.replace(m.tag, { host: m.host, port: m.port });
    this.tell('servers-updated', this.book.all);
  }

  /** A ring list from a server, MACed with a user's key: from now on these are the servers to ask. */
  private learnRing(ring: readonly RingMember[]): void {
    const changed = this.book.setRing(ring);
    this.tell('ring', this.book.all);
    if (!changed) return;
    this.log.debug({ ring: ring.map((m) => m.tag) }, 'learned the ring of servers');
    this.tell('servers-updated', this.book.all);
  }
}

/** A redirect carrying a ring list that names its own sender. */
function namesSender(msg: { type: string; ring?: readonly RingMember[] }, from: Address): boolean {
  return (msg.type === 'CHANGE-SERVER' || msg.type === 'UPDATE-SERVER') && (msg.ring?.some((m) => sameAddress(m, from)) ?? false);
}

/** Servers A and B with their host names resolved to addresses (IP addresses are kept as given). */
export function resolveServers(servers: readonly Address[], family: 4 | 6 = 4): Promise<Address[]> {
  return Promise.all(servers.map((s) => resolveAddress(s, family)));
}

async function resolveAddress(a: Address, family: 4 | 6): Promise<Address> {
  if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw new InvalidArgumentError(`server port ${a.port} is not 1-65535`);
  if (isIP(a.host)) return { ...a };
  try {
    return { host: (await lookup(a.host, { family })).address, port: a.port };
  } catch (err) {
    throw new InvalidArgumentError(`cannot resolve server host "${a.host}": ${(err as Error).message}`);
  }
}
