import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TenantConfig } from '../../src/config.js';
import { exportBundle } from '../../src/ledger/bundle.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { createEngine, type Engine } from '../../src/pipeline/engine.js';
import { parsePlaybook } from '../../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../../src/pipeline/playbook-versions.js';
import { createStartRuns } from '../../src/pipeline/start-runs.js';
import { plugins } from '../../src/plugins/index.js';
import { validatePlugins } from '../../src/plugins/registry.js';
import { createInlineQueue } from '../../src/queue/inline-queue.js';
import { currentVersions } from '../../src/storage/playbooks.js';
import { createRunLock } from '../../src/storage/run-lock.js';
import { getRunRow, getSteps } from '../../src/storage/runs.js';
import { listTriggers } from '../../src/storage/triggers.js';
import { createTenant, createToken } from '../../src/tenancy/tenants.js';
import { createIngest } from '../../src/triggers/ingest.js';
import { buildApp } from '../helpers/app.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

/** The demo's target: admin endpoints that record each call; /admin/fail answers 500. */
function startTarget() {
  const calls: Array<{ method: string; path: string; body: string; key: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      calls.push({
        method: req.method ?? '',
        path: req.url ?? '',
        body,
        key: req.headers['idempotency-key'] as string | undefined,
      });
      res.statusCode = req.url === '/admin/fail' ? 500 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: req.url !== '/admin/fail' }));
    });
  });
  return new Promise<{ calls: typeof calls; host: string; close(): Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        calls,
        host: `127.0.0.1:${port}`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

const playbookYaml = (name: string, alertname: string, base: string, steps: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name}, owner: team-ingest }
spec:
  on:
    - alert: { match: { alertname: ${alertname} } }
  steps:
${steps.replaceAll('BASE', base)}
`;

const restartSteps = `
    - id: restart
      uses: http.request
      with: { method: POST, url: "http://BASE/admin/restart", body: { shard: "{{ alert.labels.shard }}" } }
      rollback: { uses: http.request, with: { method: POST, url: "http://BASE/admin/undo", body: { shard: "{{ alert.labels.shard }}" } } }
    - id: verify
      uses: http.request
      with: { method: GET, url: "http://BASE/health" }`;

const failingSteps = `
    - id: restart
      uses: http.request
      with: { method: POST, url: "http://BASE/admin/restart", body: { shard: "{{ alert.labels.shard }}" } }
      rollback: { uses: http.request, with: { method: POST, url: "http://BASE/admin/undo" } }
    - id: breaks
      uses: http.request
      with: { method: POST, url: "http://BASE/admin/fail" }`;

const waitFromLabel = `
    - id: pause
      uses: wait.sleep
      with: { seconds: "{{ alert.labels.shard }}" }
    - id: never
      uses: http.request
      with: { method: POST, url: "http://BASE/admin/restart" }`;

describeEngines('playbook runtime', ({ db }) => {
  let target: Awaited<ReturnType<typeof startTarget>>;
  let ledger: Ledger;
  let engine: Engine;
  let app: ReturnType<typeof buildApp>;
  let queue: ReturnType<typeof createInlineQueue>;
  let ingestToken = '';
  let readToken = '';
  const tenant = 'acme';
  const catalog = validatePlugins(plugins);

  beforeAll(async () => {
    target = await startTarget();
    ({ ledger } = await createTestLedger(db()));
    const deps = { knex: db().knex, ledger };
    await createTenant(deps, { id: tenant, tier: 'enterprise' }, 'test');
    ingestToken = (await createToken(deps, { tenant, name: 'am', scope: 'ingest', source: 'cli' }))
      .value;
    readToken = (await createToken(deps, { tenant, name: 'r', scope: 'read', source: 'cli' }))
      .value;
    const config = {
      id: tenant,
      plugins: { http: { allowedHosts: [target.host], secrets: {} } },
      ingest: { events: {}, rateLimit: { perSecond: 1000, burst: 1000 } },
    } as unknown as TenantConfig;
    const loaded = [
      ['restart-ingest', 'ReceiptLag', restartSteps],
      ['breaks-midway', 'Breaks', failingSteps],
      ['pause-from-label', 'Pause', waitFromLabel],
    ].map(([name, alertname, steps]) => {
      const parsed = parsePlaybook(
        playbookYaml(name as string, alertname as string, target.host, steps as string),
        `${name}.yaml`,
      );
      if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
      return { file: `${name}.yaml`, ...parsed };
    });
    await syncPlaybookVersions(deps, tenant, loaded);
    const logger = pino({ level: 'silent' });
    engine = createEngine({
      runLock: createRunLock(db().knex, db().engine),
      knex: db().knex,
      ledger,
      catalog,
      tenants: new Map([[tenant, config]]),
      logger,
    });
    queue = createInlineQueue({ onError: (err) => console.error(err) });
    await queue.start(async (t, id) => {
      await engine.process(t, id);
    });
    const ingest = createIngest({
      knex: db().knex,
      ledger,
      startRuns: createStartRuns(),
      onRunsCommitted: (t, ids) => {
        for (const id of ids) void queue.enqueue(t, id);
      },
    });
    app = buildApp({ db: db(), ledger, ingest, queue, catalog, tenants: [config], logger });
  });

  afterAll(async () => {
    await queue?.stop();
    await target?.close();
  });

  const fire = async (alertname: string, shard: string, fingerprint: string) => {
    const body = {
      version: '4',
      status: 'firing',
      receiver: 'warden',
      alerts: [
        {
          status: 'firing',
          labels: { alertname, shard },
          annotations: {},
          startsAt: '2026-11-24T00:00:00Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: '',
          fingerprint,
        },
      ],
    };
    const res = await app.request(`/hooks/${tenant}/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 202) throw new Error(`hook answered ${res.status}: ${await res.text()}`);
    const { accepted } = (await res.json()) as { accepted: Array<{ runs: string[] }> };
    await queue.idle();
    return accepted[0]?.runs ?? [];
  };

  /** A manual run of restart-ingest over the trigger the first test stored. */
  const manualRun = async () => {
    const [version] = (await currentVersions(db().knex, tenant)).filter(
      (v) => v.name === 'restart-ingest',
    );
    const [trigger] = await listTriggers(db().knex, tenant, { limit: 1, source: 'alertmanager' });
    const { createRun } = await import('../../src/pipeline/start-runs.js');
    return db().knex.transaction((trx) =>
      createRun(trx, version as never, (trigger ?? null) as never),
    );
  };

  const kindsOf = async (runId: string) =>
    (await db().knex('receipts').where({ tenant_id: tenant, run_id: runId }).orderBy('seq')).map(
      (r) => r.kind,
    );

  it('runs a matching playbook: one call per step, receipts trigger → simulation → steps → finish', async () => {
    const before = target.calls.length;
    const [runId] = await fire('ReceiptLag', '7', 'fp-ok');
    expect(runId).toBeDefined();
    const run = await getRunRow(db().knex, tenant, runId as string);
    expect(run?.status).toBe('succeeded');
    const calls = target.calls.slice(before);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /admin/restart',
      'GET /health',
    ]);
    expect(JSON.parse(calls[0]?.body ?? '{}')).toEqual({ shard: '7' });
    expect(calls[0]?.key).toBe(`${tenant}:${runId}:restart`);
    expect(await kindsOf(runId as string)).toEqual([
      'run.simulated',
      'step.executed',
      'step.executed',
      'run.finished',
    ]);
    const res = await app.request(`/api/v1/runs/${runId}`, {
      headers: { authorization: `Bearer ${readToken}` },
    });
    const view = (await res.json()) as {
      status: string;
      steps: Array<{ status: string; decision: { outcome: string } }>;
      playbook: { name: string; version: number };
      trigger: { source: string };
    };
    expect(view).toMatchObject({
      status: 'succeeded',
      playbook: { name: 'restart-ingest', version: 1 },
      trigger: { source: 'alertmanager' },
    });
    expect(view.steps.map((s) => [s.status, s.decision?.outcome])).toEqual([
      ['succeeded', 'allow'],
      ['succeeded', 'allow'],
    ]);
    const bundle = await exportBundle(db().knex, tenant);
    expect(verifyBundle(bundle).ok).toBe(true);
  });

  it("commits each step's input and output privately; an export discloses them only when asked", async () => {
    const [runId] = await fire('ReceiptLag', '8', 'fp-private');
    const step = await db()
      .knex('receipts')
      .where({ tenant_id: tenant, run_id: runId, kind: 'step.executed' })
      .orderBy('seq')
      .first();
    const payload = JSON.parse(step.body) as Record<string, unknown>;
    expect(payload).not.toHaveProperty('input');
    expect(payload).not.toHaveProperty('output');
    expect(payload._sd).toHaveLength(2);
    const exported = async (disclose?: string) => {
      const query = disclose === undefined ? '' : `?disclose=${disclose}`;
      const res = await app.request(`/api/v1/export${query}`, {
        headers: { authorization: `Bearer ${readToken}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as Awaited<ReturnType<typeof exportBundle>>;
    };
    const hidden = await exported();
    expect(hidden.disclosures).toEqual([]);
    expect(verifyBundle(hidden).ok).toBe(true);

    const shown = await exported('input');
    const mine = shown.disclosures.filter((d) => d.receiptId === step.id);
    expect(mine).toHaveLength(1);
    const [, name, value] = JSON.parse(
      Buffer.from(mine[0]?.disclosure as string, 'base64url').toString('utf8'),
    ) as [string, string, Record<string, unknown>];
    expect(name).toBe('input');
    expect(value).toMatchObject({ method: 'POST', body: { shard: '8' } });
    expect(shown.disclosures.every((d) => d.disclosure.length > 0)).toBe(true);
    const report = verifyBundle(shown);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'disclosures')?.detail).toMatch(
      /^\d+ disclosed field\(s\) match/,
    );

    // Erasure: a Disclosure can be deleted; the receipt keeps its digest and still verifies.
    await db().knex('receipt_disclosures').where({ tenant_id: tenant, receipt_id: step.id }).del();
    const erased = await exported('all');
    expect(erased.disclosures.some((d) => d.receiptId === step.id)).toBe(false);
    expect(verifyBundle(erased).ok).toBe(true);

    const bad = await app.request('/api/v1/export?disclose=input;drop', {
      headers: { authorization: `Bearer ${readToken}` },
    });
    expect(bad.status).toBe(422);
  });

  it('lists runs newest first, each as its single view shows it', async () => {
    const headers = { authorization: `Bearer ${readToken}` };
    const list = (await (await app.request('/api/v1/runs?limit=3', { headers })).json()) as {
      runs: Array<{ id: string; receipts: string[]; steps: unknown[] }>;
      nextCursor: string | null;
    };
    expect(list.runs.length).toBeGreaterThan(0);
    for (const run of list.runs) {
      const one = await (await app.request(`/api/v1/runs/${run.id}`, { headers })).json();
      expect(run).toEqual(one);
      expect(run.receipts.length).toBeGreaterThan(0);
    }
  });

  it('simulates without touching the target, and receipts the simulation', async () => {
    const before = target.calls.length;
    const res = await app.request('/api/v1/playbooks/restart-ingest/simulate', {
      method: 'POST',
      headers: { authorization: `Bearer ${readToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ alert: { labels: { alertname: 'ReceiptLag', shard: '3' } } }),
    });
    expect(res.status).toBe(200);
    const sim = (await res.json()) as {
      outcome: string;
      wouldTrigger: boolean;
      steps: Array<{ summary: string; targets: string[] }>;
      receipt: string;
    };
    expect(sim).toMatchObject({ outcome: 'planned', wouldTrigger: true });
    expect(sim.steps.map((s) => s.summary)).toEqual([
      expect.stringContaining('POST'),
      expect.stringContaining('GET'),
    ]);
    expect(target.calls.length).toBe(before);
    const receipt = await db()
      .knex('receipts')
      .where({ tenant_id: tenant, id: sim.receipt })
      .first();
    expect(JSON.parse(receipt.body)).toMatchObject({
      kind: 'run.simulated',
      dryRun: true,
      outcome: 'planned',
    });
  });

  it('denies a step whose interpolated input is invalid, with a receipt, and runs nothing', async () => {
    const before = target.calls.length;
    for (const [i, shard] of [
      '{{constructor}}',
      '"; rm -rf /',
      '../../etc',
      '__proto__',
      'x'.repeat(16_000),
    ].entries()) {
      const [runId] = await fire('Pause', shard, `fp-inject-${i}`);
      const run = await getRunRow(db().knex, tenant, runId as string);
      expect(run?.status).toBe('denied');
      const steps = await getSteps(db().knex, tenant, runId as string);
      expect(steps.map((s) => s.status)).toEqual(['denied', 'pending']);
      expect(steps[0]?.decision).toEqual({ outcome: 'deny', reasons: ['invalid_input'] });
      expect(await kindsOf(runId as string)).toEqual(['step.denied', 'run.finished']);
    }
    expect(target.calls.length).toBe(before);
  });

  it('refuses a 100 KB label at the door (422), before any run exists', async () => {
    const runs = await db().knex('runs').count<{ count: string }[]>('id as count');
    const res = await app.request(`/hooks/${tenant}/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'Pause', shard: 'x'.repeat(100_000) },
            startsAt: '2026-11-24T00:00:00Z',
            fingerprint: 'fp-huge',
          },
        ],
      }),
    });
    expect(res.status).toBe(422);
    expect(await db().knex('runs').count<{ count: string }[]>('id as count')).toEqual(runs);
  });

  it('rolls back completed steps in reverse order when a later step fails', async () => {
    const before = target.calls.length;
    const [runId] = await fire('Breaks', '9', 'fp-break');
    const run = await getRunRow(db().knex, tenant, runId as string);
    expect(run?.status).toBe('failed');
    expect(target.calls.slice(before).map((c) => c.path)).toEqual([
      '/admin/restart',
      '/admin/fail',
      '/admin/undo',
    ]);
    const steps = await getSteps(db().knex, tenant, runId as string);
    expect(steps.map((s) => s.status)).toEqual(['rolled_back', 'failed']);
    expect(await kindsOf(runId as string)).toEqual([
      'run.simulated',
      'step.executed',
      'step.executed',
      'step.rolled_back',
      'run.finished',
    ]);
  });

  it('does not run a claimed-but-unfinished step again after a crash unless it is idempotent', async () => {
    const runId = await manualRun();
    // As if a worker claimed `restart`, then died before recording its outcome.
    await db().knex('runs').where({ id: runId }).update({ status: 'running' });
    await db()
      .knex('run_steps')
      .where({ run_id: runId, step_id: 'restart' })
      .update({ status: 'running' });
    const before = target.calls.length;
    const outcome = await engine.process(tenant, runId);
    expect(outcome).toBe('failed');
    expect(target.calls.length).toBe(before);
    const steps = await getSteps(db().knex, tenant, runId);
    expect(steps.map((s) => s.status)).toEqual(['unknown', 'pending']);
  });

  it('processes each step once even when two workers process the same run at once', async () => {
    const runId = await manualRun();
    const before = target.calls.length;
    await Promise.all([
      engine.process(tenant, runId),
      engine.process(tenant, runId),
      engine.process(tenant, runId),
    ]);
    await engine.process(tenant, runId);
    expect(target.calls.slice(before).map((c) => c.path)).toEqual(['/admin/restart', '/health']);
    expect((await getRunRow(db().knex, tenant, runId))?.status).toBe('succeeded');
    // No worker mistook another's step in flight for a crash leftover.
    expect((await getSteps(db().knex, tenant, runId)).map((s) => s.status)).toEqual([
      'succeeded',
      'succeeded',
    ]);
    expect(await kindsOf(runId)).toEqual([
      'run.simulated',
      'step.executed',
      'step.executed',
      'run.finished',
    ]);
  });
});
