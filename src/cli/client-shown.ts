/**
 * The command line's record of the highest seq shown per user (the
 * client's ShownLog), in a file next to the identity file:
 *
 *   {"<servers>": {"bob": {"key": "<fingerprint>", "seq": 4812}}}
 *
 * Each number is filed with a fingerprint of the user key it was shown
 * under: a REGISTER agrees a new key (a name registered again, or a store
 * that started empty and numbers from 1 again), and then the old number
 * no longer applies. Writes are coalesced (a listener may show hundreds of
 * texts a second) and made at close; each re-reads the file and replaces it
 * atomically, keeping the larger number, so two listeners do not undo each
 * other.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyRing, ShownLog } from '../client';
import { writeDoc } from './client-identity';

/** How long a shown number may wait before it is written (a crash of the listener itself may show these again). */
const WRITE_AFTER_MS = 100;

interface Entry {
  key: string;
  seq: number;
}
type ShownDoc = Record<string, Record<string, Entry>>;

/** The record's file for an identity file: `x.json` → `x.shown.json`. */
export function shownFileFor(identityFile: string): string {
  return `${identityFile.replace(/\.json$/, '')}.shown.json`;
}

/** A short, one-way name for a user key: the file never holds the key itself. */
function fingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 16);
}

export class FileShownLog implements ShownLog {
  /** Shown since the last write, with the key it was shown under (fingerprinted when written). */
  private readonly pending = new Map<string, { key: Buffer; seq: number }>();
  /** This scope's entries as the file held them when first asked (read once). */
  private earlier: Record<string, Entry> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly file: string, private readonly scope: string, private readonly keys: KeyRing) {}

  get(name: string): number {
    const key = this.keys.get(name);
    if (!key) return 0;
    const mine = this.pending.get(name);
    if (mine) return mine.key.equals(key) ? mine.seq : 0;
    this.earlier ??= readDoc(this.file)[this.scope] ?? {};
    const e = this.earlier[name];
    return e && e.key === fingerprint(key) && Number.isSafeInteger(e.seq) ? e.seq : 0;
  }

  set(name: string, seq: number): void {
    const key = this.keys.get(name);
    if (!key) return;
    this.pending.set(name, { key, seq });
    this.timer ??= setTimeout(() => this.flush(), WRITE_AFTER_MS).unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const doc = readDoc(this.file);
    const users = { ...doc[this.scope] };
    for (const [name, shown] of this.pending) {
      const e = { key: fingerprint(shown.key), seq: shown.seq };
      const before = users[name];
      users[name] = before && before.key === e.key && before.seq > e.seq ? before : e;
    }
    this.pending.clear();
    writeDoc(this.file, { ...doc, [this.scope]: users });
    // What get() falls back on from now: the file as just written (the one read first is stale now).
    this.earlier = users;
  }
}

function readDoc(file: string): ShownDoc {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as ShownDoc) : {};
  } catch {
    // Missing or damaged: the worst outcome is a text shown again, so start afresh rather than refuse to run.
    return {};
  }
}
