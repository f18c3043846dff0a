/**
 * The TCP transport: the only module that touches node:net. Frames the byte
 * stream, decodes requests, runs them through the core and writes replies in
 * request order per connection. When a command changed data and a journal is
 * attached, the reply is held until the journal reports the change durable.
 */
import type { Document } from 'bson';
import { createServer, type Server, type Socket } from 'node:net';
import type { EngineCore } from './core.js';
import { errorReply } from './commands/dispatch.js';
import type { Mutation } from './storage/mutation.js';
import { compressMessage, decodeMessage, encodeMsg, encodeReply, type Request } from './wire/codec.js';
import { MsgFlags } from './wire/constants.js';
import { Framer } from './wire/framer.js';

/** Makes a command's mutations durable; resolves once they are on disk. */
export type Persist = (mutations: Mutation[]) => Promise<void>;

/** Commands whose replies are never compressed (the compression spec's exclusion list). */
const NEVER_COMPRESS = new Set(['hello', 'isMaster', 'ismaster', 'saslStart', 'saslContinue', 'getnonce', 'authenticate', 'createUser', 'updateUser', 'copydbSaslStart', 'copydbgetnonce', 'copydb']);

/** Serves the wire protocol for one engine core. */
export class WireServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private nextConnectionId = 1;
  private nextRequestId = 1;

  constructor(
    private readonly core: EngineCore,
    private readonly persist: Persist | undefined,
    private readonly warn: (msg: string) => void,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Stops accepting, closes every connection and waits for the listener to close. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const connectionId = this.nextConnectionId++;
    const framer = new Framer();
    const queue: Buffer[] = [];
    let busy = false;
    const pump = (): void => {
      while (queue.length > 0 && !socket.destroyed) {
        const pending = this.handle(queue.shift()!, socket, connectionId);
        if (pending) {
          busy = true;
          pending.then(
            () => {
              busy = false;
              pump();
            },
            (err: unknown) => {
              this.warn(`engine: connection ${connectionId} failed: ${String(err)}`);
              socket.destroy();
            },
          );
          return;
        }
      }
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const m of framer.push(chunk)) queue.push(m);
      } catch (err) {
        // A corrupt length prefix leaves no way to resynchronise: drop the connection as mongod does.
        this.warn(`engine: closing connection ${connectionId}: ${(err as Error).message}`);
        socket.destroy();
        return;
      }
      if (!busy) pump();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Handles one message; returns a promise only when the reply waits for the journal. */
  private handle(raw: Buffer, socket: Socket, connectionId: number): Promise<void> | undefined {
    let req: Request;
    try {
      req = decodeMessage(raw);
    } catch (err) {
      this.warn(`engine: closing connection ${connectionId}: ${(err as Error).message}`);
      socket.destroy();
      return undefined;
    }
    let body = req.body;
    let db: string;
    if (req.kind === 'query') {
      // Legacy OP_QUERY is only accepted for commands ("<db>.$cmd"), i.e. the first handshake.
      db = req.collection.slice(0, req.collection.indexOf('.'));
      if (body.$query && typeof body.$query === 'object') body = body.$query as Document;
    } else {
      db = typeof body.$db === 'string' ? body.$db : 'admin';
    }
    const { reply, mutations } =
      req.kind === 'query' && !req.collection.endsWith('.$cmd')
        ? { reply: errorReply(new Error('OP_QUERY is only supported for commands')), mutations: [] }
        : this.core.execute(db, body, connectionId);
    const send = (doc: Document): void => {
      if (req.kind === 'msg' && req.flags & MsgFlags.moreToCome) return; // fire-and-forget (w:0)
      const requestId = this.nextRequestId++ & 0x7fffffff;
      let out = req.kind === 'query' ? encodeReply(requestId, req.requestId, doc) : encodeMsg(requestId, req.requestId, doc);
      if (req.compressor !== undefined && !NEVER_COMPRESS.has(Object.keys(body)[0])) out = compressMessage(out, req.compressor);
      socket.write(out);
    };
    if (mutations.length === 0 || !this.persist) {
      send(reply);
      return undefined;
    }
    return this.persist(mutations).then(
      () => send(reply),
      (err: unknown) => {
        this.warn(`engine: journal write failed: ${String(err)}`);
        send(errorReply(err));
      },
    );
  }
}
