/** Migrate: applies the migrations in `migrations/` (a static list, so it works from source and dist). */
import type { Knex } from 'knex';
import { migrations } from '../../migrations/index.js';

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return migration;
  },
};

const lockKey = "hashtext('warden:migrate:' || current_schema())";

/**
 * Applies every pending migration; returns the names applied. On PostgreSQL, processes starting
 * together on a fresh database take turns under an advisory lock: knex's own migration lock lives
 * in a table the first of them has yet to create.
 */
export async function migrate(knex: Knex, opts: { serialise?: boolean } = {}): Promise<string[]> {
  const latest = async () =>
    ((await knex.migrate.latest({ migrationSource: source })) as [number, string[]])[1];
  if (!opts.serialise) return latest();
  const conn = await knex.client.acquireConnection();
  try {
    await knex.raw(`select pg_advisory_lock(${lockKey})`).connection(conn);
    try {
      return await latest();
    } finally {
      await knex.raw(`select pg_advisory_unlock(${lockKey})`).connection(conn);
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}
