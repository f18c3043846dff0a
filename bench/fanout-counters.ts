/**
 * `node --import tsx bench/fanout-counters.ts <fan-out> <publishers>[,<publishers>...] [--ref <commit>]`
 *
 * Scenario 1 alone (quick config, 1 s warm-up, 4 s measured) at each number
 * of publishers, with what the server did per acknowledged publish: CPU µs,
 * pushes and retransmissions, ACKs (and stale ones), cursors written and
 * cursor commands, store calls by method. For finding which per-user cost
 * grows with the number of users at a given fan-out. The working tree is
 * benched unless --ref. Prints on stderr and one JSON line per run on stdout.
 */
import { buildAll } from './rss/build';
import { benchConfig } from './rss/config';
import { LOAD_CPU, SERVER_CPU, cpuSeconds, stop, worker } from './rss/workers';

const argv = process.argv.slice(2);
const ref = argv.includes('--ref') ? argv[argv.indexOf('--ref') + 1] : undefined;
const [fanout = '10', list = '64,256'] = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--ref');
await buildAll(ref ? { ref } : { worktree: true });

type Counters = Record<string, Record<string, number>>;
function delta(a: Counters, b: Counters, per: number): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [group, xs] of Object.entries(b)) {
    out[group] = {};
    for (const [k, v] of Object.entries(xs)) {
      const d = v - (a[group]?.[k] ?? 0);
      if (d !== 0) out[group]![k] = Math.round((d / per) * 100) / 100;
    }
  }
  return out;
}

for (const publishers of list.split(',').map(Number)) {
  const cfg = { ...benchConfig(true), publishers, warmupMs: 1000, durationMs: 4000 };
  const server = await worker('server', { cpu: SERVER_CPU });
  const load = await worker('load', { cpu: LOAD_CPU });
  try {
    await server.call('engine', {});
    const pair = await server.call('pair', { period: 3_600_000, dbName: 'bench' });
    await load.call('open', { servers: pair.servers, first: pair.serving === 'A' ? 0 : 1, sockets: cfg.sockets });
    await load.call('setup', { publishers, fanout: Number(fanout), prefix: '' });
    const k0 = await server.call('counters');
    const c0 = await server.call('cpu');
    const t = await load.call('throughput', { warmupMs: cfg.warmupMs, durationMs: cfg.durationMs });
    const c1 = await server.call('cpu');
    const k1 = await server.call('counters');
    const per = Math.max(1, t.ackedAll);
    const cpuUs = (cpuSeconds(c0, c1) * 1e6) / per;
    const d = delta(k0, k1, per);
    process.stderr.write(`fan-out ${fanout}, ${publishers} publishers: ${Math.round(t.rate)} publishes/s, ${Math.round(cpuUs)} µs server CPU per publish, ` +
      `p50 ${t.latency.p50?.toFixed(1)} ms, ${t.retransmits} request retransmissions; per publish: ${JSON.stringify(d)}\n`);
    process.stdout.write(`${JSON.stringify({ ref: ref ?? 'worktree', fanout: Number(fanout), publishers, rate: t.rate, cpuUs, perPublish: d })}\n`);
  } finally {
    await stop(load);
    await stop(server);
  }
}
