/**
 * The demo's dashboard in headless Chromium, the way a person meets it:
 * `rss demo` (built CLI) prints the dashboard's URL; the page shows both
 * servers with the serving one marked, a click on "Handoff now" swaps the
 * roles within a second, a text published with `rss client` appears, a click
 * on "Kill A" shows A stopped and B serving, chaos goes on and off, and a screenshot is written
 * (test-output/dashboard.png) for a person to look at.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rss, type Child } from '../helpers/processes';
import { chromiumAvailable, launchChromium } from './browser';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOT_DIR = join(ROOT, 'test-output');
const present = chromiumAvailable('test/browser/dashboard.test.ts');

let home = '';
let env: NodeJS.ProcessEnv = {};
let demo: Child | undefined;
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;

beforeAll(() => {
  if (!present) return;
  // The build is current: `npm test` builds first.
  if (!statSync(join(ROOT, 'dist/rss.cjs'), { throwIfNoEntry: false })) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });
  home = mkdtempSync(join(tmpdir(), 'rss-dashboard-'));
  env = { HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config') };
});

afterAll(async () => {
  await chromium?.close();
  await demo?.kill('SIGKILL');
  if (home) rmSync(home, { recursive: true, force: true });
});

async function client(servers: string, ...args: string[]): Promise<void> {
  const c = rss(['client', '--servers', servers, ...args], env);
  const code = await new Promise<number | null>((resolve) => c.proc.once('exit', (n) => resolve(n)));
  expect(code, c.lines.join('\n')).toBe(0);
}

// Code run in the page is given as text: this project's TypeScript has no DOM types.
/** The role the page shows for a server. */
const role = (page: Page, tag: string) => page.evaluate(`document.querySelector('[data-server="${tag}"]')?.dataset.role`) as Promise<string | undefined>;
/** Wait until the page's text in `selector` includes `text`. */
const shows = (page: Page, selector: string, text: string, timeout = 5000) =>
  page.waitForFunction(`document.querySelector(${JSON.stringify(selector)})?.textContent?.includes(${JSON.stringify(text)})`, { timeout });

describe.skipIf(!present)('the demo dashboard in Chromium', () => {
  it('shows both servers, swaps roles on a handoff within a second, shows a published text and a kill, and is screenshotted', async () => {
    demo = rss(['demo', '--period', '5m', '--engine', 'embedded'], env);
    const ready = await demo.waitFor(/ready in/, 20_000);
    const url = /dashboard (http:\/\/127\.0\.0\.1:\d+\/)/.exec(ready)?.[1];
    expect(url, ready).toBeDefined();
    const m = /A (\S+), B (\S+),/.exec(ready)!;
    const servers = `${m[1]},${m[2]}`;

    chromium = await launchChromium();
    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1360, height: 900, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    // Nothing but the dashboard's own origin is asked for (no CDN).
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url!) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    await page.goto(url!, { waitUntil: 'load' });

    await expect.poll(() => role(page, 'A'), { timeout: 5000 }).toBe('serving');
    expect(await role(page, 'B')).toBe('standby');
    await shows(page, '#conn', 'live');

    for (const args of [['register', 'alice'], ['register', 'bob'], ['subjects', 'alice', 'news'], ['subjects', 'bob', 'news,sport']]) await client(servers, ...args);
    await client(servers, 'publish', 'alice', 'news', 'hello from the command line');
    await shows(page, '#texts', 'hello from the command line');
    await page.waitForFunction("document.querySelectorAll('#users tr[data-user]').length === 2", { timeout: 5000 });
    const users = (await page.evaluate("document.querySelector('#users').textContent")) as string;
    expect(users).toContain('alice');
    expect(users).toMatch(/news.*sport/);
    // No address is on the page.
    const text = (await page.evaluate('document.body.innerText')) as string;
    expect(text).not.toMatch(/127\.0\.0\.1:\d+/);

    const clicked = Date.now();
    await page.click('#btn-handoff');
    await page.waitForFunction(
      `document.querySelector('[data-server="B"]')?.dataset.role === 'serving' && document.querySelector('[data-server="A"]')?.dataset.role === 'standby'`,
      { timeout: 1000, polling: 20 },
    );
    const swapMs = Date.now() - clicked;
    expect(swapMs).toBeLessThan(1000);
    await shows(page, '#timeline', 'handoff A → B', 2000);

    await page.click('#btn-chaos-on');
    await shows(page, '#chaos-state', 'chaos drop=');
    await page.click('#btn-chaos-off');
    await shows(page, '#chaos-state', 'chaos off');

    await client(servers, 'publish', 'bob', 'sport', 'goal! after the handoff');
    await shows(page, '#texts', 'goal! after the handoff');

    await page.click('[data-server="A"] button[data-action="kill"]');
    await expect.poll(() => role(page, 'A'), { timeout: 3000 }).toBe('stopped');
    expect(await role(page, 'B')).toBe('serving');
    await page.click('[data-server="A"] button[data-action="start"]');
    await expect.poll(() => role(page, 'A'), { timeout: 5000 }).toBe('standby');
    await client(servers, 'publish', 'alice', 'news', 'A is back as the standby');
    await shows(page, '#texts', 'A is back');
    await shows(page, '#timeline', 'A killed');

    mkdirSync(SHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SHOT_DIR, 'dashboard.png') as `${string}.png`, fullPage: true });
    process.stdout.write(`dashboard: roles swapped ${swapMs} ms after the click; screenshot in test-output/dashboard.png\n`);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
