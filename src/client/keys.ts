/**
 * Where a client keeps the user keys it agreed at REGISTER, by user name.
 * The library keeps them in memory; the command line keeps them in its
 * identity file (cli/client-identity.ts), scoped to one server pair.
 */
export interface KeyRing {
  get(name: string): Buffer | undefined;
  set(name: string, key: Buffer): void;
  delete(name: string): void;
  /** The names this ring holds a key for (the users this client acts for). */
  names(): string[];
}

/** Keys for the lifetime of one RssClient. */
export class MemoryKeyRing implements KeyRing {
  private readonly keys = new Map<string, Buffer>();

  get(name: string): Buffer | undefined {
    return this.keys.get(name);
  }

  set(name: string, key: Buffer): void {
    this.keys.set(name, Buffer.from(key));
  }

  delete(name: string): void {
    this.keys.delete(name);
  }

  names(): string[] {
    return [...this.keys.keys()];
  }
}
