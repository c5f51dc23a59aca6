/** Test app: createApp wired as main.ts wires it, with the pieces a test does not care about filled in. */
import pino, { type Logger } from 'pino';
import { type AppDeps, createApp } from '../../src/app.js';
import type { TenantConfig } from '../../src/config.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { createStartRuns } from '../../src/pipeline/start-runs.js';
import type { StepCatalog } from '../../src/pipeline/step-context.js';
import { plugins } from '../../src/plugins/index.js';
import { validatePlugins } from '../../src/plugins/registry.js';
import { createInlineQueue } from '../../src/queue/inline-queue.js';
import type { RunQueue } from '../../src/queue/run-queue.js';
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
  /** @defaultValue an inline queue that is never started: runs stay queued */
  queue?: RunQueue;
  catalog?: StepCatalog;
  probes?: AppDeps['probes'];
  guard?: AppDeps['guard'];
  chatRoutes?: AppDeps['chatRoutes'];
  metrics?: AppDeps['metrics'];
  reports?: AppDeps['reports'];
  /** The operator token (WARDEN_ADMIN_TOKEN), if the test uses one. */
  adminToken?: AppDeps['config']['adminToken'];
}

export function buildApp(opts: TestAppOptions) {
  const queue = opts.queue ?? createInlineQueue({ onError: () => {} });
  const ingest =
    opts.ingest ??
    createIngest({
      knex: opts.db.knex,
      ledger: opts.ledger,
      startRuns: createStartRuns(),
      onRunsCommitted: (tenant, ids) => {
        for (const id of ids) void queue.enqueue(tenant, id);
      },
    });
  return createApp({
    config: {
      host: opts.host ?? '127.0.0.1',
      tenants: opts.tenants ?? [],
      ...(opts.adminToken ? { adminToken: opts.adminToken } : {}),
    },
    db: opts.db,
    ledger: opts.ledger,
    ingest,
    catalog: opts.catalog ?? validatePlugins(plugins),
    queue,
    logger: opts.logger ?? pino({ level: 'silent' }),
    ...(opts.probes ? { probes: opts.probes } : {}),
    ...(opts.guard ? { guard: opts.guard } : {}),
    ...(opts.chatRoutes ? { chatRoutes: opts.chatRoutes } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.reports ? { reports: opts.reports } : {}),
  });
}
