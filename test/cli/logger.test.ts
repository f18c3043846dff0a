import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, formatRecord, readableDestination } from '../../src/cli/logger';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

const none = new Chalk({ level: 0 });
const time = new Date(2024, 0, 2, 13, 4, 5, 67).getTime();

describe('formatRecord', () => {
  it('writes time, level, where, message and key=value pairs on one line', () => {
    const line = formatRecord(
      { level: 20, time, server: 'A', component: 'udp', msg: 'datagram received', dir: 'in', peer: '127.0.0.1:5000', bytes: 61, type: 'PUBLISH', name: 'ann' },
      none,
    );
    expect(line).toBe('13:04:05.067 DEBUG [A/udp] datagram received dir=in peer=127.0.0.1:5000 bytes=61 type=PUBLISH name=ann');
  });

  it('quotes values with blanks, writes objects as JSON, and survives odd records', () => {
    expect(formatRecord({ level: 40, time, msg: 'request not executed', err: 'Error: lease lost', n: { a: 1 } }, none))
      .toBe('13:04:05.067 WARN  request not executed err="Error: lease lost" n={"a":1}');
    expect(formatRecord({ level: 99 }, none)).toBe('--:--:--.--- 99');
  });

  it('colors the level only when the painter does', () => {
    const colored = formatRecord({ level: 50, time, msg: 'x' }, new Chalk({ level: 1 }));
    expect(colored).toContain('\u001b[31mERROR');
    expect(formatRecord({ level: 50, time, msg: 'x' }, none)).not.toContain('\u001b');
  });
});

describe('readableDestination', () => {
  it('turns JSON lines into readable lines and passes anything else through', () => {
    const out: string[] = [];
    const d = readableDestination({ write: (s) => out.push(s) }, none);
    d.write(`${JSON.stringify({ level: 30, time, msg: 'hello' })}\n`);
    d.write('not json\n');
    expect(out).toEqual(['13:04:05.067 INFO  hello\n', 'not json\n']);
  });
});

describe('createLogger', () => {
  it('refuses an unknown level, naming it', async () => {
    await expect(createLogger('loud')).rejects.toThrow(/invalid log level "loud"/);
  });

  it('writes JSON lines to --log-file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rss-log-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'sub', 'rss.log');
    const log = await createLogger('debug', file);
    log.child({ server: 'B' }).debug({ dir: 'out', bytes: 3 }, 'datagram sent');
    log.info({}, 'ready');
    // The file is written asynchronously: wait until both lines are in it.
    const lines = async () => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    await expect.poll(lines, { timeout: 5_000 }).toMatchObject([
      { level: 20, server: 'B', dir: 'out', bytes: 3, msg: 'datagram sent' },
      { level: 30, msg: 'ready' },
    ]);
  });

  it('is readable on a terminal, without color under NO_COLOR, and honours the level', async () => {
    const out: string[] = [];
    const stderr = { isTTY: true, write: (s: string) => out.push(s) };
    const log = await createLogger('info', undefined, { stderr, env: { NO_COLOR: '1' } });
    log.debug({}, 'hidden');
    log.child({ server: 'A' }).warn({ epoch: 3 }, 'lease lost');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  \[A\] lease lost epoch=3\n$/);
  });
});
