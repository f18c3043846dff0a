/**
 * The dashboard's files: the page, its script and style, and the chart
 * library (uPlot). The bundle carries them (scripts/build.mjs defines
 * RSS_ASSETS from page/assets.json), so the single executable serves them
 * offline; run from source, they are read from the checkout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import files from './page/assets.json';

export type AssetName = keyof typeof files;

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
};

let loaded: Record<string, string> | undefined;

function all(): Record<string, string> {
  if (loaded) return loaded;
  if (typeof RSS_ASSETS === 'string') loaded = JSON.parse(RSS_ASSETS) as Record<string, string>;
  else loaded = Object.fromEntries(Object.entries(files).map(([name, path]) => [name, readFileSync(join(process.cwd(), path), 'utf8')]));
  return loaded;
}

/** The asset's text and content type, or undefined for a name that is not one. */
export function asset(name: string): { body: string; type: string } | undefined {
  if (!Object.hasOwn(files, name)) return undefined;
  const body = all()[name];
  if (body === undefined) return undefined;
  return { body, type: TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream' };
}
