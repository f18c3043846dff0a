/**
 * `node --import tsx bench/wake-cost.ts [waits]` (pin it with `taskset -c 0`
 * to match the bench's server)
 *
 * What one sleep of the event loop costs in CPU on this machine: a bare
 * loop that waits on a timer again and again, with nothing else to do.
 * Each wait puts the thread to sleep in epoll and wakes it, and the CPU
 * that costs (the kernel's and the hypervisor's) is charged to the process.
 * A server at a moderate rate sleeps between most datagrams and pays it
 * each time; at its maximum it rarely sleeps. That is why a publish costs
 * more CPU at half the maximum rate than at the maximum
 * (docs/BENCHMARKS.md, "Session 12"). `setImmediate` is the same loop
 * turning without sleeping, for comparison.
 */
const waits = Number(process.argv[2] ?? 2000);

async function measure(label: string, wait: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 200; i++) await wait();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < waits; i++) await wait();
  const used = process.cpuUsage(cpu);
  const wall = (performance.now() - t0) / waits;
  process.stdout.write(`${label}: ${((used.user + used.system) / waits).toFixed(1)} µs CPU per wait (${wall.toFixed(2)} ms each)\n`);
}

await measure('setImmediate (no sleep)', () => new Promise((r) => setImmediate(r)));
for (const ms of [0, 1, 2]) await measure(`setTimeout ${ms} ms (a sleep)`, () => new Promise((r) => setTimeout(r, ms)));

export {};
