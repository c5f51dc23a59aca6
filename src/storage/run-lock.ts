/**
 * Run-lock: one worker at a time advances a run. On PostgreSQL a session advisory lock, held on a
 * dedicated connection while the run is processed: the server releases it if the worker dies, so
 * the next worker may take over — and then rightly treats a step left `running` as interrupted. On
 * PGlite (one process, by the embedded lock) an in-process set is enough.
 */
import type { Knex } from 'knex';
import type { Engine as StorageEngine } from './database.js';

export interface RunLock {
  /** A release function, or undefined when another worker holds the run. */
  tryAcquire(runId: string): Promise<(() => Promise<void>) | undefined>;
}

export function createRunLock(knex: Knex, engine: StorageEngine): RunLock {
  const local = new Set<string>();
  return {
    async tryAcquire(runId) {
      if (local.has(runId)) return undefined;
      local.add(runId);
      if (engine === 'pglite') {
        return async () => {
          local.delete(runId);
        };
      }
      const key = `warden:run:${runId}`;
      const conn = await knex.client.acquireConnection();
      try {
        const { rows } = await knex
          .raw('select pg_try_advisory_lock(hashtext(?)) as ok', [key])
          .connection(conn);
        if (!rows[0]?.ok) throw new Error('held elsewhere');
      } catch {
        await knex.client.releaseConnection(conn);
        local.delete(runId);
        return undefined;
      }
      return async () => {
        try {
          await knex.raw('select pg_advisory_unlock(hashtext(?))', [key]).connection(conn);
        } finally {
          await knex.client.releaseConnection(conn);
          local.delete(runId);
        }
      };
    },
  };
}
