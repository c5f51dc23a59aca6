/**
 * Composition root: the only place that opens connections (database, server) and handles SIGTERM.
 * The CLI calls `openRuntime` for one-shot commands and `serve` for the service.
 */
import type { AddressInfo } from 'node:net';
import { type ServerType, serve as serveNode } from '@hono/node-server';
import type { Logger } from 'pino';
import { createApp, isLoopback } from './app.js';
import { type Chat, openChat } from './chat/chat.js';
import type { Config } from './config.js';
import { WardenError } from './errors.js';
import { expireOverdue } from './guardrails/approvals.js';
import type { Guard } from './guardrails/decision.js';
import { openGuardrails } from './guardrails/guardrails.js';
import type { Anchoring } from './ledger/anchor.js';
import { createLedger, type Ledger } from './ledger/ledger.js';
import { loadOrCreateSigningKey } from './ledger/signing-key.js';
import { createWorkerSigner } from './ledger/worker-signer.js';
import { createLogger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { type Operations, openOperations } from './operations.js';
import { createEngine, type Engine } from './pipeline/engine.js';
import { type LoadedPlaybook, loadTenantPlaybooks } from './pipeline/playbook-files.js';
import { syncPlaybookVersions } from './pipeline/playbook-versions.js';
import { createStartRuns } from './pipeline/start-runs.js';
import type { StepCatalog } from './pipeline/step-context.js';
import { plugins } from './plugins/index.js';
import { validatePluginSettings, validatePlugins } from './plugins/registry.js';
import { createInlineQueue } from './queue/inline-queue.js';
import { startResumeSweep } from './queue/resume-sweep.js';
import type { RunQueue } from './queue/run-queue.js';
import type { Reporting } from './reports/reporting.js';
import { type Database, openDatabase } from './storage/database.js';
import { createRunLock } from './storage/run-lock.js';
import { unfinishedRuns } from './storage/runs.js';
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
  catalog: StepCatalog;
  engine: Engine;
  /** The guardrail chain (the engine's; simulations ask it too, without consuming). */
  guard: Guard;
  queue: RunQueue;
  /** Playbooks read from the tenants' folders at start (also the source of cron schedules). */
  playbooks: ReadonlyMap<string, LoadedPlaybook[]>;
  /** Appends receipts to the tenants' Merkle logs and signs checkpoints. */
  anchoring: Anchoring;
  metrics: Metrics;
  reporting: Reporting;
  /** Anchoring, witnesses, metrics, reports, retention, internal alerts: started by a worker. */
  operations: Operations;
  /** Periodic work of this process (the approval expiry sweep), stopped by close(). */
  timers: Set<NodeJS.Timeout>;
  /** Chat, once open: report links, internal alert notices and playbooks' `chat.notify` go there. */
  useChat(chat: Pick<Chat, 'postReportLink' | 'postNotice' | 'postRunMessage'>): void;
  close(): Promise<void>;
}

/**
 * Opens storage (migrating it), loads the signing key, validates the plugins and playbooks, syncs
 * tenants and playbook versions from the config, and wires ingest → runs → queue → engine.
 */
export async function openRuntime(
  config: Config,
  opts: {
    purpose: string;
    logger?: Logger;
    sync?: boolean;
    /** Dispatch runs to workers (serve). One-shot CLI commands leave it off: no Redis connection. */
    dispatch?: boolean;
  },
): Promise<Runtime> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  for (const warning of config.warnings) logger.warn(warning);
  const catalog = validatePlugins(plugins);
  const settingsProblems = validatePluginSettings(plugins, config.tenants);
  if (settingsProblems.length > 0) {
    throw new WardenError(
      'config_invalid',
      `Invalid plugin settings:\n${settingsProblems.map((p: string) => `  - ${p}`).join('\n')}`,
    );
  }
  const playbooks = await loadTenantPlaybooks(config.tenants);
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
    if (opts.sync ?? true) {
      await syncTenants({ knex: db.knex, ledger }, config.tenants);
      for (const [tenant, loaded] of playbooks) {
        await syncPlaybookVersions({ knex: db.knex, ledger }, tenant, loaded);
      }
    }
    const tenants = new Map(config.tenants.map((t) => [t.id, t]));
    const { guard, watch } = await openGuardrails({
      knex: db.knex,
      ledger,
      catalog,
      tenants: config.tenants,
      logger,
    });
    // Chat opens after the runtime (serve); until then `chat.notify` reaches no platform.
    let runChat: Chat['postRunMessage'] | undefined;
    const engine = createEngine({
      knex: db.knex,
      ledger,
      catalog,
      tenants,
      logger,
      guard,
      watch,
      runLock: createRunLock(db.knex, db.engine),
      chat: (tenant, runId, message) =>
        runChat ? runChat(tenant, runId, message) : Promise.resolve([]),
    });
    // BullMQ and ioredis load only when Redis is configured: the embedded default stays lean.
    const queue: RunQueue =
      config.redisUrl && opts.dispatch
        ? (await import('./queue/bullmq-queue.js')).createBullmqQueue({
            connection: { url: config.redisUrl },
            prefix: config.redisPrefix,
            onError: (f) =>
              logger.error(
                {
                  err: f.error,
                  tenant: f.tenant,
                  run: f.runId,
                  attempt: f.attempt,
                  willRetry: f.willRetry,
                },
                f.runId ? 'run processing failed' : 'run queue error',
              ),
          })
        : createInlineQueue({
            onError: (err, tenant, run) =>
              logger.error({ err, tenant, run }, 'run processing failed'),
          });
    const ingest = createIngest({
      knex: db.knex,
      ledger,
      startRuns: createStartRuns(),
      onRunsCommitted: (tenant, runIds) => {
        for (const id of runIds) {
          queue
            .enqueue(tenant, id)
            .catch((err: unknown) =>
              logger.error(
                { err, tenant, run: id },
                'enqueue failed; the run stays queued until a worker resumes it',
              ),
            );
        }
      },
    });
    const timers = new Set<NodeJS.Timeout>();
    const operations = openOperations({ config, knex: db.knex, ledger, signer, logger });
    return {
      config,
      logger,
      timers,
      operations,
      anchoring: operations.anchoring,
      metrics: operations.metrics,
      reporting: operations.reporting,
      db,
      ledger,
      ingest,
      catalog,
      engine,
      guard,
      queue,
      playbooks,
      useChat(chat) {
        operations.useChat(chat);
        runChat = chat.postRunMessage;
      },
      async close() {
        for (const timer of timers) clearInterval(timer);
        await operations.close();
        await ingest.drain();
        await queue.stop();
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

/** How often a worker looks for approval tickets past their expiry. */
const expirySweepMs = 15_000;

/**
 * How often a worker re-dispatches runs left queued or running at least that long: a dispatch lost
 * with Redis, or a run whose processing failed while the database was down, resumes within ~10 s.
 */
const resumeSweepMs = 5_000;

/**
 * Starts this process's worker: processes queued runs, starting with those left unfinished, and
 * expires overdue approval tickets (their runs are then cancelled).
 */
export async function startWorker(runtime: Runtime): Promise<void> {
  const { engine, queue, db, ledger, logger } = runtime;
  await queue.start(async (tenant, runId) => {
    await engine.process(tenant, runId);
  });
  for (const run of await unfinishedRuns(db.knex)) await queue.enqueue(run.tenant, run.id);
  const deps = { knex: db.knex, ledger, enqueue: queue.enqueue.bind(queue) };
  const expire = () =>
    expireOverdue(deps).catch((err: unknown) => logger.error({ err }, 'approval expiry failed'));
  await expire();
  runtime.timers.add(setInterval(expire, expirySweepMs).unref());
  runtime.timers.add(startResumeSweep({ knex: db.knex, queue, logger, everyMs: resumeSweepMs }));
  runtime.operations.start();
}

export interface Server {
  url: string;
  runtime: Runtime;
  /** Stops accepting, drains in-flight work, closes storage. */
  stop(): Promise<void>;
}

/**
 * Builds a tenant's Provable Posture Pack from the runtime (`warden posture`, `POST /api/v1/posture`),
 * with the runtime's warm PDF renderer unless `pdf` is false or Chromium is missing.
 */
export async function buildPosture(
  runtime: Runtime,
  tenant: string,
  outDir: string,
  opts: { pdf?: boolean } = {},
) {
  const { buildPosturePack } = await import('./posture/pack.js');
  const pdf = opts.pdf === false ? undefined : await runtime.reporting.pdf();
  return buildPosturePack(
    {
      knex: runtime.db.knex,
      ledger: runtime.ledger,
      logger: runtime.logger,
      anchoring: runtime.anchoring,
      tenants: runtime.config.tenants,
      ...(pdf ? { pdf } : {}),
    },
    { tenant, outDir },
  );
}

/** Starts the HTTP service; resolves once it listens. */
export async function serve(config: Config, opts: { logger?: Logger } = {}): Promise<Server> {
  const runtime = await openRuntime(config, {
    dispatch: true,
    purpose: `warden serve on port ${config.port}`,
    ...opts,
  });
  const { db, ledger, ingest, logger, catalog, queue, playbooks, guard } = runtime;
  const chat = await openChat({ config, knex: db.knex, ledger, catalog, guard, queue, logger });
  const scheduler = await createScheduler(config, ingest, logger);
  const { role } = config;
  const app = createApp({
    config,
    db,
    ledger,
    ingest,
    catalog,
    queue,
    logger,
    role,
    guard,
    chatRoutes: chat.routes,
    anchoring: runtime.anchoring,
    metrics: runtime.metrics,
    reports: runtime.reporting.make,
    posture: (tenant, outDir) => buildPosture(runtime, tenant, outDir),
  });
  runtime.useChat(chat);
  let server: ServerType | undefined;
  const port = await (role === 'ingress' ? Promise.resolve() : startWorker(runtime))
    .then(() => (role === 'worker' ? undefined : scheduler.sync(schedulesOf(playbooks))))
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
      await chat.close();
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
        await chat.close();
        await runtime.close();
      })();
      return stopping;
    },
  };
}

/**
 * Cron: BullMQ job schedulers when Redis is configured (one tick across replicas), else croner; none
 * in a worker, whose role is runs (a BullMQ scheduler takes ticks as soon as it exists).
 */
async function createScheduler(config: Config, ingest: Ingest, logger: Logger): Promise<Scheduler> {
  if (config.role === 'worker') return { sync: async () => {}, stop: async () => {} };
  const fire = createCronFire(ingest);
  const onError = (f: ScheduleFailure) =>
    logger.error(
      { code: f.error.code, schedule: f.schedule, attempt: f.attempt, willRetry: f.willRetry },
      `schedule tick failed: ${f.error.message}`,
    );
  return config.redisUrl
    ? (await import('./queue/bullmq-scheduler.js')).createBullmqScheduler({
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
