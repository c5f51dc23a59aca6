/**
 * Runtime benchmark: trigger → first step start latency at a steady 200 triggers/s, through
 * `ingest.accept` (commit → enqueue → worker → engine simulate → guardrail chain → claim →
 * execute), on the inline queue (PGlite in memory, and PostgreSQL when DATABASE_URL is set) and
 * on BullMQ (PostgreSQL + REDIS_URL) — each beside raw BullMQ `Queue.add` → `Worker` processor
 * start, measured in the same run at the same rate. One row runs ingest without the engine: the
 * floor under the inline row on the machine that runs it.
 */
import { randomBytes } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import knexFactory from 'knex';
import pino from 'pino';
import { openGuardrails } from '../src/guardrails/guardrails.js';
import { generateSigningKey } from '../src/ledger/ed25519.js';
import { createLedger } from '../src/ledger/ledger.js';
import { createWorkerSigner } from '../src/ledger/worker-signer.js';
import { createEngine } from '../src/pipeline/engine.js';
import { parsePlaybook } from '../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../src/pipeline/playbook-versions.js';
import { createStartRuns } from '../src/pipeline/start-runs.js';
import { plugins } from '../src/plugins/index.js';
import { validatePlugins } from '../src/plugins/registry.js';
import { createBullmqQueue } from '../src/queue/bullmq-queue.js';
import { createInlineQueue } from '../src/queue/inline-queue.js';
import type { RunQueue } from '../src/queue/run-queue.js';
import { definePlugin, defineStep, z } from '../src/sdk/index.js';
import { type Database, openDatabase } from '../src/storage/database.js';
import { createRunLock } from '../src/storage/run-lock.js';
import { createTenant } from '../src/tenancy/tenants.js';
import { createIngest } from '../src/triggers/ingest.js';
import type { TriggerDraft } from '../src/triggers/trigger-event.js';
import { openBenchSchema } from './bench-database.js';
import { type BenchRow, defineBenchmark, type Goal } from './benchmark.js';
import { median, sleep, withDeadline } from './stats.js';

/** The goals are set at 200/s; `BENCH_RUNTIME_RATE` measures another rate, with no goal. */
const goalRate = 200;
const ratePerSecond = triggerRate(process.env.BENCH_RUNTIME_RATE);
const intervalMs = 1000 / ratePerSecond;
const warmupMs = 1_000;
const measuredMs = 6_000;
/** How long to wait, after the last trigger, for the runs still in flight. */
const settleMs = 5_000;
const caseDeadlineMs = 30_000;
const tenant = 'bench';
const goals = { bullmq: { op: '<=', value: 10 }, inline: { op: '<=', value: 5 } } as const;

function triggerRate(value: string | undefined): number {
  if (value === undefined || value === '') return goalRate;
  const rate = Number(value);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 5_000) {
    throw new Error(
      `BENCH_RUNTIME_RATE must be a number of triggers per second in (0, 5000]: ${value}`,
    );
  }
  return rate;
}

/** The step's execute start, by trigger index (each trigger carries its index as a label). */
const stepStarts = new Map<number, number>();

const benchPlugin = definePlugin({
  name: 'bench',
  version: '1.0.0',
  description: 'Benchmark probe: records when its step starts.',
  steps: {
    mark: defineStep({
      description: 'Records performance.now() at the start of execute, by trigger index.',
      input: z.object({ i: z.coerce.number().int() }),
      risk: 'none',
      reversible: false,
      targets: () => [],
      simulate: (_ctx, input) => ({ summary: `mark ${input.i}` }),
      async execute(_ctx, input) {
        stepStarts.set(input.i, performance.now());
        return {};
      },
    }),
  },
});

const playbookYaml = `
apiVersion: warden/v1
kind: Playbook
metadata: { name: bench-latency, owner: bench }
spec:
  on:
    - alert: { match: { alertname: BenchLatency } }
  steps:
    - id: mark
      uses: bench.mark
      with: { i: "{{ alert.labels.i }}" }
`;

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : '—');

interface Latencies {
  samples: number[];
  submitted: number;
  /** Worst delay between a trigger's due time and its submission (the load generator's own lag). */
  maxLagMs: number;
}

/**
 * Open loop: item i is submitted at t0 + warm-up offset + i × 5 ms, whatever is still in flight.
 * Items due in the first second are warm-up; the rest are measured.
 */
async function paced(
  submit: (i: number) => void,
): Promise<{ total: number; warmup: number; maxLagMs: number }> {
  const total = Math.round(((warmupMs + measuredMs) / 1000) * ratePerSecond);
  const warmup = Math.round((warmupMs / 1000) * ratePerSecond);
  const t0 = performance.now();
  let maxLagMs = 0;
  let i = 0;
  while (i < total) {
    const now = performance.now();
    while (i < total && t0 + i * intervalMs <= now) {
      maxLagMs = Math.max(maxLagMs, now - (t0 + i * intervalMs));
      submit(i++);
    }
    if (i < total) await sleep(Math.max(0, t0 + i * intervalMs - performance.now()));
  }
  return { total, warmup, maxLagMs };
}

/** Waits until `done()` or `settleMs` passes. */
async function settle(done: () => boolean): Promise<void> {
  const deadline = performance.now() + settleMs;
  while (!done() && performance.now() < deadline) await sleep(20);
}

/** The ceiling: raw BullMQ, a tiny job from `Queue.add` to the start of the `Worker` processor. */
async function measureRawBullmq(redisUrl: string, log: (line: string) => void): Promise<Latencies> {
  const prefix = `bench-raw-${randomBytes(4).toString('hex')}`;
  const client = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<{ i: number }>('raw', { connection: client, prefix });
  const starts = new Map<number, number>();
  const worker = new Worker<{ i: number }>(
    'raw',
    async (job: Job<{ i: number }>) => {
      starts.set(job.data.i, performance.now());
    },
    { connection: client, prefix, concurrency: 8 },
  );
  try {
    await worker.waitUntilReady();
    const addedAt = new Map<number, number>();
    let failed = 0;
    const run = await paced((i) => {
      addedAt.set(i, performance.now());
      queue.add('j', { i }, { removeOnComplete: true, removeOnFail: true }).catch(() => failed++);
    });
    await settle(() => starts.size >= run.total);
    const samples: number[] = [];
    for (let i = run.warmup; i < run.total; i++) {
      const start = starts.get(i);
      const added = addedAt.get(i);
      if (start !== undefined && added !== undefined) samples.push(start - added);
    }
    if (failed > 0) log(`  raw BullMQ: ${failed} add(s) failed`);
    return { samples, submitted: run.total - run.warmup, maxLagMs: run.maxLagMs };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await client.quit();
  }
}

/**
 * The durable-commit floor: one autocommitted one-row insert (a WAL flush) at the same 200/s on
 * the same PostgreSQL, beside a bare `select 1`. Warden's trigger → first step path commits twice
 * in sequence (the trigger with its runs; the simulation with the first step's claim).
 */
async function measureCommitFloor(databaseUrl: string) {
  const pg = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 4, max: 16 } });
  const table = `bench_commit_${randomBytes(4).toString('hex')}`;
  const measure = async (op: (i: number) => Promise<unknown>) => {
    const latencies = new Map<number, number>();
    const run = await paced((i) => {
      const t0 = performance.now();
      void op(i).then(() => latencies.set(i, performance.now() - t0));
    });
    await settle(() => latencies.size >= run.total);
    const samples: number[] = [];
    for (let i = run.warmup; i < run.total; i++) {
      const v = latencies.get(i);
      if (v !== undefined) samples.push(v);
    }
    return samples;
  };
  try {
    await pg.raw(`create table ${table} (i int primary key, at timestamptz default now())`);
    const select = await measure(() => pg.raw('select 1'));
    const commit = await measure((i) => pg.raw(`insert into ${table} (i) values (?)`, [i]));
    return { select, commit };
  } finally {
    await pg.raw(`drop table if exists ${table}`);
    await pg.destroy();
  }
}

interface WardenCase {
  name: string;
  /** None for a row that only explains another. */
  goal?: Goal;
  label: string;
  skip?: string;
  openDb(): Promise<{ db: Database; another?(): Promise<Database>; cleanup(): Promise<void> }>;
  /**
   * Ingress and worker as `warden serve --role ingress` and `--role worker` would be: ingest on
   * one ledger and connection pool, the engine on another, both appending to the tenant's chain.
   */
  splitRoles?: boolean;
  /**
   * No engine: the queue's handler start counts as the step's. What is left is the durable work
   * Warden does before any step may start (ingest's reads and its one chain statement) without
   * the engine's load beside it — the floor under the inline row on this machine.
   */
  ingestOnly?: boolean;
  /** The queue, and a cleanup for what it leaves behind (Redis keys). */
  openQueue(onError: (err: unknown) => void): { queue: RunQueue; cleanup(): Promise<void> };
}

interface WardenResult extends Latencies {
  phases: Record<string, number[]>;
  errors: number;
  /** Runs finished per second, first handler start to last run finished (the worker's pace). */
  runsPerSecond: number;
  /** Per trigger submitted: statements sent, chain statements among them, and transactions. */
  statements: { all: number; chain: number; transactions: number };
}

function draft(prefix: string, i: number): TriggerDraft {
  return {
    source: 'alertmanager',
    kind: 'alert',
    status: 'firing',
    fingerprint: `${prefix}-${i}`,
    dedupKey: `${prefix}-${i}`,
    labels: { alertname: 'BenchLatency', i: String(i) },
    annotations: {},
    startsAt: new Date().toISOString(),
    endsAt: null,
    eventType: null,
    data: null,
    links: {},
  };
}

async function measureWarden(c: WardenCase, log: (line: string) => void): Promise<WardenResult> {
  const { db, another, cleanup } = await c.openDb();
  const key = generateSigningKey();
  const signer = createWorkerSigner(key);
  const workerSigner = c.splitRoles ? createWorkerSigner(key) : signer;
  let workerDb = db;
  let errors = 0;
  const onError = (err: unknown) => {
    if (errors++ === 0) log(`  ${c.name}: ${(err as Error)?.message ?? err}`);
  };
  const { queue, cleanup: cleanupQueue } = c.openQueue(onError);
  stepStarts.clear();
  try {
    const ledger = await createLedger({ knex: db.knex, signer });
    const deps = { knex: db.knex, ledger };
    if (c.splitRoles) {
      if (!another) throw new Error(`${c.name}: no second connection pool for the worker`);
      workerDb = await another();
    }
    const workerLedger =
      workerDb === db ? ledger : await createLedger({ knex: workerDb.knex, signer: workerSigner });
    await createTenant(deps, { id: tenant, tier: 'enterprise' }, 'bench');
    const parsed = parsePlaybook(playbookYaml, 'bench-latency.yaml');
    if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
    await syncPlaybookVersions(deps, tenant, [{ file: 'bench-latency.yaml', ...parsed }]);
    const catalog = validatePlugins([...plugins, benchPlugin]);
    const logger = pino({ level: 'silent' });
    const { guard } = await openGuardrails({
      knex: workerDb.knex,
      ledger: workerLedger,
      catalog,
      tenants: [],
      logger,
    });
    const engine = createEngine({
      knex: workerDb.knex,
      ledger: workerLedger,
      catalog,
      guard,
      tenants: new Map(),
      logger,
      runLock: createRunLock(workerDb.knex, workerDb.engine),
    });
    // Statements from here on, per trigger: all, the chain's, and transactions begun.
    const sent = { all: 0, chain: 0, transactions: 0 };
    const count = (q: { sql: string }) => {
      sent.all++;
      if (/^\s*with head as/.test(q.sql)) sent.chain++;
      else if (/^begin/i.test(q.sql)) sent.transactions++;
    };
    for (const k of new Set([db.knex, workerDb.knex])) k.on('query', count);
    // Phase timestamps by run id: committed (onRunsCommitted), enqueued (enqueue resolved),
    // handler start (the queue hands the run to the engine).
    const committedAt = new Map<string, number>();
    const enqueuedAt = new Map<string, number>();
    const handlerAt = new Map<string, number>();
    const doneAt = new Map<string, number>();
    await queue.start(async (t, runId) => {
      handlerAt.set(runId, performance.now());
      if (!c.ingestOnly) await engine.process(t, runId);
      doneAt.set(runId, performance.now());
    });
    const ingest = createIngest({
      knex: db.knex,
      ledger,
      startRuns: createStartRuns(),
      onRunsCommitted: (t, ids) => {
        const now = performance.now();
        for (const id of ids) {
          committedAt.set(id, now);
          queue.enqueue(t, id).then(() => enqueuedAt.set(id, performance.now()), onError);
        }
      },
    });
    const prefix = randomBytes(4).toString('hex');
    const acceptedAt = new Map<number, number>();
    const runOf = new Map<number, string>();
    const run = await paced((i) => {
      const delivery = { bodyDigest: `sha256:${i}`, receivedAt: new Date(), meta: {} };
      acceptedAt.set(i, performance.now());
      ingest.accept(tenant, delivery, [draft(prefix, i)]).then((answers) => {
        const id = answers[0]?.runs[0];
        if (id) runOf.set(i, id);
      }, onError);
    });
    /** When trigger i's first step started (or, ingest only, its run's handler). */
    const startOf = (i: number) => {
      if (!c.ingestOnly) return stepStarts.get(i);
      const id = runOf.get(i);
      return id === undefined ? undefined : handlerAt.get(id);
    };
    await settle(() => (c.ingestOnly ? handlerAt.size : stepStarts.size) >= run.total);
    await ingest.drain();
    await queue.idle();

    const samples: number[] = [];
    const phases: Record<string, number[]> = {
      'accept→commit': [],
      'commit→enqueued': [],
      'commit→handler': [],
      'handler→execute': [],
      'handler→run finished': [],
    };
    const push = (key: string, from: number | undefined, to: number | undefined) => {
      if (from !== undefined && to !== undefined) phases[key]?.push(to - from);
    };
    for (let i = run.warmup; i < run.total; i++) {
      const start = startOf(i);
      const accepted = acceptedAt.get(i);
      if (start === undefined || accepted === undefined) continue;
      samples.push(start - accepted);
      const id = runOf.get(i);
      if (!id) continue;
      push('accept→commit', accepted, committedAt.get(id));
      push('commit→enqueued', committedAt.get(id), enqueuedAt.get(id));
      push('commit→handler', committedAt.get(id), handlerAt.get(id));
      push('handler→execute', handlerAt.get(id), start);
      push('handler→run finished', handlerAt.get(id), doneAt.get(id));
    }
    const firstHandler = Math.min(...handlerAt.values());
    const lastDone = Math.max(...doneAt.values());
    return {
      samples,
      submitted: run.total - run.warmup,
      maxLagMs: run.maxLagMs,
      phases,
      errors,
      runsPerSecond: doneAt.size / ((lastDone - firstHandler) / 1000),
      statements: {
        all: sent.all / run.total,
        chain: sent.chain / run.total,
        transactions: sent.transactions / run.total,
      },
    };
  } finally {
    await queue.stop();
    await cleanupQueue();
    await signer.close();
    if (workerSigner !== signer) await workerSigner.close();
    if (workerDb !== db) await workerDb.close();
    await cleanup();
  }
}

function wardenCases(databaseUrl: string | undefined, redisUrl: string | undefined): WardenCase[] {
  const postgres = () => openBenchSchema(databaseUrl);
  const inline = (onError: (err: unknown) => void) => ({
    queue: createInlineQueue({ onError }),
    cleanup: async () => {},
  });
  const bullmq = (onError: (err: unknown) => void) => {
    const prefix = `bench-warden-${randomBytes(4).toString('hex')}`;
    const url = redisUrl as string;
    return {
      queue: createBullmqQueue({
        connection: { url },
        prefix,
        onError: (f) => onError(f.error),
      }),
      async cleanup() {
        const client = new Redis(url, { maxRetriesPerRequest: null });
        const leftover = new Queue('runs', { connection: client, prefix });
        try {
          await leftover.obliterate({ force: true });
        } finally {
          await leftover.close();
          await client.quit();
        }
      },
    };
  };
  const noDatabase = databaseUrl ? undefined : 'skipped: DATABASE_URL is not set';
  const noBullmq = noDatabase ?? (redisUrl ? undefined : 'skipped: REDIS_URL is not set');
  return [
    {
      name: 'runtime.inline-pglite.p99',
      goal: goals.inline,
      label: 'inline queue, in-memory PGlite',
      async openDb() {
        const db = await openDatabase({});
        return { db, cleanup: () => db.close() };
      },
      openQueue: inline,
    },
    {
      name: 'runtime.inline-postgres.p99',
      goal: goals.inline,
      label: 'inline queue, PostgreSQL',
      ...(noDatabase ? { skip: noDatabase } : {}),
      openDb: postgres,
      openQueue: inline,
    },
    {
      name: 'runtime.ingest-only-postgres.p99',
      label: 'inline queue, PostgreSQL, ingest only (no engine: the run handler start counts)',
      ingestOnly: true,
      ...(noDatabase ? { skip: noDatabase } : {}),
      openDb: postgres,
      openQueue: inline,
    },
    {
      name: 'runtime.bullmq-postgres.p99',
      goal: goals.bullmq,
      label: 'BullMQ queue, PostgreSQL',
      ...(noBullmq ? { skip: noBullmq } : {}),
      openDb: postgres,
      openQueue: bullmq,
    },
    {
      name: 'runtime.bullmq-postgres-split.p99',
      label: 'BullMQ queue, PostgreSQL, ingress and worker on separate ledgers and pools',
      splitRoles: true,
      ...(noBullmq ? { skip: noBullmq } : {}),
      openDb: postgres,
      openQueue: bullmq,
    },
  ];
}

export const runtimeBenchmark = defineBenchmark({
  name: 'runtime',
  description:
    'trigger → first step start latency at a steady 200 triggers/s vs raw BullMQ add → start',
  async run({ databaseUrl, log }) {
    const redisUrl = process.env.REDIS_URL || undefined;
    let ceiling: Latencies | undefined;
    let ceilingNote = 'no ceiling: REDIS_URL is not set';
    if (redisUrl) {
      log('runtime: raw BullMQ add → processor start (ceiling)');
      try {
        ceiling = await withDeadline(measureRawBullmq(redisUrl, log), caseDeadlineMs, 'raw BullMQ');
        ceilingNote =
          `raw BullMQ Queue.add → Worker processor start, ${ratePerSecond}/s, concurrency 8: ` +
          `p50 ${ms(percentile(ceiling.samples, 50))}, p99 ${ms(percentile(ceiling.samples, 99))}, ` +
          `max ${ms(Math.max(...ceiling.samples))}, ${ceiling.samples.length}/${ceiling.submitted} started`;
      } catch (err) {
        ceilingNote = `ceiling failed: ${(err as Error).message}`;
      }
      log(`  ${ceilingNote}`);
    }
    const ceilingP99 =
      ceiling && ceiling.samples.length > 0 ? percentile(ceiling.samples, 99) : null;

    const rows: BenchRow[] = [];
    const only = process.env.BENCH_RUNTIME_ONLY;
    for (const c of wardenCases(databaseUrl, redisUrl).filter(
      (w) => !only || w.name.includes(only),
    )) {
      const base = {
        name: c.name,
        unit: 'ms',
        warden: null,
        ceiling: ceilingP99,
        ceilingLabel: ceilingNote,
        ...(ratePerSecond === goalRate && c.goal ? { goal: c.goal } : {}),
      };
      if (c.skip) {
        rows.push({ ...base, note: c.skip });
        continue;
      }
      log(`runtime: ${c.label}`);
      try {
        const r = await withDeadline(measureWarden(c, log), caseDeadlineMs, c.name);
        const phases = Object.entries(r.phases)
          .filter(([, v]) => v.length > 0)
          .map(([k, v]) => `${k} p50 ${ms(median(v))} p99 ${ms(percentile(v, 99))}`)
          .join(', ');
        const note =
          `${c.label}; ingest.accept → ${c.ingestOnly ? 'run handler' : 'step execute'} start, ` +
          `${ratePerSecond}/s open loop for ` +
          `${measuredMs / 1000} s after ${warmupMs / 1000} s warm-up: ` +
          `p50 ${ms(percentile(r.samples, 50))}, p99 ${ms(percentile(r.samples, 99))}, ` +
          `max ${ms(r.samples.length > 0 ? Math.max(...r.samples) : Number.NaN)}, ` +
          `${r.samples.length}/${r.submitted} completed, ${r.errors} error(s), ` +
          `pacing lag max ${ms(r.maxLagMs)}, runs finished ${r.runsPerSecond.toFixed(0)}/s, ` +
          `per trigger ${r.statements.all.toFixed(1)} statements (${r.statements.chain.toFixed(2)} ` +
          `on the chain, ${r.statements.transactions.toFixed(2)} transactions); ` +
          `phases: ${phases}`;
        log(`  ${note}`);
        rows.push({
          ...base,
          warden: r.samples.length > 0 ? percentile(r.samples, 99) : null,
          samples: { warden: r.samples, ceiling: ceiling?.samples ?? [] },
          note,
          ...(r.samples.length === 0 ? { error: 'no run reached its step' } : {}),
        });
      } catch (err) {
        rows.push({ ...base, error: (err as Error).message });
      }
    }
    if (databaseUrl) {
      log('runtime: durable-commit floor (PostgreSQL)');
      try {
        const floor = await withDeadline(measureCommitFloor(databaseUrl), caseDeadlineMs, 'floor');
        const commitP99 = percentile(floor.commit, 99);
        const note =
          `one autocommitted insert at ${ratePerSecond}/s: p50 ${ms(median(floor.commit))}, ` +
          `p99 ${ms(commitP99)}; Warden commits twice in sequence before a step starts ` +
          `(the trigger with its runs; the simulation with the claim): 2 × that p99 = ${ms(2 * commitP99)}. ` +
          'The rest of the gap: the other round trips on the path (ingest reads; run lock, run read, ' +
          'kill switches), each waiting for one of the cores that Node and PostgreSQL share; ' +
          'runtime.ingest-only-postgres.p99 is the path up to the run handler without the engine ' +
          'running beside it';
        log(`  ${note}`);
        rows.push({
          name: 'runtime.durable-commit-postgres.p99',
          unit: 'ms',
          warden: commitP99,
          ceiling: percentile(floor.select, 99),
          ceilingLabel: `bare select 1 at ${ratePerSecond}/s: p50 ${ms(median(floor.select))}`,
          samples: { warden: floor.commit, ceiling: floor.select },
          note,
        });
      } catch (err) {
        rows.push({
          name: 'runtime.durable-commit-postgres.p99',
          unit: 'ms',
          warden: null,
          ceiling: null,
          ceilingLabel: 'bare select 1',
          error: (err as Error).message,
        });
      }
    }
    return rows;
  },
});
