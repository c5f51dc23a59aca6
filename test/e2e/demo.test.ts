/**
 * Demo e2e: the real example playbooks (examples/playbooks/acme) and the demo config
 * (examples/warden.yaml) against the demo target (examples/demo-target/) started in process. An
 * Alertmanager alert comes in, the run makes real HTTP calls — one per action step plus the metric
 * queries — the target recovers, and the receipts form one valid chain. The playbooks name
 * 127.0.0.1:3101; the test rewrites that to the target's free port so runs never collide.
 */
import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DemoTarget,
  type RecordedCall,
  startDemoTarget,
} from '../../examples/demo-target/server.js';
import { exampleConfigPath, loadConfig, type TenantConfig } from '../../src/config.js';
import { openGuardrails } from '../../src/guardrails/guardrails.js';
import { exportBundle } from '../../src/ledger/bundle.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { createEngine } from '../../src/pipeline/engine.js';
import {
  type LoadedPlaybook,
  loadPlaybookDirectory,
  loadTenantPlaybooks,
  parsePlaybook,
} from '../../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../../src/pipeline/playbook-versions.js';
import { plugins } from '../../src/plugins/index.js';
import { validatePluginSettings, validatePlugins } from '../../src/plugins/registry.js';
import { createInlineQueue } from '../../src/queue/inline-queue.js';
import { createRunLock } from '../../src/storage/run-lock.js';
import { syncTenants } from '../../src/tenancy/tenants.js';
import { buildApp } from '../helpers/app.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

const demoHost = '127.0.0.1:3101';
const playbookDir = 'examples/playbooks/acme';
const tenant = 'acme';

/** The demo config, as `npm start` loads it (no environment needed). */
const loadDemoConfig = () => loadConfig({ configFile: exampleConfigPath, env: {} });

describe('demo config', () => {
  it('loads examples/warden.yaml with its plugin settings and the acme playbooks', async () => {
    const config = loadDemoConfig();
    expect(validatePluginSettings(plugins, config.tenants)).toEqual([]);
    const playbooks = await loadTenantPlaybooks(config.tenants);
    const names = playbooks.get(tenant)?.map((p) => p.playbook.metadata.name);
    expect(names?.sort()).toEqual(['cache-purge', 'metering-lag', 'receipt-lag']);
    const acme = config.tenants.find((t) => t.id === tenant);
    expect(acme?.plugins).toMatchObject({
      http: { allowedHosts: [demoHost] },
      prometheus: { url: `http://${demoHost}` },
    });
  });
});

describeEngines('demo: example playbooks against the demo target', ({ db }) => {
  let target: DemoTarget;
  let ledger: Ledger;
  let app: ReturnType<typeof buildApp>;
  let queue: ReturnType<typeof createInlineQueue>;
  let ingestToken = '';
  let readToken = '';
  const catalog = validatePlugins(plugins);

  /** The example playbooks as they are, but pointing at the target's port. */
  async function demoPlaybooks(host: string): Promise<LoadedPlaybook[]> {
    const dir = await loadPlaybookDirectory(playbookDir);
    expect(dir.problems).toEqual([]);
    return Promise.all(
      dir.playbooks.map(async ({ file }) => {
        const text = (await readFile(file, 'utf8')).replaceAll(demoHost, host);
        const parsed = parsePlaybook(text, file);
        if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
        return { file, ...parsed };
      }),
    );
  }

  beforeAll(async () => {
    target = await startDemoTarget({ port: 0 });
    const host = new URL(target.url).host;
    const config = loadDemoConfig();
    const acme = config.tenants.find((t) => t.id === tenant) as TenantConfig;
    const tenantConfig: TenantConfig = {
      ...acme,
      plugins: JSON.parse(JSON.stringify(acme.plugins).replaceAll(demoHost, host)),
    };
    const token = (scope: string) =>
      acme.tokens.find((t) => t.scope === scope)?.value.reveal() ?? '';
    ingestToken = token('ingest');
    readToken = token('read');

    ({ ledger } = await createTestLedger(db()));
    const deps = { knex: db().knex, ledger };
    await syncTenants(deps, config.tenants);
    await syncPlaybookVersions(deps, tenant, await demoPlaybooks(host));
    const logger = pino({ level: 'silent' });
    // The real guardrails, as main.ts wires them: the demo playbooks run under their budgets.
    const { guard, watch } = await openGuardrails({
      knex: db().knex,
      ledger,
      catalog,
      tenants: [tenantConfig],
      logger,
    });
    const engine = createEngine({
      runLock: createRunLock(db().knex, db().engine),
      knex: db().knex,
      ledger,
      catalog,
      tenants: new Map([[tenant, tenantConfig]]),
      logger,
      guard,
      watch,
    });
    queue = createInlineQueue({ onError: (err) => console.error(err) });
    await queue.start(async (t, id) => {
      await engine.process(t, id);
    });
    app = buildApp({ db: db(), ledger, queue, catalog, tenants: [tenantConfig], logger, guard });
  });

  afterAll(async () => {
    await queue?.stop();
    await target?.close();
  });

  const targetJson = async <T>(path: string, init?: RequestInit): Promise<T> =>
    (await fetch(`${target.url}${path}`, init)).json() as Promise<T>;

  /** The seq of the last call the target recorded. */
  const lastSeq = async () =>
    (await targetJson<{ calls: RecordedCall[] }>('/admin/calls')).calls.at(-1)?.seq ?? 0;
  /** Puts the target back to its stuck state. */
  const resetTarget = () => fetch(`${target.url}/admin/stuck`, { method: 'POST' });
  const callsSince = async (seq: number) =>
    (await targetJson<{ calls: RecordedCall[] }>(`/admin/calls?since=${seq}`)).calls;
  const currentValue = async (promql: string) => {
    const answer = await targetJson<{ data: { result: Array<{ value: [number, string] }> } }>(
      `/api/v1/query?query=${encodeURIComponent(promql)}`,
    );
    return Number(answer.data.result[0]?.value[1]);
  };

  /** The Alertmanager fixture (webhook v4, sent by the API v2) with the demo's labels. */
  const fire = async (labels: Record<string, string>, fingerprint: string) => {
    const fixture = JSON.parse(
      await readFile('test/fixtures/alertmanager/firing_via_api_v2.json', 'utf8'),
    ) as { body: { alerts: Array<Record<string, unknown>> } & Record<string, unknown> };
    const body = {
      ...fixture.body,
      groupLabels: { alertname: labels.alertname },
      commonLabels: labels,
      groupKey: `{}:{alertname="${labels.alertname}"}`,
      alerts: fixture.body.alerts.map((a) => ({ ...a, labels, fingerprint })),
    };
    const res = await app.request(`/hooks/${tenant}/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    const { accepted } = (await res.json()) as {
      accepted: Array<{ triggerId: string; runs: string[] }>;
    };
    await queue.idle();
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.runs).toHaveLength(1);
    return { triggerId: accepted[0]?.triggerId as string, runId: accepted[0]?.runs[0] as string };
  };

  const api = async <T>(path: string, init: RequestInit = {}) => {
    const res = await app.request(`/api/v1${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${readToken}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  /**
   * The trigger's receipt, then the run's, in the tenant's chain, which verifies as a bundle with
   * the trigger's receipt before the run's and nothing else between them.
   */
  const receiptChain = async (triggerId: string, runId: string) => {
    const bundle = await exportBundle(db().knex, tenant);
    const report = verifyBundle(bundle);
    expect(report.ok, JSON.stringify(report, null, 2)).toBe(true);
    const payloads = bundle.receipts.map(
      (r) => r.payload as { id: string; kind: string; run?: string; trigger?: string },
    );
    const start = payloads.findIndex(
      (p) => p.kind === 'trigger.received' && p.trigger === triggerId,
    );
    expect(start).toBeGreaterThanOrEqual(0);
    const rest = payloads.slice(start + 1);
    const end = rest.findIndex((p) => p.kind === 'run.finished' && p.run === runId);
    return [payloads[start], ...rest.slice(0, end + 1)].map((p) => ({
      kind: p?.kind,
      run: p?.run,
    }));
  };

  interface RunView {
    status: string;
    playbook: { name: string };
    trigger: { id: string; source: string };
    steps: Array<{ id: string; status: string; decision: { outcome: string } }>;
  }

  it('ReceiptLag: one restart, the lag recovers, receipts trigger → steps in one chain', async () => {
    await resetTarget();
    expect(await currentValue('max(receipt_lag_seconds)')).toBe(120);
    const since = await lastSeq();
    const { triggerId, runId } = await fire(
      { alertname: 'ReceiptLag', shard: '3', severity: 'critical' },
      'demo-receipt-lag',
    );

    const run = await api<RunView>(`/runs/${runId}`);
    expect(run).toMatchObject({
      status: 'succeeded',
      playbook: { name: 'receipt-lag' },
      trigger: { id: triggerId, source: 'alertmanager' },
    });
    expect(run.steps.map((s) => [s.id, s.status, s.decision.outcome])).toEqual([
      ['restart', 'succeeded', 'allow'],
      ['verify', 'succeeded', 'allow'],
    ]);

    const calls = await callsSince(since);
    const actions = calls.filter((c) => c.path.startsWith('/admin/'));
    expect(actions.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      'POST /admin/restart 202',
    ]);
    expect(actions[0]).toMatchObject({
      body: { shard: '3' },
      idempotencyKey: `acme:${runId}:restart`,
    });
    const queries = calls.filter((c) => !c.path.startsWith('/admin/'));
    expect(queries.length).toBeGreaterThanOrEqual(2); // lagging at first, recovered later
    for (const q of queries) {
      expect(q).toMatchObject({
        method: 'POST',
        path: '/api/v1/query',
        body: { query: 'max(receipt_lag_seconds)' },
        status: 200,
      });
    }
    expect(await currentValue('max(receipt_lag_seconds)')).toBeLessThan(30);

    expect(await receiptChain(triggerId, runId)).toEqual([
      { kind: 'trigger.received', run: undefined },
      { kind: 'run.simulated', run: runId },
      { kind: 'step.executed', run: runId },
      { kind: 'step.executed', run: runId },
      { kind: 'run.finished', run: runId },
    ]);
  });

  it('MeteringLag: one rerun, one validation, the lag recovers, one chain', async () => {
    await resetTarget();
    expect(await currentValue('max(metering_lag_seconds)')).toBe(900);
    const since = await lastSeq();
    const { triggerId, runId } = await fire(
      { alertname: 'MeteringLag', job: 'metering', severity: 'warning' },
      'demo-metering-lag',
    );

    const run = await api<RunView>(`/runs/${runId}`);
    expect(run).toMatchObject({ status: 'succeeded', playbook: { name: 'metering-lag' } });
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ['rerun', 'succeeded'],
      ['validate', 'succeeded'],
      ['verify', 'succeeded'],
    ]);

    const calls = await callsSince(since);
    expect(
      calls
        .filter((c) => c.path.startsWith('/admin/'))
        .map((c) => `${c.method} ${c.path} ${c.status}`),
    ).toEqual(['POST /admin/rollup/rerun 200', 'GET /admin/rollup/validate 200']);
    const queries = calls.filter((c) => !c.path.startsWith('/admin/'));
    expect(queries.length).toBeGreaterThanOrEqual(2);
    expect(
      queries.every((q) => (q.body as { query: string }).query === 'max(metering_lag_seconds)'),
    ).toBe(true);
    expect(await currentValue('max(metering_lag_seconds)')).toBeLessThan(60);

    expect(await receiptChain(triggerId, runId)).toEqual([
      { kind: 'trigger.received', run: undefined },
      { kind: 'run.simulated', run: runId },
      { kind: 'step.executed', run: runId },
      { kind: 'step.executed', run: runId },
      { kind: 'step.executed', run: runId },
      { kind: 'run.finished', run: runId },
    ]);
  });

  it('simulation alone plans every step and the target receives nothing', async () => {
    await resetTarget();
    const since = await lastSeq();
    const cases = [
      ['receipt-lag', { alertname: 'ReceiptLag', shard: '3' }, ['POST', 'would check']],
      ['metering-lag', { alertname: 'MeteringLag' }, ['POST', 'GET', 'would check']],
    ] as const;
    for (const [name, labels, summaries] of cases) {
      const sim = await api<{
        outcome: string;
        wouldTrigger: boolean;
        steps: Array<{ summary: string }>;
        receipt: string;
      }>(`/playbooks/${name}/simulate`, {
        method: 'POST',
        body: JSON.stringify({ alert: { labels } }),
      });
      expect(sim).toMatchObject({ outcome: 'planned', wouldTrigger: true });
      expect(sim.steps.map((s) => s.summary)).toEqual(
        summaries.map((s) => expect.stringContaining(s)),
      );
      expect(sim.receipt).toEqual(expect.any(String));
    }
    expect(await callsSince(since)).toEqual([]);
  });
});
