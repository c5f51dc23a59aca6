/**
 * Services under test: PostgreSQL and Redis from the environment. With WARDEN_REQUIRE_SERVICES=1 a
 * missing one fails the run loudly; otherwise tests that need it are skipped.
 */
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';

export const databaseUrl = process.env.DATABASE_URL || undefined;
export const redisUrl = process.env.REDIS_URL || undefined;
export const requireServices = process.env.WARDEN_REQUIRE_SERVICES === '1';

/** Throws when a required service is missing; returns whether it is available. */
export function serviceAvailable(name: 'DATABASE_URL' | 'REDIS_URL'): boolean {
  const value = name === 'DATABASE_URL' ? databaseUrl : redisUrl;
  if (!value && requireServices) {
    throw new Error(`WARDEN_REQUIRE_SERVICES=1 but ${name} is not set: these tests cannot run.`);
  }
  return value !== undefined;
}

/** A new, empty PostgreSQL database on the server of DATABASE_URL, and how to drop it. */
export async function createFreshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!databaseUrl) throw new Error('DATABASE_URL is not set');
  const name = `warden_test_${randomBytes(5).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`create database ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.raw(`drop database if exists ${name} with (force)`);
      await admin.destroy();
    },
  };
}

/** A unique Redis key prefix for one test run. */
export const uniqueRedisPrefix = () => `wtest_${randomBytes(4).toString('hex')}`;
