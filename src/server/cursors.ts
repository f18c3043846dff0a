/**
 * Each user's cursor (every text numbered up to it received), held in
 * memory by the serving server and written coalesced: every cursor that
 * moved goes to the store (Store.saveCursors, `$max`) at most every
 * FLUSH_MS (longer when many users move: flushDelay, at most MAX_FLUSH_MS),
 * before a planned handoff moves the lease, and at a clean stop,
 * in commands of at most FLUSH_SLICE users, one after the other. A crash
 * loses the writes not yet answered: those texts are owed again and pushed
 * again (a native client drops sequence numbers it showed; a canonical text
 * user may see one twice). A RETRIEVE-TEXTS writes its mark at once
 * (`saveNow`): it is rare, and a pickle client cannot tell a repeat.
 */
import { StorageError } from '../errors';
import { within, type Clock, type TimerHandle } from '../util/clock';

/** Time a moved cursor waits in memory before it is written, when few users move. */
export const FLUSH_MS = 200;

/**
 * The wait before the next flush per user the last flush wrote, and its
 * ceiling. Writing a cursor costs the server about 11 µs (driver, BSON,
 * the embedded engine's update); every 200 ms, 2,560 listeners that each
 * received a text or two meanwhile cost 6 cursor writes per publish at
 * fan-out 10, as much as a sixth of the publish. Waiting 0.25 ms per user
 * written bounds cursor writing to about 4% of the thread up to 4,000 users
 * moving per flush (more, and the ceiling holds it to one flush a second),
 * while a crash loses about MAX_FLUSH_MS of cursor moves, plus a flush's
 * own write and retries (texts pushed again, which a native client drops
 * as seen).
 */
export const FLUSH_MS_PER_USER = 0.25;
export const MAX_FLUSH_MS = 1000;

/** The wait before a flush after one that wrote `users` cursors. */
export function flushDelay(users: number): number {
  return Math.min(MAX_FLUSH_MS, Math.max(FLUSH_MS, users * FLUSH_MS_PER_USER));
}

/**
 * Most users in one cursor command. The embedded engine runs a command
 * whole, in the server's own thread, at about 8 µs per user: one command for
 * 256 users held every datagram 2-4 ms, every 200 ms. A slice of 128 holds
 * them about 1 ms, and the datagrams that came meanwhile are served between
 * two slices.
 */
export const FLUSH_SLICE = 128;

/**
 * Longest wait for one cursor command. A write that never settles (a
 * connection the driver lost without telling) would hold every later flush,
 * and with it the handoff's drain, for good; given up, its cursors are moved
 * again for the next flush, and a late landing is harmless (`$max`).
 */
export const WRITE_DEADLINE_MS = 5000;

/** A user's cursor to write (`$max`: a lower one than stored changes nothing). */
export interface CursorWrite {
  user: string;
  cursor: number;
}

export interface CursorStore {
  saveCursors(writes: CursorWrite[]): Promise<void>;
}

/**
 * A user's cursor, and whether it moved since it was last written: one
 * lookup by name per ACK (a cursor moves for nearly every push).
 */
interface Cell {
  readonly user: string;
  cursor: number;
  /** On the dirty list (moved since it was last written). */
  moved: boolean;
}

export class Cursors {
  private readonly at = new Map<string, Cell>();
  /**
   * Cells whose cursor moved since it was last written, each once. A cell
   * replaced or forgotten meanwhile is no longer the user's (see take()).
   */
  private dirty: Cell[] = [];
  private timer: TimerHandle | undefined;
  /** The flush writing now: one at a time (a flush waits for it, see flush()). */
  private writing: Promise<void> | undefined;
  /** Cursor commands done, and cursors written by them (how well they coalesce; read by tests and benches). */
  readonly stats = { cursorWrites: 0, cursorsWritten: 0 };
  /** Cursors the last timed flush took: sets the wait before the next (flushDelay). */
  private lastFlushed = 0;

  constructor(
    private readonly store: CursorStore,
    private readonly clock: Clock,
    private readonly failed: (err: unknown) => void,
  ) {}

  /** Replace everything with the cursors stored (at takeover). */
  load(users: Iterable<{ _id: string; cursor?: number }>): void {
    this.clear();
    for (const u of users) this.at.set(u._id, { user: u._id, cursor: u.cursor ?? 0, moved: false });
  }

  /** Forget everything unwritten (the lease is gone; what was not written is owed again). */
  clear(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.at.clear();
    this.dirty = [];
  }

  get(user: string): number {
    return this.at.get(user)?.cursor ?? 0;
  }

  /** A new user, stored with this cursor (a moved cell of an earlier user of the name is not written). */
  start(user: string, cursor: number): void {
    this.at.set(user, { user, cursor, moved: false });
  }

  /** The user is gone (de-registered): nothing of it is written any more. */
  forget(user: string): void {
    this.at.delete(user);
  }

  /** The user received every text up to `seq`; written within flushDelay (FLUSH_MS to MAX_FLUSH_MS). */
  advance(user: string, seq: number): void {
    const cell = this.at.get(user);
    if (cell === undefined || seq <= cell.cursor) return;
    cell.cursor = seq;
    this.moved(cell);
    this.arm();
  }

  private moved(cell: Cell): void {
    if (cell.moved) return;
    cell.moved = true;
    this.dirty.push(cell);
  }

  private arm(): void {
    this.timer ??= this.clock.after(flushDelay(this.lastFlushed), () => {
      this.timer = undefined;
      this.lastFlushed = this.dirty.length;
      this.flush().catch((err) => {
        this.failed(err);
        if (this.dirty.length > 0) this.arm();
      });
    });
  }

  /** Advance and write this user's cursor now (with any others waiting). */
  async saveNow(user: string, seq: number): Promise<void> {
    this.advance(user, seq);
    await this.flush();
  }

  /**
   * Write every moved cursor, FLUSH_SLICE users per command. One flush at a
   * time: a flush called while another writes (the handoff's, during the
   * timer's) waits for it, since the cursors it took are not stored yet,
   * then writes whatever is still moved, those it failed to write included.
   * So when a flush resolves, every cursor moved before it was called is
   * stored. A failure leaves the unwritten ones to the next flush.
   */
  async flush(): Promise<void> {
    while (this.writing) await this.writing.catch(() => {});
    if (this.dirty.length === 0) return;
    const writing = this.writeSlices(this.take());
    this.writing = writing;
    try {
      await writing;
    } finally {
      if (this.writing === writing) this.writing = undefined;
    }
  }

  /**
   * The lease is gone: write what moved, at once and beside any flush still
   * out (best effort: `$max` makes a late write harmless), and forget
   * everything. The cursors are taken before they are forgotten, so none
   * that moved is dropped unwritten.
   */
  release(): Promise<void> {
    const writes = this.take();
    this.clear();
    return this.writeSlices(writes);
  }

  /** The moved cursors as they are now; a cursor moving after this is moved again (and written by the next flush). */
  private take(): CursorWrite[] {
    const writes: CursorWrite[] = [];
    for (const cell of this.dirty) {
      cell.moved = false;
      // Forgotten, or replaced by a new user of the name, since it moved: not written.
      if (this.at.get(cell.user) === cell) writes.push({ user: cell.user, cursor: cell.cursor });
    }
    this.dirty = [];
    return writes;
  }

  private async writeSlices(writes: CursorWrite[]): Promise<void> {
    for (let i = 0; i < writes.length; i += FLUSH_SLICE) {
      const slice = writes.slice(i, i + FLUSH_SLICE);
      try {
        await this.withDeadline(this.store.saveCursors(slice));
        this.stats.cursorWrites++;
        this.stats.cursorsWritten += slice.length;
      } catch (err) {
        // This slice and those after it stay moved, for the next flush (unless the user is gone or the lease was).
        for (const w of writes.slice(i)) {
          const cell = this.at.get(w.user);
          if (cell !== undefined) this.moved(cell);
        }
        throw err;
      }
    }
  }

  private withDeadline(write: Promise<void>): Promise<void> {
    return within(this.clock, WRITE_DEADLINE_MS, write, () => new StorageError(`a cursor write had no answer within ${WRITE_DEADLINE_MS} ms`));
  }
}
