/**
 * Test databases: every suite that touches storage runs on PGlite and, when DATABASE_URL is set, on
 * PostgreSQL in a schema of its own (h3's describeMatrix). With WARDEN_REQUIRE_SERVICES=1 a missing
 * DATABASE_URL fails the run instead of skipping PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { createSigner, generateSigningKey, type Signer } from '../../src/ledger/ed25519.js';
import { createLedger, type Ledger } from '../../src/ledger/ledger.js';
import { type Database, type Engine, openDatabase } from '../../src/storage/database.js';

export const databaseUrl = process.env.DATABASE_URL || undefined;
export const requireServices = process.env.WARDEN_REQUIRE_SERVICES === '1';

export function enginesUnderTest(): Engine[] {
  if (!databaseUrl && requireServices) {
    throw new Error(
      'WARDEN_REQUIRE_SERVICES=1 but DATABASE_URL is not set: PostgreSQL tests cannot run.',
    );
  }
  return databaseUrl ? ['pglite', 'postgres'] : ['pglite'];
}

/** A fresh, migrated database: in-memory PGlite, or a new schema on the PostgreSQL server. */
export async function openTestDatabase(engine: Engine): Promise<Database> {
  if (engine === 'pglite') return openDatabase({});
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const db = await openDatabase({ databaseUrl, schema });
  return {
    ...db,
    async close() {
      await db.knex.raw('drop schema if exists ?? cascade', [schema]);
      await db.close();
    },
  };
}

export interface EngineContext {
  engine: Engine;
  /** The suite's database (open between beforeAll and afterAll). */
  db(): Database;
}

/** Declares the suite once per engine under test, each with its own database. */
export function describeEngines(name: string, fn: (ctx: EngineContext) => void): void {
  for (const engine of enginesUnderTest()) {
    describe(`${name} [${engine}]`, () => {
      let db: Database | undefined;
      beforeAll(async () => {
        db = await openTestDatabase(engine);
      });
      afterAll(async () => {
        await db?.close();
      });
      fn({
        engine,
        db: () => {
          if (!db) throw new Error('database not open yet: use it inside a test or hook');
          return db;
        },
      });
    });
  }
}

/** A ledger with a throwaway key, and a tenant to append to. */
export async function createTestLedger(
  db: Database,
  tenants: string[] = [],
): Promise<{ ledger: Ledger; signer: Signer }> {
  const signer = createSigner(generateSigningKey());
  const ledger = await createLedger({ knex: db.knex, signer });
  for (const id of tenants) {
    await db.knex('tenants').insert({ id, name: id, tier: 'enterprise' }).onConflict('id').ignore();
  }
  return { ledger, signer };
}
