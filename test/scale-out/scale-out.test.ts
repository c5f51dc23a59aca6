/**
 * Scale-out (issue 11): two `warden serve --role ingress` and two `--role worker` processes on one
 * machine, started together on a fresh PostgreSQL database, sharing a Redis prefix, one signing key
 * and one config file. Alerts are spread over both ingresses — some posted to both at the same
 * moment — a budgeted playbook is flooded, a cron schedule fires every two seconds throughout, and
 * one worker is replaced under load (a rolling restart: a new worker starts as the old one gets
 * SIGTERM). A local HTTP target records each step's call with its Idempotency-Key, so a step run
 * twice, a tick fired twice or an overspent budget shows. Prints the throughput figures.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvidenceBundle, exportBundle } from '../../src/ledger/bundle.js';
import { generateSigningKey, keyIdOf } from '../../src/ledger/ed25519.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { type Database, openDatabase } from '../../src/storage/database.js';
import { type Answer, loadPlan, postAlerts } from '../helpers/scale-alerts.js';
import {
  type ConnectionWatch,
  clearRedisPrefix,
  killWarden,
  metricSum,
  scrapeMetrics,
  startWarden,
  stopWarden,
  type WardenProcess,
  watchConnections,
} from '../helpers/scale-cluster.js';
import { writeScaleConfig } from '../helpers/scale-config.js';
import { duplicateKeys, type ScaleTarget, startScaleTarget } from '../helpers/scale-target.js';
import {
  createFreshDatabase,
  redisUrl,
  serviceAvailable,
  uniqueRedisPrefix,
} from '../helpers/services.js';

// At module level, so that WARDEN_REQUIRE_SERVICES=1 without either service fails the file loudly.
const ready = serviceAvailable('DATABASE_URL') && serviceAvailable('REDIS_URL');

const tenant = 'scale';
const token = 'wdn_scale_ingest_3c9e0d71a4b25f68';
const loadAlerts = 540;
const budgetAlerts = 60;
const actionsPerHour = 5;
/** Every 10th load alert is posted to both ingresses at the same moment. */
const twinEvery = 10;
const cronSeconds = 2;
const minTicks = 5;
/** worker-2 is replaced once this many alert runs have finished. */
const rollAfter = 100;
const alertPlaybooks = ['scale-load', 'scale-budget'];
const finished = ['succeeded', 'failed', 'denied', 'cancelled'];

interface RunRow {
  id: string;
  playbook_name: string;
  trigger_id: string | null;
  status: string;
  created_at: Date;
  finished_at: Date | null;
}

interface TriggerRow {
  id: string;
  source: string;
  starts_at: Date | null;
}

interface Payload {
  kind: string;
  /** The receipt's `run_id` column. */
  runId: string | null;
  reasons?: string[];
}

/** Polls until `check` holds, or fails naming what it waited for. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

describe.runIf(ready)('scale-out: 2 ingress + 2 worker processes [postgres, redis]', () => {
  const procs: WardenProcess[] = [];
  const prefix = uniqueRedisPrefix();
  let dir = '';
  let fresh: Awaited<ReturnType<typeof createFreshDatabase>> | undefined;
  let db: Database | undefined;
  let target: ScaleTarget | undefined;
  let watch: ConnectionWatch | undefined;
  let keyId = '';
  let answers: Answer[] = [];
  let loadMs = 0;
  let startMs = 0;
  /** Runs `running` when worker-2 got SIGTERM. */
  let runningAtRoll = 0;
  /** Counters each process reported for what it committed itself (worker-2's before SIGTERM). */
  const ingressTriggers: number[] = [];
  const workerRuns = new Map<string, number>();
  /** Cron ticks each worker fired (`warden_triggers_total{source="cron"}`): none, by its role. */
  const workerTicks = new Map<string, number>();
  let runs: RunRow[] = [];
  let triggers: TriggerRow[] = [];
  let payloads: Payload[] = [];
  let bundle: EvidenceBundle | undefined;

  const knex = () => {
    if (!db) throw new Error('no database');
    return db.knex;
  };
  const running = (role: WardenProcess['role']) =>
    procs.filter((p) => p.role === role && p.child.exitCode === null && !p.child.signalCode);
  const named = (name: string) => {
    const proc = procs.find((p) => p.name === name);
    if (!proc) throw new Error(`no process ${name}`);
    return proc;
  };
  const countRuns = async (where: (q: ReturnType<ReturnType<typeof knex>>) => void) => {
    const q = knex()('runs').where({ tenant_id: tenant });
    where(q);
    const [row] = await q.count<Array<{ count: string }>>({ count: '*' });
    return Number(row?.count ?? 0);
  };
  const finishedAlertRuns = () =>
    countRuns((q) => q.whereIn('playbook_name', alertPlaybooks).whereIn('status', finished));
  const runsCounted = async (proc: WardenProcess) =>
    metricSum(await scrapeMetrics(proc), 'warden_runs_total', { tenant });
  const countWorker = async (proc: WardenProcess) => {
    const text = await scrapeMetrics(proc);
    workerRuns.set(proc.name, metricSum(text, 'warden_runs_total', { tenant }));
    workerTicks.set(
      proc.name,
      metricSum(text, 'warden_triggers_total', { tenant, source: 'cron' }),
    );
  };

  beforeAll(async () => {
    target = await startScaleTarget();
    dir = await mkdtemp(join(tmpdir(), 'warden-scale-'));
    fresh = await createFreshDatabase();
    // One connection: the test's own queries, and the count of everyone else's.
    db = await openDatabase({ databaseUrl: fresh.url, migrate: false, poolMax: 1 });
    watch = watchConnections(knex(), new URL(fresh.url).pathname.slice(1));

    const key = generateSigningKey();
    keyId = keyIdOf(createPublicKey(key));
    const env = {
      DATABASE_URL: fresh.url,
      REDIS_URL: redisUrl ?? '',
      WARDEN_REDIS_PREFIX: prefix,
      WARDEN_SIGNING_KEY: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
      WARDEN_CONFIG: await writeScaleConfig(dir, {
        tenant,
        targetHost: target.host,
        actionsPerHour,
        cronSeconds,
        tokenEnv: 'SCALE_INGEST_TOKEN',
      }),
      SCALE_INGEST_TOKEN: token,
      LOG_LEVEL: 'warn',
    };
    // All four at once on the empty database: they migrate and sync the tenant concurrently.
    startMs = performance.now();
    const started = await Promise.allSettled(
      (['ingress', 'ingress', 'worker', 'worker'] as const).map((role, i) =>
        startWarden({ role, name: `${role}-${(i % 2) + 1}`, dir, env }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') procs.push(s.value);
    const failed = started.filter((s) => s.status === 'rejected');
    if (failed.length > 0) throw (failed[0] as PromiseRejectedResult).reason;
    startMs = performance.now() - startMs;

    const ingressUrls = running('ingress').map((p) => p.url);
    const loadStarted = performance.now();
    const load = postAlerts(
      ingressUrls,
      tenant,
      token,
      loadPlan({ load: loadAlerts, budget: budgetAlerts, twinEvery }),
    ).then((all) => {
      loadMs = performance.now() - loadStarted;
      answers = all;
    });
    // A rolling restart under load: worker-3 starts as worker-2 drains on SIGTERM.
    const roll = (async () => {
      await until(`${rollAfter} alert runs to finish`, async () => {
        return (await finishedAlertRuns()) >= rollAfter;
      });
      const old = named('worker-2');
      await countWorker(old);
      runningAtRoll = await countRuns((q) => q.where({ status: 'running' }));
      const [replacement] = await Promise.all([
        startWarden({ role: 'worker', name: 'worker-3', dir, env }),
        stopWarden(old),
      ]);
      procs.push(replacement);
    })();
    await Promise.all([load, roll]);

    const alertRuns = answers.flatMap((a) => a.accepted.flatMap((e) => e.runs)).length;
    await until(`the ${alertRuns} runs of the accepted alerts to finish`, async () => {
      return (await finishedAlertRuns()) >= alertRuns;
    });
    await until(`${minTicks} cron runs to succeed, one of them on worker-3`, async () => {
      const done = await countRuns((q) =>
        q.where({ playbook_name: 'scale-cron', status: 'succeeded' }),
      );
      return done >= minTicks && (await runsCounted(named('worker-3'))) > 0;
    });

    // Each ingress counts the triggers it committed; read them before it stops.
    await until('the ingresses to count every stored alert', async () => {
      const texts = await Promise.all(running('ingress').map(scrapeMetrics));
      ingressTriggers.splice(
        0,
        Infinity,
        ...texts.map((t) =>
          metricSum(t, 'warden_triggers_total', { tenant, source: 'alertmanager' }),
        ),
      );
      return ingressTriggers.reduce((a, b) => a + b, 0) >= alertRuns;
    });
    // No more ticks once both ingresses are gone; the workers then finish what was queued.
    await Promise.all(running('ingress').map((p) => stopWarden(p)));
    await until('every run to finish', async () => {
      return (await countRuns((q) => q.whereNotIn('status', finished))) === 0;
    });
    for (const p of running('worker')) await countWorker(p);
    await Promise.all(running('worker').map((p) => stopWarden(p)));
    watch.stop();

    runs = await knex()('runs').where({ tenant_id: tenant });
    triggers = await knex()('triggers').where({ tenant_id: tenant });
    const rows = await knex()('receipts').where({ tenant_id: tenant }).select('body', 'run_id');
    payloads = rows.map((r: { body: string; run_id: string | null }) => ({
      ...(JSON.parse(r.body) as Omit<Payload, 'runId'>),
      runId: r.run_id,
    }));
    bundle = await exportBundle(knex(), tenant);
  }, 180_000);

  afterAll(async () => {
    watch?.stop();
    for (const p of procs) killWarden(p);
    if (redisUrl) await clearRedisPrefix(redisUrl, prefix);
    await db?.close();
    await fresh?.drop();
    await target?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  const callsTo = (path: string) => (target?.calls ?? []).filter((c) => c.path === path);
  const keysAt = (path: string) =>
    callsTo(path)
      .map((c) => c.key)
      .sort();
  const runsOf = (name: string) => runs.filter((r) => r.playbook_name === name);
  const keyOf = (run: RunRow) => `${tenant}:${run.id}:call`;

  it('starts four processes at once on an empty database (and a fifth later), creating the tenant once', () => {
    expect(procs.map((p) => p.name)).toEqual([
      'ingress-1',
      'ingress-2',
      'worker-1',
      'worker-2',
      'worker-3',
    ]);
    expect(payloads.filter((p) => p.kind === 'tenant.created')).toHaveLength(1);
  });

  it('stores every trigger an ingress acknowledged, and each alert once however many got it', () => {
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    const fresh = answers.flatMap((a) => a.accepted.filter((e) => !e.duplicate));
    expect(fresh).toHaveLength(loadAlerts + budgetAlerts);
    for (const e of fresh) expect(e.runs).toHaveLength(1);
    const alerts = triggers.filter((t) => t.source === 'alertmanager');
    expect(alerts.map((t) => t.id).sort()).toEqual(fresh.map((e) => e.triggerId).sort());
    const runOf = new Map(runs.map((r) => [r.id, r.trigger_id]));
    for (const e of fresh) expect(runOf.get(e.runs[0] ?? '')).toBe(e.triggerId);

    // Posted to both ingresses at the same moment: one stored it, the other answered duplicate.
    const twins = answers.filter((a) => a.alertname === 'ScaleLoad' && a.n % twinEvery === 0);
    expect(twins).toHaveLength((loadAlerts / twinEvery) * 2);
    for (let n = 0; n < loadAlerts; n += twinEvery) {
      const pair = twins.filter((a) => a.n === n).flatMap((a) => a.accepted);
      expect(pair.map((e) => e.duplicate).sort()).toEqual([false, true]);
      expect(pair[0]?.triggerId).toBe(pair[1]?.triggerId);
      expect(pair.find((e) => e.duplicate)?.runs).toEqual([]);
    }

    // Both ingresses took alerts, and each committed exactly those it acknowledged as new.
    const mine = [0, 1].map(
      (i) =>
        answers
          .filter((a) => a.ingress === i)
          .flatMap((a) => a.accepted.filter((e) => !e.duplicate)).length,
    );
    for (const n of mine) expect(n).toBeGreaterThan(100);
    expect(ingressTriggers).toEqual(mine);
  });

  it('executes every step exactly once across the workers, through a rolling restart of one', () => {
    expect(duplicateKeys(target?.calls ?? [])).toEqual([]);
    const load = runsOf('scale-load');
    expect(load).toHaveLength(loadAlerts);
    // A run drained by worker-2 or taken over by another one would show here as failed (unknown).
    expect(load.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(keysAt('/load')).toEqual(load.map(keyOf).sort());
    // Every worker ran playbooks: worker-2 before its SIGTERM, worker-3 after it started.
    expect([...workerRuns.keys()].sort()).toEqual(['worker-1', 'worker-2', 'worker-3']);
    for (const n of workerRuns.values()) expect(n).toBeGreaterThan(0);
    expect([...workerRuns.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(runs.length);
  });

  it('leaves the cron ticks to the ingresses: a worker fires none', () => {
    expect([...workerTicks.keys()].sort()).toEqual(['worker-1', 'worker-2', 'worker-3']);
    expect([...workerTicks.values()]).toEqual([0, 0, 0]);
  });

  it(`lets exactly ${actionsPerHour} of ${budgetAlerts} runs act under actionsPerHour, denying the rest with receipts`, () => {
    const budget = runsOf('scale-budget');
    expect(budget).toHaveLength(budgetAlerts);
    const succeeded = budget.filter((r) => r.status === 'succeeded');
    expect(succeeded).toHaveLength(actionsPerHour);
    expect(budget.filter((r) => r.status === 'denied')).toHaveLength(budgetAlerts - actionsPerHour);
    expect(keysAt('/budgeted')).toEqual(succeeded.map(keyOf).sort());
    const ids = new Set(budget.map((r) => r.id));
    const denials = payloads.filter((p) => p.kind === 'step.denied' && ids.has(p.runId ?? ''));
    expect(denials).toHaveLength(budgetAlerts - actionsPerHour);
    for (const d of denials) expect(d.reasons).toEqual(['actions_per_hour_exceeded']);
  });

  it('fires the cron schedule once per tick across both ingresses, missing none', () => {
    const ticks = triggers
      .filter((t) => t.source === 'cron')
      .map((t) => t.starts_at?.getTime() ?? Number.NaN)
      .sort((a, b) => a - b);
    expect(ticks.length).toBeGreaterThanOrEqual(minTicks);
    for (const t of ticks) expect(t % (cronSeconds * 1000)).toBe(0);
    for (let i = 1; i < ticks.length; i++) {
      expect((ticks[i] as number) - (ticks[i - 1] as number)).toBe(cronSeconds * 1000);
    }
    // One run per tick, each step once at the target, told its own tick.
    const cron = runsOf('scale-cron');
    expect(cron).toHaveLength(ticks.length);
    expect(new Set(cron.map((r) => r.trigger_id)).size).toBe(ticks.length);
    expect(cron.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(keysAt('/cron')).toEqual(cron.map(keyOf).sort());
    const told = callsTo('/cron').map((c) =>
      Date.parse((JSON.parse(c.body) as { tick: string }).tick),
    );
    expect(told.sort((a, b) => a - b)).toEqual(ticks);
  });

  it('keeps one chain, signed by the one shared key, that verifies', () => {
    if (!bundle) throw new Error('no bundle');
    expect(bundle.keys.map((k) => k.keyId)).toEqual([keyId]);
    expect(bundle.receipts).toHaveLength(payloads.length);
    const report = verifyBundle(bundle);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    // Committed by ingresses (triggers) and workers (steps, runs) alike.
    const kinds = new Set(payloads.map((p) => p.kind));
    for (const kind of ['trigger.received', 'run.simulated', 'step.executed', 'step.denied'])
      expect(kinds).toContain(kind);
  });

  it('prints the throughput figures', () => {
    const alertRuns = runs.filter((r) => alertPlaybooks.includes(r.playbook_name));
    const first = Math.min(...alertRuns.map((r) => r.created_at.getTime()));
    const last = Math.max(...alertRuns.map((r) => r.finished_at?.getTime() ?? Number.NaN));
    const accepted = triggers.filter((t) => t.source === 'alertmanager').length;
    // Ticks the pattern had from the first to the last one fired, and those that reached the target.
    const times = triggers
      .filter((t) => t.source === 'cron')
      .map((t) => t.starts_at?.getTime() ?? 0);
    const ticks = (Math.max(...times) - Math.min(...times)) / (cronSeconds * 1000) + 1;
    const fired = new Set(callsTo('/cron').map((c) => c.body)).size;
    const list = (entries: Iterable<[string, number]>) =>
      [...entries]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, n]) => `${name.replace(/^warden-/, '')}:${n}`)
        .join(',');
    const figures = {
      ingress: 2,
      workers: 2,
      rolled: 1,
      posts: answers.length,
      triggers: accepted,
      'accepted/s': (accepted / (loadMs / 1000)).toFixed(0),
      runs: alertRuns.length,
      'runs/s': (alertRuns.length / ((last - first) / 1000)).toFixed(0),
      duplicates: duplicateKeys(target?.calls ?? []).length,
      budget: `${keysAt('/budgeted').length}/${budgetAlerts}`,
      'cron ticks': ticks,
      fired,
      'per ingress': ingressTriggers.join('+'),
      'runs per worker': list(workerRuns),
      'running at roll': runningAtRoll,
      'peak db connections': list(watch?.peaks ?? []),
      'start s': (startMs / 1000).toFixed(1),
    };
    const line = Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(`scale-out: ${line}`);
    expect(Number(figures['accepted/s'])).toBeGreaterThan(0);
    expect(Number(figures['runs/s'])).toBeGreaterThan(0);
    expect(fired).toBe(ticks);
  });
});
