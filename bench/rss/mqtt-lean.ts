/**
 * A minimal MQTT 3.1.1 client for the Aedes baseline's load generator:
 * CONNECT, SUBSCRIBE and QoS 1 PUBLISH/PUBACK both ways, over one TCP
 * connection, with the PUBLISH packet of a topic encoded once (only the
 * packet id changes). MQTT.js cost the generator as much CPU per publish
 * as the broker spent, so the baseline measured its client; this one
 * frames packets by hand and allocates one small Buffer per publish.
 * Bench code: no reconnects, no QoS 2, no will, no keep-alive.
 */
import { connect, type Socket } from 'node:net';

const CONNACK = 2;
const PUBLISH = 3;
const PUBACK = 4;
const SUBACK = 9;

/** The MQTT "remaining length" of `n` bytes (variable-length, 7 bits a byte). */
export function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

const str = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

const packet = (first: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([first, ...remainingLength(body.length)]), body]);

/** A QoS 1 PUBLISH of `payload` on `topic` with packet id 0; `idAt` is where the id goes. */
export function publishTemplate(topic: string, payload: Buffer): { bytes: Buffer; idAt: number } {
  const bytes = packet(0x32, Buffer.concat([str(topic), Buffer.alloc(2), payload]));
  return { bytes, idAt: bytes.length - payload.length - 2 };
}

/** The packets in `data` (after what was left over from the last chunk): type, flags, body. */
export class PacketReader {
  private rest: Buffer | undefined;

  *read(data: Buffer): Generator<{ type: number; first: number; body: Buffer }> {
    const b = this.rest ? Buffer.concat([this.rest, data]) : data;
    this.rest = undefined;
    let o = 0;
    for (;;) {
      if (b.length - o < 2) break;
      let len = 0;
      let mul = 1;
      let i = o + 1;
      for (; i < b.length; i++) {
        len += (b[i]! & 0x7f) * mul;
        mul *= 128;
        if ((b[i]! & 0x80) === 0) break;
      }
      if (i >= b.length || b.length - (i + 1) < len) break;
      const first = b[o]!;
      yield { type: first >> 4, first, body: b.subarray(i + 1, i + 1 + len) };
      o = i + 1 + len;
    }
    if (o < b.length) this.rest = Buffer.from(b.subarray(o));
  }
}

export class LeanMqtt {
  private readonly socket: Socket;
  private readonly reader = new PacketReader();
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();
  private connected?: () => void;
  private subscribed?: () => void;
  /** Called for each QoS 1 message delivered to this client (after its PUBACK is sent). */
  onMessage: () => void = () => {};

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
  }

  static async open(port: number, clientId: string): Promise<LeanMqtt> {
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const c = new LeanMqtt(socket);
    const variable = Buffer.concat([str('MQTT'), Buffer.from([4, 0x02, 0, 0])]); // level 4, clean session, no keep-alive
    await new Promise<void>((resolve) => {
      c.connected = resolve;
      socket.write(packet(0x10, Buffer.concat([variable, str(clientId)])));
    });
    return c;
  }

  subscribe(topic: string): Promise<void> {
    return new Promise((resolve) => {
      this.subscribed = resolve;
      this.socket.write(packet(0x82, Buffer.concat([Buffer.from([0, 1]), str(topic), Buffer.from([1])])));
    });
  }

  /** Send a copy of `template` with a fresh packet id; `acked` runs at its PUBACK. */
  publish(template: { bytes: Buffer; idAt: number }, acked: () => void): void {
    this.nextId = this.nextId === 0xffff ? 1 : this.nextId + 1;
    const b = Buffer.allocUnsafe(template.bytes.length);
    template.bytes.copy(b);
    b[template.idAt] = this.nextId >> 8;
    b[template.idAt + 1] = this.nextId & 0xff;
    this.waiting.set(this.nextId, acked);
    this.socket.write(b);
  }

  private onData(d: Buffer): void {
    for (const p of this.reader.read(d)) {
      if (p.type === PUBLISH) {
        const qos = (p.first >> 1) & 3;
        if (qos === 1) {
          const topicLen = (p.body[0]! << 8) | p.body[1]!;
          const at = 2 + topicLen;
          this.socket.write(Buffer.from([PUBACK << 4, 2, p.body[at]!, p.body[at + 1]!]));
        }
        this.onMessage();
      } else if (p.type === PUBACK) {
        const id = (p.body[0]! << 8) | p.body[1]!;
        const f = this.waiting.get(id);
        this.waiting.delete(id);
        f?.();
      } else if (p.type === CONNACK) {
        if (p.body[1] !== 0) throw new Error(`CONNACK refused: ${p.body[1]}`);
        this.connected?.();
      } else if (p.type === SUBACK) {
        this.subscribed?.();
      }
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.end(Buffer.from([0xe0, 0]), () => resolve()); // DISCONNECT
      this.socket.once('close', () => resolve());
    });
  }
}
