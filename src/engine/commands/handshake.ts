/** Connection-level commands: hello/isMaster, ping, buildInfo and friends. */
import type { Document } from 'bson';
import { Limits } from '../wire/constants.js';
import type { CommandContext, Handler } from './context.js';

/** Version reported by buildInfo: a 7.0 server, which wire version 21 corresponds to. */
const SERVER_VERSION = '7.0.0';

function hello(cmd: Document, ctx: CommandContext, legacy: boolean): Document {
  const wanted = Array.isArray(cmd.compression) ? (cmd.compression as unknown[]) : [];
  const compression = ctx.compressors.filter((c) => wanted.includes(c));
  return {
    ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
    helloOk: true,
    maxBsonObjectSize: Limits.maxBsonObjectSize,
    maxMessageSizeBytes: Limits.maxMessageSizeBytes,
    maxWriteBatchSize: Limits.maxWriteBatchSize,
    localTime: new Date(),
    // Sessions are accepted (lsid on every command) but carry no server-side state.
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ...(compression.length ? { compression } : {}),
    ok: 1,
  };
}

function buildInfo(): Document {
  return {
    version: SERVER_VERSION,
    versionArray: SERVER_VERSION.split('.').map(Number).concat(0),
    gitVersion: 'rss-engine',
    bits: 64,
    maxBsonObjectSize: Limits.maxBsonObjectSize,
    storageEngines: ['rss-memory'],
    ok: 1,
  };
}

/** Handlers of this family, by command name. */
export const handshakeCommands: Record<string, Handler> = {
  hello: (cmd, ctx) => hello(cmd, ctx, false),
  isMaster: (cmd, ctx) => hello(cmd, ctx, true),
  ismaster: (cmd, ctx) => hello(cmd, ctx, true),
  ping: () => ({ ok: 1 }),
  buildInfo: () => buildInfo(),
  buildinfo: () => buildInfo(),
  endSessions: () => ({ ok: 1 }),
  whatsmyuri: (_cmd, ctx) => ({ you: `connection ${ctx.connectionId}`, ok: 1 }),
  getLastError: () => ({ err: null, n: 0, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  hostInfo: () => ({ system: { currentTime: new Date(), hostname: 'localhost' }, os: {}, extra: {}, ok: 1 }),
};
