/**
 * GET /metrics: the Prometheus text exposition (prom-client), every rss
 * metric labelled with its server. Gauges and counters are read at scrape
 * time from each server's status report and telemetry, the very figures
 * `rss status` shows; nothing is counted twice. Plus the process defaults.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DURATION_BUCKETS } from '../server/telemetry';
import type { HostedServer, OpsHost } from './host';

interface Scraped {
  hosted: HostedServer;
  status: Record<string, unknown>;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** A registry for `host`'s servers; `metrics()` renders it. */
export function metricsRegistry(host: OpsHost, opts: { processDefaults?: boolean } = {}): Registry {
  const register = new Registry();
  if (opts.processDefaults !== false) collectDefaultMetrics({ register });

  // One status report per server per scrape, shared by every metric of that scrape.
  let pending: Promise<Scraped[]> | undefined;
  const scrape = (): Promise<Scraped[]> => {
    pending ??= Promise.all(
      host.servers().map(async (hosted) => ({
        hosted,
        status: hosted.running ? await hosted.server.statusReport() : hosted.server.status(),
      })),
    ).finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };

  const gauge = (name: string, help: string, value: (s: Scraped) => number | undefined) =>
    new Gauge({
      name, help, labelNames: ['server'], registers: [register],
      async collect() {
        this.reset();
        for (const s of await scrape()) {
          const v = value(s);
          if (v !== undefined) this.set({ server: s.hosted.tag }, v);
        }
      },
    });
  const counter = (name: string, help: string, field: string) =>
    new Counter({
      name, help, labelNames: ['server'], registers: [register],
      async collect() {
        this.reset();
        for (const s of await scrape()) this.inc({ server: s.hosted.tag }, num(s.status[field]));
      },
    });

  gauge('rss_serving', '1 while this server serves (holds the lease and acts), else 0', (s) => (s.hosted.running && s.status.role === 'serving' ? 1 : 0));
  gauge('rss_up', '1 while this server runs, 0 once stopped', (s) => (s.hosted.running ? 1 : 0));
  gauge('rss_epoch', 'the lease epoch this server serves under or last saw', (s) => num(s.status.epoch));
  gauge('rss_users', 'registered users known to this server', (s) => num(s.status.users));
  gauge('rss_users_online', 'users heard from within the presence window (serving server)', (s) => num(s.status.usersOnline));
  gauge('rss_texts_stored', 'texts in the store', (s) => (typeof s.status.texts === 'number' ? s.status.texts : undefined));
  gauge('rss_ready', '1 while /readyz would answer 200 for this server', (s) => (s.hosted.server.readiness().ready ? 1 : 0));
  counter('rss_pushes_total', 'texts pushed to native users (first transmissions)', 'pushes');
  counter('rss_push_retransmissions_total', 'pushes sent again for want of an ACK', 'retransmissions');
  counter('rss_texts_purged_total', 'texts deleted because every user interested had them (and they were old enough)', 'textsPurged');
  counter('rss_duplicates_total', 'retransmitted requests answered from the reply cache', 'duplicates');
  counter('rss_handoffs_total', 'handoffs this server made at the end of its period', 'handoffs');
  counter('rss_store_errors_total', 'store operations that failed (lease checks, requests not answered)', 'storeErrors');

  new Counter({
    name: 'rss_requests_total', help: 'user requests by type, dialect and outcome', registers: [register],
    labelNames: ['server', 'type', 'dialect', 'outcome'],
    async collect() {
      this.reset();
      for (const s of await scrape()) {
        for (const r of s.hosted.server.telemetry.requestsByLabel()) {
          this.inc({ server: s.hosted.tag, type: r.type, dialect: r.dialect, outcome: r.outcome }, r.count);
        }
      }
    },
  });
  new Counter({
    name: 'rss_takeovers_total', help: 'times this server took the serving role, by cause (initial, handoff, failover, resume)', registers: [register],
    labelNames: ['server', 'cause'],
    async collect() {
      this.reset();
      for (const s of await scrape()) {
        for (const [cause, n] of Object.entries(s.hosted.server.telemetry.takeovers)) this.inc({ server: s.hosted.tag, cause }, n);
      }
    },
  });
  // The steps of each server's latest handoff and takeover (server/phases.ts): where a pause users saw went.
  for (const [name, which] of [['rss_last_handoff_step_seconds', 'handoff'], ['rss_last_takeover_step_seconds', 'takeover']] as const) {
    new Gauge({
      name, help: `how long each step of this server's latest ${which} took`, registers: [register],
      labelNames: ['server', 'step'],
      collect() {
        this.reset();
        for (const { tag, server } of host.servers()) {
          const took = which === 'handoff' ? server.telemetry.lastHandoff : server.telemetry.lastTakeover;
          for (const [step, ms] of Object.entries(took?.phases ?? {})) this.set({ server: tag, step }, ms / 1000);
        }
      },
    });
  }
  register.registerMetric(durationHistogram(host) as never);
  return register;
}

/**
 * rss_request_duration_seconds, rendered from the servers' own bucket
 * counts (telemetry.ts keeps them without a dependency on prom-client):
 * a metric object of the shape the registry renders.
 */
function durationHistogram(host: OpsHost) {
  const name = 'rss_request_duration_seconds';
  const help = 'time from a request datagram\'s arrival to its answer, for requests executed';
  return {
    name, help, type: 'histogram', aggregator: 'sum',
    reset() {},
    async get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const { tag, server } of host.servers()) {
        const h = server.telemetry.duration;
        let cumulative = 0;
        DURATION_BUCKETS.forEach((le, i) => {
          cumulative += h.buckets[i]!;
          values.push({ labels: { server: tag, le }, value: cumulative, metricName: `${name}_bucket` });
        });
        values.push({ labels: { server: tag, le: '+Inf' }, value: h.count, metricName: `${name}_bucket` });
        values.push({ labels: { server: tag }, value: h.sum, metricName: `${name}_sum` });
        values.push({ labels: { server: tag }, value: h.count, metricName: `${name}_count` });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}
