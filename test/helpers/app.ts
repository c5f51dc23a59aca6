/** Test app: createApp wired as main.ts wires it, with the pieces a test does not care about filled in. */
import pino, { type Logger } from 'pino';
import { type AppDeps, createApp } from '../../src/app.js';
import type { TenantConfig } from '../../src/config.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import type { Database } from '../../src/storage/database.js';
import { createIngest, type Ingest } from '../../src/triggers/ingest.js';

export interface TestAppOptions {
  db: Database;
  ledger: Ledger;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  tenants?: TenantConfig[];
  logger?: Logger;
  ingest?: Ingest;
  probes?: AppDeps['probes'];
}

export function buildApp(opts: TestAppOptions) {
  const ingest = opts.ingest ?? createIngest({ knex: opts.db.knex, ledger: opts.ledger });
  return createApp({
    config: { host: opts.host ?? '127.0.0.1', tenants: opts.tenants ?? [] },
    db: opts.db,
    ledger: opts.ledger,
    ingest,
    logger: opts.logger ?? pino({ level: 'silent' }),
    ...(opts.probes ? { probes: opts.probes } : {}),
  });
}
