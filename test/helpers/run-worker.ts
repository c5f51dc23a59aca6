/**
 * Test worker: a separate process that handles runs from a BullMQ queue with the real engine and
 * guardrails on PostgreSQL, as `warden serve --role worker` would, with one plugin of its own: `slow.write`
 * POSTs `{ key, pid }` to a URL, then holds until a file exists or some milliseconds passed.
 * Run with `node --import tsx test/helpers/run-worker.ts` and in the environment DATABASE_URL,
 * REDIS_URL, WARDEN_TEST_PREFIX, WARDEN_TEST_QUEUE, WARDEN_TEST_TARGET (the target's host:port)
 * and optionally WARDEN_TEST_CONCURRENCY. It prints `ready` once it takes work, reports queue
 * failures as JSON lines on stderr, and on SIGTERM finishes the runs in hand and exits 0.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import type { TenantConfig } from '../../src/config.js';
import { openGuardrails } from '../../src/guardrails/guardrails.js';
import { createSigner, generateSigningKey } from '../../src/ledger/ed25519.js';
import { createLedger } from '../../src/ledger/ledger.js';
import { createEngine } from '../../src/pipeline/engine.js';
import { validatePlugins } from '../../src/plugins/registry.js';
import { createBullmqQueue } from '../../src/queue/bullmq-queue.js';
import { definePlugin, defineStep, z } from '../../src/sdk/index.js';
import { openDatabase } from '../../src/storage/database.js';
import { createRunLock } from '../../src/storage/run-lock.js';
import { unfinishedRuns } from '../../src/storage/runs.js';

const env = process.env;
const target = env.WARDEN_TEST_TARGET;
const queueName = env.WARDEN_TEST_QUEUE;
if (!env.DATABASE_URL || !env.REDIS_URL || !env.WARDEN_TEST_PREFIX || !queueName || !target) {
  process.stderr.write(
    'usage: DATABASE_URL, REDIS_URL, WARDEN_TEST_PREFIX, WARDEN_TEST_QUEUE, WARDEN_TEST_TARGET\n',
  );
  process.exit(2);
}

const write = defineStep({
  description: 'POSTs to a URL, then holds until a file exists or some milliseconds passed.',
  input: z.strictObject({
    url: z.url(),
    holdFile: z.string().optional(),
    holdMs: z.number().int().min(0).max(60_000).optional(),
  }),
  risk: 'write',
  reversible: false,
  targets: (i) => [i.url],
  simulate: (_ctx, i) => ({ summary: `POST ${i.url}` }),
  async execute(ctx, i) {
    const res = await ctx.http(i.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: ctx.idempotencyKey, pid: process.pid }),
    });
    if (!res.ok) throw new Error(`target answered ${res.status}`);
    while (i.holdFile && !existsSync(i.holdFile))
      await sleep(25, undefined, { signal: ctx.signal });
    if (i.holdMs) await sleep(i.holdMs, undefined, { signal: ctx.signal });
    return { pid: process.pid };
  },
});

const catalog = validatePlugins([
  definePlugin({ name: 'slow', version: '1.0.0', description: 'Test steps', steps: { write } }),
]);
const tenants = new Map([
  [
    'acme',
    { id: 'acme', tier: 'enterprise', plugins: { slow: { allowedHosts: [target], secrets: {} } } },
  ],
]) as unknown as ReadonlyMap<string, TenantConfig>;

const db = await openDatabase({ databaseUrl: env.DATABASE_URL, migrate: false });
const logger = pino({ level: 'error' }, pino.destination(2));
const ledger = await createLedger({ knex: db.knex, signer: createSigner(generateSigningKey()) });
const { guard, watch } = await openGuardrails({
  knex: db.knex,
  ledger,
  catalog,
  tenants: [...tenants.values()],
  logger,
});
const engine = createEngine({
  runLock: createRunLock(db.knex, db.engine),
  knex: db.knex,
  ledger,
  catalog,
  tenants,
  logger,
  guard,
  watch,
});
const queue = createBullmqQueue({
  connection: { url: env.REDIS_URL },
  prefix: env.WARDEN_TEST_PREFIX,
  queueName,
  concurrency: Number(env.WARDEN_TEST_CONCURRENCY ?? 4),
  // Short, so that a run held by a killed worker is taken over within seconds.
  lockDurationMs: 1500,
  stalledIntervalMs: 500,
  onError: (f) => {
    const { error, ...rest } = f;
    process.stderr.write(
      `${JSON.stringify({ ...rest, code: error.code, error: error.message })}\n`,
    );
  },
});
// As main.ts's startWorker: take work, then resume the runs left unfinished.
await queue.start(async (tenant, runId) => {
  await engine.process(tenant, runId);
});
for (const run of await unfinishedRuns(db.knex)) await queue.enqueue(run.tenant, run.id);
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  queue
    .stop()
    .then(() => ledger.drain())
    .then(() => db.close())
    .then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`${String(err)}\n`);
        process.exit(1);
      },
    );
});
