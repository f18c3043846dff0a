/**
 * The one-shot operations of `rss client`: open a client, do one thing,
 * print it, and return the exit code (0 accepted, 1 denied, 2 usage error or
 * no answer). Callable in-process, so tests need no child process.
 */
import { EXCHANGE_LIFETIME_MS, formatAddress, policyForDeadline, resolveServers, RssClient, type Address } from '../client';
import { queryStatus, servingStatus } from '../client/status';
import { DeniedError, RssError, TimeoutError } from '../errors';
import { DENIAL_REASONS, type MessageOf } from '../protocol/messages';
import type { Logger } from '../util/log';
import { FileKeyRing, keyScope, loadClientId, rememberRing, withKnownRing } from './client-identity';
import { Printer, type CliIo } from './client-output';
import { FileShownLog, shownFileFor } from './client-shown';
import { formatStatusTable } from './status';

/** Exit codes of the client command. */
export const EXIT = { ok: 0, denied: 1, usage: 2 } as const;

/** Where and how to connect, from the command's options. */
export interface ConnectOptions {
  servers: Address[];
  bind?: Address;
  json?: boolean;
  /** Exchange lifetime override, ms. */
  timeoutMs?: number;
  /** Keep the client id and the user keys in this file (the command always does; without it a run gets a fresh id and no keys). */
  identityFile?: string;
  /** --log-level / --log-file: every datagram the client sends and receives is logged at debug level. */
  logger?: Logger;
}

/** Open a client for a command run. */
export async function openClient(conn: ConnectOptions): Promise<RssClient> {
  // Resolved first: the identity file names the pair by its addresses, however --servers spelled them.
  const resolved = await resolveServers(conn.servers, (conn.bind?.host ?? conn.servers[0].host).includes(':') ? 6 : 4);
  const file = conn.identityFile;
  // loadClientId creates the file, so what follows reads an existing one.
  const cid = file ? await loadClientId(file) : undefined;
  // A ring learned by an earlier command: ask all its servers, not only those given (and find keys kept under any of them).
  const servers = file ? withKnownRing(file, resolved) : resolved;
  const keys = file ? new FileKeyRing(file, keyScope(servers)) : undefined;
  const client = await RssClient.open({
    // With a logger, the log shows what the client itself sent and received.
    ...(conn.logger ? { logger: conn.logger, logDatagrams: true } : {}),
    // The last seq shown per user: a listener started again does not show again what the servers push again.
    ...(file && keys ? { cid, keys, shown: new FileShownLog(shownFileFor(file), keyScope(servers), keys) } : {}),
    servers,
    ...(conn.bind ? { bind: conn.bind } : {}),
    // The call gives up when --timeout (default 10 s) has run out, not earlier.
    policy: policyForDeadline(conn.timeoutMs ?? EXCHANGE_LIFETIME_MS),
  });
  // The next command, given only some of the ring's servers, will ask them all.
  if (file) client.on('ring', (servers) => rememberRing(file, servers));
  return client;
}

/** Denials that mean "you are not this user's client" (the other reasons say all there is to say). */
const NOT_YOURS = new Set([DENIAL_REASONS.auth, 'name already in use']);

/**
 * Why a denial may have happened here: the identity holds no key for the
 * name on this server pair (registered from another identity file, or
 * against other servers).
 */
function keyHint(err: DeniedError, client: RssClient | undefined, name: string | undefined): string | undefined {
  if (!client || name === undefined || !NOT_YOURS.has(err.message) || client.hasKey(name)) return undefined;
  return `this client's identity file holds no key for ${name} on these servers (${client.servers.map(formatAddress).join(',')}): ` +
    'another identity file (--identity) registered it, or it was registered with other servers';
}

/** Map an error of a call to its output and exit code; `hint` adds a line to a denial. */
export function report(err: unknown, printer: Printer, hint?: string): number {
  if (err instanceof DeniedError) {
    printer.denied(err, hint);
    return EXIT.denied;
  }
  if (err instanceof TimeoutError) {
    // The request went out: it may have been carried out and only the answer lost.
    printer.problem(`${err.message}: the outcome is unknown (the servers may have carried it out). Are they running, and is --servers right?`, err.code);
    return EXIT.usage;
  }
  printer.problem(err instanceof RssError ? err.message : String((err as Error)?.message ?? err), err instanceof RssError ? err.code : undefined);
  return EXIT.usage;
}

/** Run `op` (about user `name`, if any) with a fresh client; close it whatever happens. */
export async function oneShot(conn: ConnectOptions, io: CliIo, op: (c: RssClient, p: Printer) => Promise<void>, name?: string): Promise<number> {
  const printer = new Printer(io, conn.json ?? false);
  let client: RssClient | undefined;
  try {
    client = await openClient(conn);
    await op(client, printer);
    // A register/update that named this socket is followed by the server's CHALLENGE: answer it before exiting,
    // so the address is proven and later commands and listeners are not held up by a challenge to a dead socket.
    await client.challengesAnswered();
    return EXIT.ok;
  } catch (err) {
    return report(err, printer, err instanceof DeniedError ? keyHint(err, client, name) : undefined);
  } finally {
    await client?.close();
  }
}

/*
 * How each accepted request is shown: the one-shot commands and the menu print through these, so they agree.
 * `sayNone`: whether an empty list gets a line saying so (a person reads it; a script wants nothing).
 */
export const printRegistered = (p: Printer, r: MessageOf<'REGISTERED'>, name: string) => p.result(r, `registered ${name}`);

export const printDeregistered = (p: Printer, r: MessageOf<'DE-REGISTERED'>, name: string) => p.result(r, `de-registered ${name}`);

export const printUpdated = (p: Printer, r: MessageOf<'UPDATE-CONFIRMED'>, name: string) =>
  p.result(r, `${name} is now at ${formatAddress({ host: r.host, port: r.port })}`);

export const printSubjects = (p: Printer, r: MessageOf<'SUBJECTS-UPDATED'>, name: string) =>
  p.result(r, `${name} follows ${r.subjects.length ? r.subjects.join(', ') : 'no subjects'}`);

export const printPublished = (p: Printer, r: MessageOf<'PUBLISHED'>, subject: string) => p.result(r, `published on ${subject}`);

export function printRetrieved(p: Printer, r: MessageOf<'RETRIEVED'>, sayNone: boolean): void {
  for (const t of r.texts) p.text(t);
  if (r.texts.length === 0 && sayNone) p.info('(no texts)');
}

export function printWho(p: Printer, r: MessageOf<'WHO-LIST'>, sayNone: boolean): void {
  if (p.json) p.result(r, '');
  else if (r.users.length === 0 && sayNone) p.info('(nobody shares a subject)');
  else for (const u of r.users) p.info(`${u.name} ${u.online ? 'online' : 'offline'}`);
}

/** The serving server's figures (both servers' when neither says it serves), as the operator's table. */
export async function printStatus(p: Printer, servers: readonly Address[], timeoutMs: number): Promise<void> {
  const results = await queryStatus(servers, { timeoutMs, untilServing: true });
  const serving = servingStatus(results);
  if (!results.some((r) => r.status)) throw new RssError('RSS_TIMEOUT', `no server answered STATUS within ${timeoutMs} ms (are they running, and is --servers right?)`);
  if (p.json) p.result(serving ? { type: 'STATUS-REPORT', status: serving.status } : { type: 'STATUS-REPORT', servers: results }, '');
  else p.info(formatStatusTable(serving ? [serving] : results).trimEnd());
}

export const runRegister = (conn: ConnectOptions, io: CliIo, name: string, at?: Address) =>
  oneShot(conn, io, async (c, p) => printRegistered(p, await c.register(name, at), name), name);

export const runDeregister = (conn: ConnectOptions, io: CliIo, name: string) =>
  oneShot(conn, io, async (c, p) => printDeregistered(p, await c.deregister(name), name), name);

export const runUpdate = (conn: ConnectOptions, io: CliIo, name: string, at: Address) =>
  oneShot(conn, io, async (c, p) => printUpdated(p, await c.update(name, at), name), name);

export const runSubjects = (conn: ConnectOptions, io: CliIo, name: string, subjects: string[]) =>
  oneShot(conn, io, async (c, p) => printSubjects(p, await c.subjects(name, subjects), name), name);

export const runPublish = (conn: ConnectOptions, io: CliIo, name: string, subject: string, text: string) =>
  oneShot(conn, io, async (c, p) => printPublished(p, await c.publish(name, subject, text), subject), name);

export const runRetrieve = (conn: ConnectOptions, io: CliIo, name: string, last?: number) =>
  oneShot(conn, io, async (c, p) => printRetrieved(p, await c.retrieve(name, last === undefined ? {} : { last }), io.stdout.isTTY === true), name);

export const runWho = (conn: ConnectOptions, io: CliIo, name: string) =>
  oneShot(conn, io, async (c, p) => printWho(p, await c.who(name), false), name);

export const runStatus = (conn: ConnectOptions, io: CliIo) =>
  oneShot(conn, io, (c, p) => printStatus(p, c.servers, conn.timeoutMs ?? EXCHANGE_LIFETIME_MS));

/**
 * Keep a socket for `name`: point the user's address at it (UPDATE), fetch
 * what was missed, print texts as they arrive until `stop` aborts.
 */
export async function runListen(conn: ConnectOptions, io: CliIo, name: string, stop: AbortSignal): Promise<number> {
  const printer = new Printer(io, conn.json ?? false);
  let client: RssClient | undefined;
  try {
    client = await openClient(conn);
    client.on('message', (t) => printer.text(t));
    await client.update(name);
    if (io.stderr.isTTY && !printer.json) io.stderr.write(`listening as ${name} (Ctrl-C to stop)\n`);
    await client.listen(name);
    if (!stop.aborted) await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
    return EXIT.ok;
  } catch (err) {
    return report(err, printer, err instanceof DeniedError ? keyHint(err, client, name) : undefined);
  } finally {
    await client?.close();
  }
}
