/** A new PostgreSQL database for one benchmark, on the server of DATABASE_URL, and how to drop it. */
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';

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
