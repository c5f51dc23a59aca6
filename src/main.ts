/**
 * Composition root: the only place that opens connections (database, server) and handles SIGTERM.
 * The CLI calls `openRuntime` for one-shot commands and `serve` for the service.
 */
import type { AddressInfo } from 'node:net';
import { type ServerType, serve as serveNode } from '@hono/node-server';
import type { Logger } from 'pino';
import { createApp, isLoopback } from './app.js';
import type { Config } from './config.js';
import { createLedger, type Ledger } from './ledger/ledger.js';
import { loadOrCreateSigningKey } from './ledger/signing-key.js';
import { createWorkerSigner } from './ledger/worker-signer.js';
import { createLogger } from './observability/logger.js';
import { loadTenantPlaybooks } from './pipeline/playbook-files.js';
import { createBullmqScheduler } from './queue/bullmq-scheduler.js';
import { type Database, openDatabase } from './storage/database.js';
import { syncTenants } from './tenancy/tenants.js';
import { createCronFire, schedulesOf } from './triggers/cron.js';
import { createIngest, type Ingest } from './triggers/ingest.js';
import {
  createInlineScheduler,
  type ScheduleFailure,
  type Scheduler,
} from './triggers/schedules.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  db: Database;
  ledger: Ledger;
  ingest: Ingest;
  close(): Promise<void>;
}

/** Opens storage (migrating it), loads the signing key and syncs tenants from the config. */
export async function openRuntime(
  config: Config,
  opts: { purpose: string; logger?: Logger; sync?: boolean },
): Promise<Runtime> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  for (const warning of config.warnings) logger.warn(warning);
  const key = loadOrCreateSigningKey({
    dataDir: config.dataDir,
    pem: config.signingKeyPem?.reveal(),
  });
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    purpose: opts.purpose,
  });
  const signer = createWorkerSigner(key);
  try {
    const ledger = await createLedger({ knex: db.knex, signer });
    if (opts.sync ?? true) await syncTenants({ knex: db.knex, ledger }, config.tenants);
    const ingest = createIngest({ knex: db.knex, ledger });
    return {
      config,
      logger,
      db,
      ledger,
      ingest,
      async close() {
        await ingest.drain();
        await ledger.drain();
        await signer.close();
        await db.close();
      },
    };
  } catch (err) {
    await signer.close();
    await db.close();
    throw err;
  }
}

export interface Server {
  url: string;
  runtime: Runtime;
  /** Stops accepting, drains in-flight work, closes storage. */
  stop(): Promise<void>;
}

/** Starts the HTTP service; resolves once it listens. */
export async function serve(config: Config, opts: { logger?: Logger } = {}): Promise<Server> {
  const playbooks = await loadTenantPlaybooks(config.tenants);
  const runtime = await openRuntime(config, {
    purpose: `warden serve on port ${config.port}`,
    ...opts,
  });
  const { db, ledger, ingest, logger } = runtime;
  const scheduler = createScheduler(config, ingest, logger);
  const app = createApp({ config, db, ledger, ingest, logger });
  let server: ServerType | undefined;
  const port = await scheduler
    .sync(schedulesOf(playbooks))
    .then(
      () =>
        new Promise<number>((resolve, reject) => {
          server = serveNode(
            { fetch: app.fetch, port: config.port, hostname: config.host },
            (info) => resolve((info as AddressInfo).port),
          );
          server.once('error', reject);
        }),
    )
    .catch(async (err) => {
      await scheduler.stop();
      await runtime.close();
      throw err;
    });
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    runtime,
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => server?.close(() => resolve()));
        await scheduler.stop();
        await runtime.close();
      })();
      return stopping;
    },
  };
}

/** Cron: BullMQ job schedulers when Redis is configured (one tick across replicas), else croner. */
function createScheduler(config: Config, ingest: Ingest, logger: Logger): Scheduler {
  const fire = createCronFire(ingest);
  const onError = (f: ScheduleFailure) =>
    logger.error(
      { code: f.error.code, schedule: f.schedule, attempt: f.attempt, willRetry: f.willRetry },
      `schedule tick failed: ${f.error.message}`,
    );
  return config.redisUrl
    ? createBullmqScheduler({
        connection: { url: config.redisUrl },
        prefix: config.redisPrefix,
        fire,
        onError,
      })
    : createInlineScheduler({ fire, onError });
}

/** Runs `serve` until SIGTERM/SIGINT, then drains and exits. */
export async function runUntilSignal(config: Config, print: (line: string) => void): Promise<void> {
  const server = await serve(config);
  const { logger } = server.runtime;
  print(`Warden is listening on ${server.url} (storage: ${server.runtime.db.engine}).`);
  printHowTo(config, server.url, print);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      server.stop().then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

function printHowTo(config: Config, url: string, print: (line: string) => void): void {
  const demo = config.tenants.flatMap((t) =>
    t.tokens.filter((k) => k.loopbackOnly && k.scope === 'read').map((k) => ({ tenant: t.id, k })),
  )[0];
  print(`  API docs:   ${url}/docs`);
  if (demo && isLoopback(config.host)) {
    print(
      `  Try it:     curl -H 'Authorization: Bearer ${demo.k.value.reveal()}' ${url}/api/v1/receipts`,
    );
    print(
      `              (demo token "${demo.k.name}" of tenant ${demo.tenant}; accepted on loopback only)`,
    );
  } else if (config.databaseUrl) {
    print('  Get a token: npx warden token create --tenant <id> --scope read');
  } else {
    print('  Get a token: declare it in warden.yaml (tenants[].tokens, value: env:NAME), or stop');
    print('               the server and run npx warden token create --tenant <id> --scope read');
  }
}
