/**
 * The MQTT baseline's broker as its own process: Aedes with its default
 * in-memory persistence on a loopback TCP port, driven over IPC like the
 * rss server worker.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { emitEvent, serveCommands } from './proc';

let close: (() => Promise<void>) | undefined;

serveCommands({
  async start() {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    close = () => new Promise<void>((r) => broker.close(() => server.close(() => r())));
    return { port: (server.address() as { port: number }).port };
  },
  cpu() {
    return process.cpuUsage();
  },
  async close() {
    await close?.();
    return true;
  },
});
emitEvent('up');
