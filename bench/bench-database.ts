/** A new PostgreSQL database for one benchmark, on the server of DATABASE_URL, and how to drop it. */
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { type Database, openDatabase } from '../src/storage/database.js';

/** Its URL (openDatabase or serve() migrate it on open) and `drop()` (with force) for afterwards. */
export async function createBenchDatabase(
  databaseUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `warden_bench_${randomBytes(5).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`create database ${name}`);
  } catch (err) {
    await admin.destroy();
    throw err;
  }
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      try {
        await admin.raw(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.destroy();
      }
    },
  };
}

/**
 * A throwaway schema `bench_<random>` on DATABASE_URL's database, so a bench never touches real
 * data: `db` (migrated), `another()` for a second pool on it (as another process would have), and
 * `cleanup()`, which drops the schema and closes `db`.
 */
export async function openBenchSchema(
  databaseUrl: string | undefined,
): Promise<{ db: Database; another(): Promise<Database>; cleanup(): Promise<void> }> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const db = await openDatabase({ databaseUrl, schema });
  return {
    db,
    another: () => openDatabase({ databaseUrl, schema }),
    async cleanup() {
      await db.knex.raw('drop schema if exists ?? cascade', [schema]);
      await db.close();
    },
  };
}
