/**
 * Splits a TCP byte stream into whole wire messages using the int32 length
 * prefix. Pure: feed chunks in, get complete message buffers out.
 */
import { EngineError } from '../errors.js';
import { Limits } from './constants.js';

/** Accumulates stream chunks and yields complete messages. */
export class Framer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds a chunk; returns every message now complete (possibly none). */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    while (this.buffered >= 4) {
      let head = this.chunks[0];
      if (head.length < 4) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const len = head.readInt32LE(0);
      if (len < Limits.headerSize || len > Limits.maxMessageSizeBytes) {
        throw new EngineError('ProtocolError', `invalid message length ${len}`);
      }
      if (this.buffered < len) break;
      if (head.length < len) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      out.push(head.subarray(0, len));
      const rest = head.subarray(len);
      this.buffered -= len;
      if (rest.length > 0) this.chunks[0] = rest;
      else this.chunks.shift();
    }
    return out;
  }
}
