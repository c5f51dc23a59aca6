/**
 * A TCP port that can go down: forwards 127.0.0.1:<port> to a server behind it, and can stop
 * listening — connections are then refused, as by a host whose service is down — and listen again
 * on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './fault-services.js';

export interface FaultProxy {
  port: number;
  /** Stops listening and cuts open connections: new ones are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps a proxied connection's two sockets in `sockets` while open; an error on either closes both.
 */
export function trackPair(sockets: Set<Socket>, client: Socket, upstream: Socket): void {
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
}

/**
 * @example
 * const proxy = await startFaultProxy(receiverPort);
 * await proxy.down(); // ECONNREFUSED
 * await proxy.up();
 */
export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  async function up() {
    if (server) return;
    const listening = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      trackPair(sockets, client, upstream);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', resolve);
    });
    server = listening;
  }

  async function down() {
    const closing = server;
    server = undefined;
    if (!closing) return;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  }

  await up();
  return { port, down, up, close: down };
}
