/**
 * Database: the one knex factory. PGlite (real Postgres in WASM) in the data dir by default, PostgreSQL
 * through `pg` when a URL is given. Both speak the same SQL; migrations run on open.
 */
import { join } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { WardenError } from '../errors.js';
import { acquireEmbeddedLock, type EmbeddedLock } from './embedded-lock.js';
import { migrate } from './migrate.js';
import { initEmbeddedDataDir } from './pglite-init.js';

export type Engine = 'pglite' | 'postgres';

/** knex would print connection errors itself; they reach callers as exceptions instead. */
const quietKnex = { warn() {}, error() {}, debug() {}, deprecate() {} };

export interface Database {
  readonly knex: Knex;
  readonly engine: Engine;
  /** Answers when the database does (`/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; when absent, PGlite is used. */
  databaseUrl?: string | undefined;
  /** Where PGlite keeps `pgdata/`; omitted = in memory (tests). */
  dataDir?: string | undefined;
  /** Postgres schema to use (created if missing); tests isolate themselves with it. */
  schema?: string | undefined;
  /** Apply migrations on open. @defaultValue true */
  migrate?: boolean;
  /** Who holds the embedded lock, for the message a second process sees. @defaultValue 'warden' */
  purpose?: string;
  /**
   * PostgreSQL connections. Each run in flight holds one for its run lock, so this leaves room
   * above the queue's `runConcurrency` (16) for group commits, ingress and the API.
   * @defaultValue 32
   */
  poolMax?: number;
}

/**
 * Opens the database and applies migrations.
 * @example
 * const db = await openDatabase({ dataDir: '.warden' });
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const { databaseUrl, dataDir, schema } = options;
  let lock: EmbeddedLock | undefined;
  let knex: Knex;
  if (databaseUrl) {
    knex = knexFactory({
      client: 'pg',
      connection: databaseUrl,
      pool: { min: 0, max: options.poolMax ?? 32 },
      log: quietKnex,
      ...(schema ? { searchPath: [schema] } : {}),
    });
  } else {
    if (dataDir) {
      lock = acquireEmbeddedLock(join(dataDir, 'pgdata.lock'), options.purpose ?? 'warden');
      try {
        await initEmbeddedDataDir(join(dataDir, 'pgdata'));
      } catch (err) {
        lock.release();
        throw new WardenError(
          'not_ready',
          `Could not create the embedded database: ${describe(err)}`,
          {
            cause: err,
          },
        );
      }
    }
    knex = knexFactory({
      client: ClientPgLite as unknown as typeof knexFactory.Client,
      connection: dataDir ? { filename: join(dataDir, 'pgdata') } : {},
      log: quietKnex,
      ...(schema ? { searchPath: [schema] } : {}),
    });
  }
  const engine: Engine = databaseUrl ? 'postgres' : 'pglite';
  try {
    await knex.raw('select 1'); // fail here, with a clear message, if the server does not answer
    if (schema) await knex.raw('create schema if not exists ??', [schema]);
    // PGlite has one connection and one process (the embedded lock): nothing to serialise.
    if (options.migrate ?? true) await migrate(knex, { serialise: engine === 'postgres' });
  } catch (err) {
    await knex.destroy().catch(() => {});
    lock?.release();
    throw new WardenError('not_ready', `Could not open the ${engine} database: ${describe(err)}`, {
      cause: err,
    });
  }
  return {
    knex,
    engine,
    async ping() {
      await knex.raw('select 1');
    },
    async close() {
      await knex.destroy();
      lock?.release();
    },
  };
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ECONNREFUSED') return 'connection refused (is PostgreSQL running?)';
  if (e?.code === '28P01' || e?.code === '28000') return 'authentication failed';
  if (e?.code === '3D000') return 'the database does not exist';
  return e?.message?.split('\n')[0] ?? String(err);
}
