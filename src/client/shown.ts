/**
 * Where a client remembers, per user, the highest seq it has shown, so a
 * client started again (a `listen` restarted after a server crash) does not
 * show a text a second time when the server, whose coalesced cursor write the
 * crash cut short, pushes it again. The library keeps it in memory only (no
 * log given); the command line keeps it in a file next to its identity
 * (cli/client-shown.ts).
 */
export interface ShownLog {
  /** The highest seq shown to `name` by an earlier run (0 when none, or when it was shown under another key). */
  get(name: string): number;
  /** `seq` was just shown to `name`; may be written later (see flush). */
  set(name: string, seq: number): void;
  /** Write what set() recorded; called when the client closes. */
  flush(): void;
}
