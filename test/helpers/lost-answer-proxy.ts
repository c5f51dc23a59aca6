/**
 * A PostgreSQL connection that loses an answer: forwards 127.0.0.1:<port> to the server and, once
 * armed, lets the next statement whose text contains `marker` run and commit, then cuts the client's
 * connection instead of passing on the answer — a network failure after the commit. The client
 * cannot tell whether its statement committed.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { trackPair } from './fault-proxy.js';

export interface LostAnswerProxy {
  port: number;
  /** The next statement containing `marker` commits and its answer is lost with the connection. */
  arm(marker: string): void;
  /** How many answers it has dropped. */
  dropped(): number;
  close(): Promise<void>;
}

/** ReadyForQuery: the server finished the statement (and, autocommitted, committed it). */
const endsWithReadyForQuery = (chunk: Buffer) =>
  chunk.length >= 6 && chunk.subarray(-6, -1).equals(Buffer.from([0x5a, 0, 0, 0, 5]));

export async function startLostAnswerProxy(target: {
  host: string;
  port: number;
}): Promise<LostAnswerProxy> {
  const sockets = new Set<Socket>();
  let marker: string | undefined;
  let dropped = 0;
  const server = createServer((client) => {
    const upstream = createConnection(target);
    trackPair(sockets, client, upstream);
    let losing = false;
    let answer: Buffer[] = [];
    client.on('data', (chunk: Buffer) => {
      if (marker !== undefined && chunk.includes(marker)) {
        marker = undefined;
        losing = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!losing) {
        client.write(chunk);
        return;
      }
      answer.push(chunk);
      if (endsWithReadyForQuery(Buffer.concat(answer))) {
        dropped++;
        answer = [];
        client.destroy();
        upstream.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    arm(text) {
      marker = text;
    },
    dropped: () => dropped,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
