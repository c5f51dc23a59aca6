/**
 * A worker dies mid-step (issue 4), on PostgreSQL and BullMQ: runs reach worker processes
 * (test/helpers/run-worker.ts) through Redis; one is SIGKILLed while its step's side effect is
 * done but not yet recorded, and a second worker takes the run over. A step that is not idempotent
 * is not run again: it becomes `unknown` and the run fails for a human to check. An idempotent
 * step is run again and the run succeeds. A local HTTP target counts the side effects.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBundle } from '../../src/ledger/bundle.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { parsePlaybook } from '../../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../../src/pipeline/playbook-versions.js';
import { createRun } from '../../src/pipeline/start-runs.js';
import { createBullmqQueue } from '../../src/queue/bullmq-queue.js';
import type { RunQueue } from '../../src/queue/run-queue.js';
import { type Database, openDatabase } from '../../src/storage/database.js';
import { currentVersions } from '../../src/storage/playbooks.js';
import { getRunRow, getSteps } from '../../src/storage/runs.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { createTestLedger } from '../helpers/database.js';
import {
  createFreshDatabase,
  redisUrl,
  serviceAvailable,
  uniqueRedisPrefix,
} from '../helpers/services.js';

// At module level, so that WARDEN_REQUIRE_SERVICES=1 without either service fails the file loudly.
const ready = serviceAvailable('DATABASE_URL') && serviceAvailable('REDIS_URL');
const workerScript = fileURLToPath(new URL('../helpers/run-worker.ts', import.meta.url));
const tenant = 'acme';
const prefix = uniqueRedisPrefix();
const settled = ['succeeded', 'failed', 'denied', 'cancelled', 'awaiting_approval'];

interface Post {
  key: string;
  pid: number;
}

/** The target: records every POST's `{ key, pid }` (key = tenant:run:step). */
function startTarget(): Promise<{ posts: Post[]; host: string; server: Server }> {
  const posts: Post[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      posts.push(JSON.parse(body) as Post);
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ posts, host: `127.0.0.1:${port}`, server });
    });
  });
}

interface WorkerProcess {
  proc: ChildProcess;
  /** Resolves once the worker takes work. */
  ready: Promise<void>;
  stderr(): string;
}

/** Polls until `check` holds, or fails naming what it waited for. */
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(25);
  }
}

function exitOf(proc: ChildProcess): Promise<unknown> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', resolve));
}

describe.runIf(ready)('worker crash mid-step [postgres, bullmq]', () => {
  const children: WorkerProcess[] = [];
  const queues: Array<{ name: string; ingress: RunQueue }> = [];
  let fresh: Awaited<ReturnType<typeof createFreshDatabase>>;
  let db: Database;
  let target: Awaited<ReturnType<typeof startTarget>>;
  let holdDir: string;

  const playbook = (name: string, steps: string, spec = '') => {
    const yaml = `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name}, owner: team-ingest }
spec:
  on:
    - alert: { match: { alertname: Never } }
${spec}
  steps:
${steps}`;
    const parsed = parsePlaybook(yaml, `${name}.yaml`);
    if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
    return { file: `${name}.yaml`, ...parsed };
  };

  /** One `slow.write` step that holds until its release file exists. */
  const heldStep = (name: string, idempotent: boolean) => `
    - id: write
      uses: slow.write
      idempotent: ${idempotent}
      with: { url: "http://${target.host}/${name}", holdFile: "${join(holdDir, name)}" }`;

  beforeAll(async () => {
    target = await startTarget();
    holdDir = await mkdtemp(join(tmpdir(), 'warden-crash-'));
    fresh = await createFreshDatabase();
    db = await openDatabase({ databaseUrl: fresh.url });
    const { ledger } = await createTestLedger(db);
    const deps = { knex: db.knex, ledger };
    await createTenant(deps, { id: tenant, tier: 'enterprise' }, 'test');
    const twoSteps = ['a', 'b'].map(
      (id) => `
    - id: ${id}
      uses: slow.write
      with: { url: "http://${target.host}/two-steps", holdMs: 150 }`,
    );
    const budgeted = playbook(
      'budgeted',
      `
    - id: write
      uses: slow.write
      with: { url: "http://${target.host}/budgeted" }`,
      '  budgets: { actionsPerHour: 5 }',
    );
    await syncPlaybookVersions(deps, tenant, [
      playbook('once-only', heldStep('once-only', false)),
      playbook('again-safe', heldStep('again-safe', true)),
      playbook('two-steps', twoSteps.join('')),
      budgeted,
    ]);
    await ledger.drain();
  });

  afterAll(async () => {
    for (const child of children) child.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => exitOf(c.proc)));
    const client = new Redis(redisUrl ?? '', { maxRetriesPerRequest: null });
    for (const { name, ingress } of queues) {
      await ingress.stop();
      const queue = new Queue(name, { connection: client, prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await client.quit();
    await db?.close();
    await fresh?.drop();
    await new Promise((resolve) => target?.server.close(resolve));
    if (holdDir) await rm(holdDir, { recursive: true, force: true });
  });

  /** The queue a case's workers share, and the ingress end of it (never started). */
  const newQueue = () => {
    const name = `crash-${randomBytes(4).toString('hex')}`;
    const ingress = createBullmqQueue({
      connection: { url: redisUrl ?? '' },
      prefix,
      queueName: name,
      onError: (f) => console.error('ingress queue:', f.error),
    });
    queues.push({ name, ingress });
    return { name, ingress };
  };

  const startWorker = (queueName: string, concurrency = 4): WorkerProcess => {
    const proc = spawn(process.execPath, ['--import', 'tsx', workerScript], {
      env: {
        ...process.env,
        DATABASE_URL: fresh.url,
        WARDEN_TEST_PREFIX: prefix,
        WARDEN_TEST_QUEUE: queueName,
        WARDEN_TEST_TARGET: target.host,
        WARDEN_TEST_CONCURRENCY: String(concurrency),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
    const started = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line === 'ready') resolve();
      });
      proc.once('exit', (code, signal) =>
        reject(new Error(`worker ${proc.pid} ended (${code ?? signal}) before ready:\n${stderr}`)),
      );
    });
    started.catch(() => {});
    const child = { proc, ready: started, stderr: () => stderr };
    children.push(child);
    return child;
  };

  const stopWorker = async (child: WorkerProcess) => {
    child.proc.kill('SIGTERM');
    await exitOf(child.proc);
    expect(child.proc.exitCode, child.stderr()).toBe(0);
  };

  const newRun = async (name: string) => {
    const version = (await currentVersions(db.knex, tenant)).find((v) => v.name === name);
    if (!version) throw new Error(`no playbook ${name}`);
    return db.knex.transaction((trx) => createRun(trx, version, null));
  };

  const settle = (runId: string) =>
    until(`run ${runId} to settle`, async () =>
      settled.includes((await getRunRow(db.knex, tenant, runId))?.status ?? ''),
    );

  const postsOf = (runId: string) => target.posts.filter((p) => p.key.includes(`:${runId}:`));

  const receiptsOf = async (runId: string) =>
    (await db.knex('receipts').where({ tenant_id: tenant, run_id: runId }).orderBy('seq')).map(
      (r) => JSON.parse(r.body) as { kind: string; outcome?: string; status?: string },
    );

  const chainVerifies = async () => {
    const report = verifyBundle(await exportBundle(db.knex, tenant));
    return report.ok || report.checks.filter((c) => !c.ok);
  };

  /** Kills the worker holding `runId` mid-step, releases the step, starts a second worker. */
  const crashMidStep = async (playbookName: string) => {
    const { name, ingress } = newQueue();
    const runId = await newRun(playbookName);
    const first = startWorker(name);
    await first.ready;
    await ingress.enqueue(tenant, runId);
    await until('the step to reach the target', () => postsOf(runId).length === 1);
    first.proc.kill('SIGKILL');
    await exitOf(first.proc);
    // Were the step run again, it would now finish at once.
    await writeFile(join(holdDir, playbookName), '');
    const second = startWorker(name);
    await second.ready;
    await settle(runId);
    await stopWorker(second);
    return { runId, firstPid: first.proc.pid, secondPid: second.proc.pid };
  };

  it('does not run a non-idempotent step again: it is unknown and the run fails, honestly', async () => {
    const { runId, firstPid } = await crashMidStep('once-only');
    expect(postsOf(runId)).toEqual([{ key: `${tenant}:${runId}:write`, pid: firstPid }]);
    const run = await getRunRow(db.knex, tenant, runId);
    expect(run?.status).toBe('failed');
    expect(run?.error).toBe('step write: outcome unknown; check it by hand');
    const steps = await getSteps(db.knex, tenant, runId);
    expect(steps.map((s) => [s.step_id, s.status])).toEqual([['write', 'unknown']]);
    expect(steps[0]?.error).toMatch(/claimed but unfinished.*not idempotent/);
    const receipts = await receiptsOf(runId);
    expect(receipts.map((r) => [r.kind, r.outcome ?? r.status])).toEqual([
      ['run.simulated', undefined],
      ['step.executed', 'unknown'],
      ['run.finished', 'failed'],
    ]);
    expect(await chainVerifies()).toBe(true);
  });

  it('runs an idempotent step again after the crash, and the run succeeds', async () => {
    const { runId, firstPid, secondPid } = await crashMidStep('again-safe');
    // Two side effects, both under the same idempotency key: what "idempotent" allows.
    const key = `${tenant}:${runId}:write`;
    expect(postsOf(runId)).toEqual([
      { key, pid: firstPid },
      { key, pid: secondPid },
    ]);
    const run = await getRunRow(db.knex, tenant, runId);
    expect(run?.status).toBe('succeeded');
    const steps = await getSteps(db.knex, tenant, runId);
    expect(steps.map((s) => [s.step_id, s.status])).toEqual([['write', 'succeeded']]);
    expect(steps[0]?.output).toEqual({ pid: secondPid });
    const receipts = await receiptsOf(runId);
    expect(receipts.map((r) => [r.kind, r.outcome ?? r.status])).toEqual([
      ['run.simulated', undefined],
      ['step.executed', 'succeeded'],
      ['run.finished', 'succeeded'],
    ]);
    expect(await chainVerifies()).toBe(true);
  });

  it('runs each step once when two workers share the queue', async () => {
    const { name, ingress } = newQueue();
    const workers = [startWorker(name, 2), startWorker(name, 2)];
    await Promise.all(workers.map((w) => w.ready));
    const runIds: string[] = [];
    for (let i = 0; i < 8; i++) runIds.push(await newRun('two-steps'));
    // Each run twice, as when a worker's start resumes a run ingress just enqueued.
    await Promise.all(
      runIds.flatMap((id) => [ingress.enqueue(tenant, id), ingress.enqueue(tenant, id)]),
    );
    for (const id of runIds) await settle(id);
    await Promise.all(workers.map(stopWorker));
    const posts = runIds.flatMap(postsOf);
    const expected = runIds.flatMap((id) => [`${tenant}:${id}:a`, `${tenant}:${id}:b`]);
    expect(posts.map((p) => p.key).sort()).toEqual(expected.sort());
    expect(new Set(posts.map((p) => p.pid))).toEqual(new Set(workers.map((w) => w.proc.pid)));
    for (const id of runIds) {
      expect((await getRunRow(db.knex, tenant, id))?.status).toBe('succeeded');
      const executed = (await receiptsOf(id)).filter((r) => r.kind === 'step.executed');
      expect(executed.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded']);
    }
    expect(await chainVerifies()).toBe(true);
  });

  it('lets exactly 5 of 50 runs act under actionsPerHour: 5 with two workers racing', async () => {
    const { name, ingress } = newQueue();
    const workers = [startWorker(name, 8), startWorker(name, 8)];
    await Promise.all(workers.map((w) => w.ready));
    const runIds: string[] = [];
    for (let i = 0; i < 50; i++) runIds.push(await newRun('budgeted'));
    await Promise.all(runIds.map((id) => ingress.enqueue(tenant, id)));
    for (const id of runIds) await settle(id);
    await Promise.all(workers.map(stopWorker));
    const posts = runIds.flatMap(postsOf);
    expect(posts).toHaveLength(5);
    const statuses = await Promise.all(
      runIds.map(async (id) => (await getRunRow(db.knex, tenant, id))?.status),
    );
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(5);
    expect(statuses.filter((s) => s === 'denied')).toHaveLength(45);
    const denials = (await Promise.all(runIds.map(receiptsOf)))
      .flat()
      .filter((r) => r.kind === 'step.denied') as Array<{ reasons?: string[] }>;
    expect(denials).toHaveLength(45);
    expect(new Set(denials.map((d) => d.reasons?.join()))).toEqual(
      new Set(['actions_per_hour_exceeded']),
    );
    expect(await chainVerifies()).toBe(true);
  });
});
