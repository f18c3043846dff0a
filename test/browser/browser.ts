/**
 * Headless Chromium for tests: Debian's `chromium` package (.ci/run
 * installs it), driven by puppeteer-core, with a fresh profile and nothing
 * reaching outside the machine. Never downloads a browser.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM = process.env.RSS_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser is there; under CI its absence is a failure, elsewhere a skip with the reason printed. */
export function chromiumAvailable(file: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium package`);
  process.stdout.write(`${file}: skipped, ${CHROMIUM} is missing (apt-get install -y chromium)\n`);
  return false;
}

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'rss-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
