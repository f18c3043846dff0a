/**
 * User requests that reach a server told to take over before it serves. At
 * a handoff the old server sends TAKEOVER, then CHANGE-SERVER to every user;
 * a user that switches at once can reach this server while it still fences
 * and loads its state. A native client would retransmit, but canonical text
 * and pickle clients do not: without this, their first request after a
 * handoff could go unanswered. Held only for a short window opened by a
 * verified TAKEOVER (takeover-window.ts), bounded in count and bytes, and
 * handed back to the intake (with every check it makes) once the server
 * serves.
 */
import type { DialectName } from '../protocol/messages';
import type { NativeFrame } from '../protocol/native';
import type { Address } from '../transport/types';
import type { HandledRequest } from './handlers';
import type { TakeoverWindow } from './takeover-window';

export interface HeldRequest {
  req: HandledRequest;
  dialect: DialectName;
  from: Address;
  bytes: Uint8Array;
  frame?: NativeFrame;
}

export interface HeldLimits {
  maxRequests: number;
  maxBytes: number;
}

export const defaultHeldLimits = (): HeldLimits => ({ maxRequests: 1024, maxBytes: 1 << 20 });

export class HeldRequests {
  private items: HeldRequest[] = [];
  private bytes = 0;
  /** Requests not held because the window was full. */
  overflow = 0;

  constructor(
    private readonly window: TakeoverWindow,
    private readonly limits: HeldLimits = defaultHeldLimits(),
  ) {
    // Nothing is held past the window (the takeover did not happen, or the server stopped or went standby).
    window.onClose(() => this.clear());
  }

  /** Whether a request arriving now is held (it is, while the window is open and within the bounds). */
  hold(item: HeldRequest): boolean {
    if (this.window.heardAt() === undefined) return false;
    if (this.items.length >= this.limits.maxRequests || this.bytes + item.bytes.length > this.limits.maxBytes) {
      this.overflow++;
      return false;
    }
    this.items.push(item);
    this.bytes += item.bytes.length;
    return true;
  }

  /** The server serves: what was held, oldest first. */
  release(): HeldRequest[] {
    const out = this.items;
    this.clear();
    return out;
  }

  /** Nothing held any more. */
  clear(): void {
    this.items = [];
    this.bytes = 0;
  }

  get size(): number {
    return this.items.length;
  }
}
