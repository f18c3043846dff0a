/**
 * The MQTT baseline's load generator, as its own process: lean MQTT
 * clients (mqtt-lean.ts: packets framed by hand, each topic's PUBLISH
 * encoded once) in the same topology as the rss throughput scenario
 * (publisher p<i> alone publishes on topic t<i>, `fanout` subscribers
 * follow it), QoS 1 both ways (PUBLISH → PUBACK from the broker;
 * deliveries acknowledged by the subscribers), closed loop with one
 * outstanding publish per publisher: its next publish goes once the
 * broker's PUBACK *and* its subscribers' copies have arrived. (Aedes
 * acknowledges a publish before it delivers it; with the PUBACK alone, a
 * lean client makes it queue deliveries without bound — deliveries/s fell
 * to a fifth of publishes/s and the broker overflowed its stack — so its
 * publishes/s measured intake, not service. rss's closed loop needs no
 * such rule: its pushes leave with the publish, on the same core.)
 */
import { LeanMqtt, publishTemplate } from './mqtt-lean';
import { emitEvent, serveCommands } from './proc';
import { sleep, summarize } from './stats';

const PAYLOAD = Buffer.from('x'.repeat(64));
interface Publisher {
  client: LeanMqtt;
  template: ReturnType<typeof publishTemplate>;
  /** Copies of the last publish its subscribers have not received yet. */
  owed: number;
  /** Called when the last publish is acknowledged and delivered. */
  settled?: () => void;
  acked: boolean;
}
let publishers: Publisher[] = [];
let fanout = 0;
const subscribers: LeanMqtt[] = [];
let deliveries = 0;

async function windowed(n: number, window: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(window, n) }, async () => {
    while (next < n) await task(next++);
  }));
}

serveCommands({
  async setup(a: { port: number; publishers: number; fanout: number }) {
    const t0 = performance.now();
    publishers = new Array(a.publishers);
    fanout = a.fanout;
    await windowed(a.publishers * (a.fanout + 1), 32, async (k) => {
      const i = Math.floor(k / (a.fanout + 1));
      const j = k % (a.fanout + 1);
      const topic = `t${i}`;
      if (j === 0) {
        publishers[i] = { client: await LeanMqtt.open(a.port, `p${i}`), template: publishTemplate(topic, PAYLOAD), owed: 0, acked: true };
        return;
      }
      const c = await LeanMqtt.open(a.port, `l${i}_${j}`);
      c.onMessage = () => {
        deliveries++;
        const p = publishers[i];
        if (p && --p.owed <= 0 && p.acked) p.settled?.();
      };
      await c.subscribe(topic);
      subscribers.push(c);
    });
    return { users: a.publishers * (a.fanout + 1), ms: performance.now() - t0 };
  },

  async throughput(a: { warmupMs: number; durationMs: number }) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let ackedAll = 0;
    const from = t0 + a.warmupMs;
    const until = from + a.durationMs;
    let acked = 0;
    const lat: number[] = [];
    let d0 = 0;
    setTimeout(() => { d0 = deliveries; }, a.warmupMs);
    await new Promise<void>((resolve) => {
      let running = publishers.length;
      const next = (p: (typeof publishers)[number]) => {
        const at = performance.now();
        if (at >= until) {
          if (--running === 0) resolve();
          return;
        }
        p.owed = fanout;
        p.acked = false;
        p.settled = () => {
          p.settled = undefined;
          next(p);
        };
        p.client.publish(p.template, () => {
          const now = performance.now();
          ackedAll++;
          if (now >= from && now < until) { acked++; lat.push(now - at); }
          p.acked = true;
          if (p.owed <= 0) p.settled?.();
        });
      };
      for (const p of publishers) next(p);
    });
    const d1 = deliveries;
    await sleep(300);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    return {
      acked, rate: (acked / a.durationMs) * 1000, deliveries: d1 - d0, deliveryRate: ((d1 - d0) / a.durationMs) * 1000, latency: summarize(lat),
      window: publishers.length, ackedAll, seconds, loadCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    };
  },

  async close() {
    await Promise.all([...publishers.map((p) => p.client.close()), ...subscribers.map((c) => c.close())]);
    publishers = [];
    subscribers.length = 0;
    return true;
  },
});
emitEvent('up');
