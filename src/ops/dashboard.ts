/**
 * The dashboard's live state: a snapshot of every server (role, epoch, time
 * left, users, rates), the users (name, dialect, subjects, online: never an
 * address or a key), the latest texts, a timeline of handoffs, takeovers,
 * failovers and steering actions, and per-second rates over the last
 * minutes. Sent to the page over Server-Sent Events: once a second, and at
 * once when a server changes role.
 */
import { inspectServer, servingUsers, storedTexts } from '../server/inspect';
import type { RssServer } from '../server/server';
import type { RecentText } from '../server/telemetry';
import type { OpsHost } from './host';

/** Samples kept for the charts: one a second. */
const HISTORY_SECONDS = 300;
const TIMELINE_EVENTS = 60;
const TEXTS_SHOWN = 20;
const USERS_SHOWN = 200;

export interface TimelineEvent {
  at: number;
  kind: 'handoff' | 'takeover' | 'failover' | 'standby' | 'control';
  text: string;
}

/** One second of the charts: rates per second summed over the servers. */
export interface RateSample {
  at: number;
  requests: number;
  pushes: number;
  retransmissions: number;
}

interface Totals {
  requests: number;
  pushes: number;
  retransmissions: number;
}

type Listener = (event: string, data: unknown) => void;

const SERVING_TEXT: Record<string, string> = {
  initial: 'first to take the lease',
  handoff: 'took over at the handoff',
  failover: 'failover: the lease of the server it replaces expired',
  resume: 'resumed its own lease',
};

export class Dashboard {
  private readonly history: RateSample[] = [];
  private readonly timeline: TimelineEvent[] = [];
  private readonly texts = new Map<number, RecentText>();
  private readonly watched = new WeakSet<RssServer>();
  private readonly last = new WeakMap<RssServer, Totals>();
  private readonly listeners = new Set<Listener>();
  private lastUsers: ReturnType<Dashboard['users']> = { total: 0, list: [], live: false };
  private textsStored: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;

  constructor(private readonly host: OpsHost) {}

  start(): void {
    this.watchServers();
    // The timeline begins with who serves now (its takeover happened before the dashboard started).
    for (const { tag, server, running } of this.host.servers()) {
      if (running && server.serving) this.note('takeover', `${tag} serving (epoch ${inspectServer(server).epoch})`);
    }
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.soon) clearImmediate(this.soon);
    this.listeners.clear();
  }

  /** Subscribe to snapshots and timeline events; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A steering action, for the timeline. */
  note(kind: TimelineEvent['kind'], text: string): void {
    this.timeline.push({ at: Date.now(), kind, text });
    if (this.timeline.length > TIMELINE_EVENTS) this.timeline.shift();
    this.changed();
  }

  /** Everything the page shows, now. */
  snapshot() {
    this.watchServers();
    const hosted = this.host.servers();
    const servers = hosted.map(({ tag, server, running }) => {
      const s = server.status();
      const readiness = server.readiness();
      return {
        tag,
        running,
        role: running ? (s.role as string) : 'stopped',
        epoch: s.epoch as number,
        timeLeftMs: running ? (s.timeLeftMs as number | undefined) : undefined,
        timeLeftOf: running ? (s.timeLeftOf as string | undefined) : undefined,
        period: server.period,
        leaseTtl: inspectServer(server).leaseTtl,
        users: s.users as number,
        usersOnline: s.usersOnline as number,
        requestsPerSecond: running ? (s.requestsPerSecond as number) : 0,
        pushesPerSecond: running ? (s.pushesPerSecond as number) : 0,
        retransmissions: s.retransmissions as number,
        duplicates: s.duplicates as number,
        storeErrors: s.storeErrors as number,
        uptimeSeconds: s.uptimeSeconds as number,
        ready: readiness.ready,
        ...(readiness.ready ? {} : { reason: readiness.reason }),
      };
    });
    const serving = hosted.find((h) => h.running && h.server.serving);
    if (serving) this.lastUsers = this.users(serving.server);
    else this.lastUsers = { ...this.lastUsers, live: false };
    return {
      at: Date.now(),
      steering: Boolean(this.host.control),
      storeFaults: Boolean(this.host.control?.store),
      chaos: this.host.control?.chaosSpec() ?? null,
      serving: serving?.tag ?? null,
      texts: this.textsStored ?? null,
      servers,
      users: this.lastUsers,
      latest: [...this.texts.values()].sort((a, b) => b.seq - a.seq).slice(0, TEXTS_SHOWN),
      timeline: [...this.timeline].reverse(),
    };
  }

  /** The rate samples held (oldest first). */
  rates(): RateSample[] {
    return [...this.history];
  }

  private users(server: RssServer) {
    // Only a user's name, dialect, subjects and online flag leave the process (UserView): no address, key, nonce or counter.
    const shown = servingUsers(server, USERS_SHOWN);
    return { total: shown?.total ?? 0, list: shown?.users ?? [], live: shown !== undefined };
  }

  private async tick(): Promise<void> {
    this.watchServers();
    this.sample();
    this.collectTexts();
    // Nobody is watching: keep the history, spare the store its count.
    if (this.listeners.size === 0) return;
    const running = this.host.servers().find((h) => h.running);
    if (running) {
      try {
        this.textsStored = await storedTexts(running.server);
      } catch {
        // The store is down: the count stays as last read (the server cards say why).
      }
    }
    this.emit('snapshot', this.snapshot());
  }

  /** One chart sample: each server instance's growth since the last sample (a restarted one starts from 0). */
  private sample(): void {
    const now = Date.now();
    const sum: Totals = { requests: 0, pushes: 0, retransmissions: 0 };
    for (const { server, running } of this.host.servers()) {
      if (!running) continue;
      const { pushes, requests } = inspectServer(server);
      const t: Totals = { requests, pushes: pushes.sent, retransmissions: pushes.retransmissions };
      const before = this.last.get(server) ?? t;
      sum.requests += Math.max(0, t.requests - before.requests);
      sum.pushes += Math.max(0, t.pushes - before.pushes);
      sum.retransmissions += Math.max(0, t.retransmissions - before.retransmissions);
      this.last.set(server, t);
    }
    const prev = this.history[this.history.length - 1];
    const secs = prev ? Math.max(0.001, (now - prev.at) / 1000) : 1;
    const sample: RateSample = {
      at: now,
      requests: round1(sum.requests / secs),
      pushes: round1(sum.pushes / secs),
      retransmissions: round1(sum.retransmissions / secs),
    };
    this.history.push(sample);
    if (this.history.length > HISTORY_SECONDS) this.history.shift();
    this.emit('rate', sample);
  }

  private collectTexts(): void {
    for (const { server } of this.host.servers()) for (const t of server.telemetry.texts) this.texts.set(t.seq, t);
    if (this.texts.size > TEXTS_SHOWN) {
      const keep = [...this.texts.keys()].sort((a, b) => b - a).slice(0, TEXTS_SHOWN);
      for (const seq of this.texts.keys()) if (!keep.includes(seq)) this.texts.delete(seq);
    }
  }

  /** Listen to role changes of every server instance not watched yet (a restarted server is a new one). */
  private watchServers(): void {
    for (const { server } of this.host.servers()) {
      if (this.watched.has(server)) continue;
      this.watched.add(server);
      server.on('serving', (e) => {
        const kind = e.reason === 'failover' ? 'failover' : 'takeover';
        this.note(kind, `${e.tag} serving (epoch ${e.epoch}): ${SERVING_TEXT[e.reason] ?? e.reason}`);
      });
      server.on('standby', (e) => {
        if (e.reason !== 'start' && e.reason !== 'handed-over') this.note('standby', `${e.tag} standby (epoch ${e.epoch}, ${e.reason})`);
      });
      server.on('handoff', (e) => this.note('handoff', `handoff ${e.from} → ${e.to} (epoch ${e.epoch + 1}), ${e.users} users told to switch`));
    }
  }

  /** A role change: the page hears of it at once (after this turn's other events). */
  private changed(): void {
    if (this.soon || this.listeners.size === 0) return;
    this.soon = setImmediate(() => {
      this.soon = undefined;
      this.collectTexts();
      this.emit('snapshot', this.snapshot());
    });
  }

  private emit(event: string, data: unknown): void {
    for (const l of this.listeners) l(event, data);
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
