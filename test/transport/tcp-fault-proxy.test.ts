/** The TCP fault proxy against a loopback echo server: each mode does to a connection what it says. */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpFaultProxy } from '../../src/transport/tcp-fault-proxy';
import { applyStoreFault, proxyInFront } from '../../src/app/store-faults';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function echo(): Promise<{ server: Server; port: number }> {
  // The proxy resets its upstream connections: the echo side just lets them go.
  const server = createServer((s) => s.on('error', () => {}).pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
  return { server, port: (server.address() as { port: number }).port };
}

async function proxy(): Promise<TcpFaultProxy> {
  const { port } = await echo();
  const p = await TcpFaultProxy.open({ host: '127.0.0.1', port });
  open.push(p);
  return p;
}

/** Connect through the proxy; the socket, what it received, and how it ended. */
async function connect(p: TcpFaultProxy): Promise<{ socket: Socket; got: () => string; ended: () => string | undefined }> {
  const socket = createConnection({ host: p.host, port: p.port });
  let got = '';
  let ended: string | undefined;
  socket.on('data', (d) => (got += d.toString()));
  socket.on('error', (e: NodeJS.ErrnoException) => (ended = e.code ?? e.message));
  socket.on('close', () => (ended ??= 'closed'));
  open.push({ close: () => socket.destroy() });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return { socket, got: () => got, ended: () => ended };
}

/** A new connection through the proxy carries `text` there and back. */
async function expectWorks(p: TcpFaultProxy, text: string): Promise<void> {
  const c = await connect(p);
  c.socket.write(text);
  await expect.poll(c.got).toBe(text);
}

describe('TcpFaultProxy', () => {
  it('up: forwards both ways', async () => {
    const p = await proxy();
    await expectWorks(p, 'hello');
    expect(p.describe()).toBe('up');
  });

  it('down: resets open connections and refuses new ones; up: accepts again on the same port', async () => {
    const p = await proxy();
    const c = await connect(p);
    p.down();
    await expect.poll(c.ended).toBe('ECONNRESET');
    await expect(connect(p)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    p.up();
    await expectWorks(p, 'back');
  });

  it('blackhole: keeps connections but forwards nothing; its end resets them (their streams lost bytes)', async () => {
    const p = await proxy();
    const c = await connect(p);
    p.blackhole();
    c.socket.write('into the void');
    const fresh = await connect(p);
    fresh.socket.write('also lost');
    await expect.poll(() => p.connections).toBe(2);
    expect(c.got() + fresh.got()).toBe('');
    p.up();
    await expect.poll(c.ended).toBe('ECONNRESET');
    await expectWorks(p, 'ok');
  });

  it('slow: forwards every chunk late, in order; reset drops the open connections only', async () => {
    const p = await proxy();
    p.slow(150);
    expect(p.describe()).toBe('slow (+150 ms per chunk)');
    const c = await connect(p);
    const sent = Date.now();
    c.socket.write('a');
    c.socket.write('b');
    await expect.poll(c.got).toBe('ab');
    // Late both ways: at least two delays.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(250);
    p.reset();
    await expect.poll(c.ended).toBe('ECONNRESET');
    await expectWorks(p, 'c');
  });

  it('flap: down and up in turn until another mode is set', async () => {
    const p = await proxy();
    p.flap(100);
    await expect(connect(p)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect.poll(async () => connect(p).then((c) => (c.socket.destroy(), 'up'), () => 'down'), { interval: 30 }).toBe('up');
    p.up();
    expect(p.describe()).toBe('up');
  });

  it('proxyInFront rewrites a single-host URI; the commands are those of the demo console, and bad ones say what is allowed', async () => {
    const { port } = await echo();
    const front = await proxyInFront(`mongodb://user:pw@127.0.0.1:${port}/?directConnection=true`);
    open.push(front.proxy);
    expect(front.uri).toBe(`mongodb://user:pw@127.0.0.1:${front.proxy.port}/?directConnection=true`);
    expect(applyStoreFault(front.proxy, 'slow 20')).toBe('slow (+20 ms per chunk)');
    expect(applyStoreFault(front.proxy, 'down')).toBe('down');
    expect(applyStoreFault(front.proxy, 'up')).toBe('up');
    expect(() => applyStoreFault(front.proxy, 'slow soon')).toThrow(/invalid duration/);
    expect(() => applyStoreFault(front.proxy, 'explode')).toThrow(/unknown store fault "explode" \(up \| down/);
    await expect(proxyInFront('mongodb://a:1,b:2/')).rejects.toThrow(/single-host/);
  });
});
