/**
 * Redis-connection: the client a BullMQ adapter works with — one it opens from a URL (and closes),
 * or one the caller owns (and closes). BullMQ workers need `maxRetriesPerRequest: null`.
 */
import { Redis } from 'ioredis';

export type RedisConnection = { url: string } | Redis;

export interface AdapterClient {
  client: Redis;
  /** Closes the client if the adapter opened it. */
  release(): Promise<void>;
}

export function adapterClient(connection: RedisConnection, name: string): AdapterClient {
  if (connection instanceof Redis) return { client: connection, release: async () => {} };
  const client = new Redis(connection.url, { maxRetriesPerRequest: null, connectionName: name });
  return {
    client,
    async release() {
      await client.quit();
    },
  };
}
