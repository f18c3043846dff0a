/**
 * `node --import tsx bench/mac.bench.ts`: CPU µs per native MAC, the Hmac
 * object (createHmac) against src/protocol/mac.ts (a new Buffer, or written
 * in place as the codec does), for datagrams of the
 * sizes an acknowledged publish sends (ACK ~100 B, unpadded PUBLISH ~200 B,
 * padded PUBLISH 400 B). process.cpuUsage, the best of 8 interleaved
 * rounds, so other work on the machine inflates it less.
 */
import { createHmac } from 'node:crypto';
import { hmacSha256, hmacSha256Into } from '../src/protocol/mac';

const key = Buffer.alloc(32, 7);
const out = Buffer.alloc(32);
const variants = {
  createHmac: (d: Buffer) => createHmac('sha256', key).update(d).digest(),
  hmacSha256: (d: Buffer) => hmacSha256(d, key),
  hmacSha256Into: (d: Buffer) => hmacSha256Into(d, key, out, 0),
};
for (const size of [100, 200, 400]) {
  const data = Buffer.alloc(size, 1);
  const best: Record<string, number> = {};
  for (let round = 0; round < 8; round++) {
    for (const [name, f] of Object.entries(variants)) {
      const n = 50_000;
      const t = process.cpuUsage();
      for (let i = 0; i < n; i++) f(data);
      const u = process.cpuUsage(t);
      best[name] = Math.min(best[name] ?? Infinity, (u.user + u.system) / n);
    }
  }
  console.log(`${size} B: ${Object.entries(best).map(([k, v]) => `${k} ${v.toFixed(2)} µs`).join(', ')}`);
}
