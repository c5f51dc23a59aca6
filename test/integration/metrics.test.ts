/**
 * `/metrics` after a seeded scenario, per engine: alerts through the guarded pipeline (runs that
 * succeed, fail, are denied by budgets, wait for approvals that are approved, rejected or expire, a
 * playbook a breaker disables), a cron tick, report deliveries through the real outbox, anchoring —
 * the recorder listening on the ledger. The exposition the route serves is parsed and every figure
 * equals what was seeded; no label carries a run, receipt or approval id.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOutbox, type ReportTarget } from '../../src/delivery/outbox.js';
import { expireOverdue } from '../../src/guardrails/approvals.js';
import { type Anchoring, createAnchoring } from '../../src/ledger/anchor.js';
import { createMetrics, type Metrics, metricNames } from '../../src/observability/metrics.js';
import {
  createMetricsRecorder,
  type MetricsRecorder,
  manualMinutesFrom,
} from '../../src/observability/metrics-recorder.js';
import { metricsRoute } from '../../src/observability/metrics-route.js';
import { insertReport } from '../../src/storage/reports.js';
import { unfinishedRuns } from '../../src/storage/runs.js';
import { createCronFire } from '../../src/triggers/cron.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';

const A = 'acme';
const B = 'globex';
const scrapeToken = 'metrics-scrape-token-0123456789';

const playbook = (name: string, spec: string, step: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${name} } }
${spec}
  steps:
    - { id: act, uses: ${step} }
`;
const touch = (name: string, extra = '') =>
  `probe.touch, with: { label: "${name}-{{ alert.labels.n }}", targets: [node-1]${extra} }`;
const destroy = (name: string) =>
  `probe.destroy, with: { label: "${name}-{{ alert.labels.n }}", targets: [db-1] }`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format (0.0.4), as a scraper reads it: TYPE lines and samples. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

describeEngines('/metrics', ({ db }) => {
  const probe = createProbe();
  let g: Awaited<ReturnType<typeof startGuarded>>;
  let metrics: Metrics;
  let recorder: MetricsRecorder;
  let anchoring: Anchoring;
  const errors: unknown[] = [];

  beforeAll(async () => {
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      tenants: [
        {
          id: A,
          playbooks: {
            restart: playbook('restart', '  manualMinutes: 30', touch('restart')),
            flaky: playbook(
              'flaky',
              '  manualMinutes: 15\n  autoDisable: { consecutiveFailures: 1 }',
              touch('flaky', ', fail: "yes"'),
            ),
            budget: playbook(
              'budget',
              '  manualMinutes: 10\n  budgets: { actionsPerHour: 1 }',
              touch('budget'),
            ),
            envs: playbook(
              'envs',
              '  environment: "{{ alert.labels.env }}"\n  budgets: { allowedEnvironments: [staging] }',
              touch('envs'),
            ),
            failover: playbook(
              'failover',
              '  manualMinutes: 60\n  approval: { approvers: [slack:U1, slack:U2], expiresIn: 30m }',
              destroy('failover'),
            ),
            hurry: playbook(
              'hurry',
              '  approval: { approvers: [slack:U1], expiresIn: 1s }',
              destroy('hurry'),
            ),
            gated: playbook('gated', '', touch('gated', ', gate: "{{ alert.labels.gate }}"')),
          },
        },
        { id: B, playbooks: { restart: playbook('restart', '  manualMinutes: 5', touch('b')) } },
      ],
    });
    const knex = db().knex;
    anchoring = createAnchoring({
      knex,
      signer: g.ledger.signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async (t) => t === A,
      logger: pino({ level: 'silent' }),
      onCheckpoint: (t) => metrics.checkpointsSigned.inc({ tenant: t }),
    });
    metrics = createMetrics({
      anchoringLag: () => anchoring.lag(),
      queueDepth: async () => (await unfinishedRuns(knex)).length,
    });
    recorder = createMetricsRecorder(metrics, {
      manualMinutes: manualMinutesFrom(knex),
      onError: (err) => errors.push(err),
    });
    g.ledger.subscribe(recorder);
  });

  afterAll(async () => {
    await g?.close();
  });

  const route = () =>
    metricsRoute(metrics, { operatorToken: scrapeToken, serverOnLoopback: false });
  async function scrape() {
    await recorder.settled();
    const res = await route().request('/metrics', {
      headers: { authorization: `Bearer ${scrapeToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  }
  /** The sample with exactly these labels; undefined when the series does not exist. */
  const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    samples.find(
      (s) =>
        s.name === name &&
        Object.keys(s.labels).length === Object.keys(labels).length &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    )?.value;

  const pending = async (runId: string) =>
    (await g.api(A, 'read', 'GET', `/approvals?run=${runId}`)).body.approvals[0] as { id: string };
  const decide = (ticket: string, decision: 'approve' | 'reject') =>
    g.api(A, 'admin', 'POST', `/approvals/${ticket}/decision`, { decision, actor: 'slack:U1' });

  it('reports the queue depth while a run is in flight, and 0 once it is done', async () => {
    const [run] = await g.fire(A, { alertname: 'gated', n: '1', gate: 'held' });
    await probe.reached('held');
    const during = await scrape();
    expect(find(during.samples, 'warden_queue_depth')).toBe(1);
    probe.open('held');
    await g.idle();
    expect((await g.run(A, run as string)).status).toBe('succeeded');
    expect(find((await scrape()).samples, 'warden_queue_depth')).toBe(0);
  });

  it('exposes every figure of the seeded scenario', async () => {
    // Two runs that resolve on their own; one that fails and trips its breaker (the next alert
    // for it starts nothing); one within its hourly budget, one past it; a forbidden environment.
    await g.fire(A, { alertname: 'restart', n: '1' });
    await g.fire(A, { alertname: 'restart', n: '2' });
    await g.fire(A, { alertname: 'flaky', n: '1' });
    await g.idle();
    expect(await g.fire(A, { alertname: 'flaky', n: '2' })).toEqual([]);
    await g.fire(A, { alertname: 'budget', n: '1' });
    await g.idle();
    const [overBudget] = await g.fire(A, { alertname: 'budget', n: '2' });
    await g.fire(A, { alertname: 'envs', n: '1', env: 'production' });
    await g.idle();
    expect((await g.run(A, overBudget as string)).status).toBe('denied');

    // Approvals: one approved (runs, but saves no time: a human was needed), one rejected, one
    // left to expire.
    const [approved] = await g.fire(A, { alertname: 'failover', n: '1' });
    const [rejected] = await g.fire(A, { alertname: 'failover', n: '2' });
    const [expired] = await g.fire(A, { alertname: 'hurry', n: '1' });
    await g.idle();
    expect((await decide((await pending(approved as string)).id, 'approve')).status).toBe(200);
    expect((await decide((await pending(rejected as string)).id, 'reject')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    const enqueue = (t: string, id: string) => g.queue.enqueue(t, id);
    expect(await expireOverdue({ knex: db().knex, ledger: g.ledger, enqueue })).toBe(1);
    await g.idle();
    expect((await g.run(A, approved as string)).status).toBe('succeeded');
    expect((await g.run(A, rejected as string)).status).toBe('denied');
    expect((await g.run(A, expired as string)).status).toBe('cancelled');

    // Another tenant, a cron tick that matches no playbook.
    await g.fire(B, { alertname: 'restart', n: '1' });
    await createCronFire(g.ingest)(
      { tenant: A, playbook: 'nightly', cron: '0 3 * * *' },
      new Date('2026-03-02T03:00:00Z'),
    );
    await g.idle();

    // Two report deliveries through the outbox: one delivered, one refused for good.
    const report = randomUUID();
    await db().knex.transaction((trx) =>
      insertReport(trx, {
        id: report,
        tenant_id: A,
        week: '2026-W10',
        format: 'html',
        content_type: 'text/html; charset=utf-8',
        sha256: 'ab'.repeat(32),
        size: 4,
        audience: 'tenant',
        origin: 'manual',
        receipt_id: randomUUID(),
        body: Buffer.from('<p/>'),
      }),
    );
    const targets: Record<string, ReportTarget> = {
      'deliver[0]': { describe: () => 'bucket', deliver: async () => ({ location: 'file:///r' }) },
      'deliver[1]': {
        describe: () => 'webhook',
        deliver: async () => {
          throw new Error('HTTP 410 Gone');
        },
      },
    };
    const outbox = createOutbox({
      knex: db().knex,
      ledger: g.ledger,
      logger: pino({ level: 'silent' }),
      target: (_t, name) => targets[name],
      hasAlternate: () => false,
    });
    await outbox.enqueue(A, report, ['deliver[0]', 'deliver[1]']);
    await outbox.work();

    const before = await scrape();
    expect(
      find(before.samples, 'warden_anchoring_lag_seconds', { tenant: A }),
    ).toBeGreaterThanOrEqual(0);
    expect(find(before.samples, 'warden_anchoring_lag_seconds', { tenant: B })).toBeUndefined();
    expect(find(before.samples, 'warden_checkpoints_signed_total', { tenant: A })).toBeUndefined();
    await anchoring.anchor(A);

    const { types, samples } = await scrape();
    expect(errors).toEqual([]);
    const value = (name: string, labels: Record<string, string> = {}) =>
      find(samples, name, labels);
    const expected: Array<[string, Record<string, string>, number]> = [
      ['warden_triggers_total', { tenant: A, source: 'alertmanager' }, 11],
      ['warden_triggers_total', { tenant: A, source: 'cron' }, 1],
      ['warden_triggers_total', { tenant: B, source: 'alertmanager' }, 1],
      ['warden_runs_total', { tenant: A, playbook: 'gated', status: 'succeeded' }, 1],
      ['warden_runs_total', { tenant: A, playbook: 'restart', status: 'succeeded' }, 2],
      ['warden_runs_total', { tenant: A, playbook: 'flaky', status: 'failed' }, 1],
      ['warden_runs_total', { tenant: A, playbook: 'budget', status: 'succeeded' }, 1],
      ['warden_runs_total', { tenant: A, playbook: 'budget', status: 'denied' }, 1],
      ['warden_runs_total', { tenant: A, playbook: 'envs', status: 'denied' }, 1],
      ['warden_runs_total', { tenant: A, playbook: 'failover', status: 'succeeded' }, 1],
      ['warden_runs_total', { tenant: A, playbook: 'failover', status: 'denied' }, 1],
      ['warden_runs_total', { tenant: A, playbook: 'hurry', status: 'cancelled' }, 1],
      ['warden_runs_total', { tenant: B, playbook: 'restart', status: 'succeeded' }, 1],
      ['warden_step_duration_seconds_count', { tenant: A, playbook: 'restart' }, 2],
      ['warden_step_duration_seconds_count', { tenant: A, playbook: 'flaky' }, 1],
      ['warden_step_duration_seconds_count', { tenant: A, playbook: 'budget' }, 1],
      ['warden_step_duration_seconds_count', { tenant: A, playbook: 'failover' }, 1],
      ['warden_step_duration_seconds_count', { tenant: A, playbook: 'gated' }, 1],
      [
        'warden_guardrail_decisions_total',
        { tenant: A, outcome: 'allow', reason: 'policy:baseline-permit' },
        6,
      ],
      [
        'warden_guardrail_decisions_total',
        { tenant: A, outcome: 'deny', reason: 'actions_per_hour_exceeded' },
        1,
      ],
      [
        'warden_guardrail_decisions_total',
        { tenant: A, outcome: 'deny', reason: 'environment_not_allowed' },
        1,
      ],
      [
        'warden_guardrail_decisions_total',
        { tenant: A, outcome: 'deny', reason: 'approval_rejected' },
        1,
      ],
      [
        'warden_guardrail_decisions_total',
        { tenant: A, outcome: 'deny', reason: 'approval_expired' },
        1,
      ],
      [
        'warden_guardrail_decisions_total',
        { tenant: A, outcome: 'approval_required', reason: 'policy:destructive-needs-approval' },
        3,
      ],
      [
        'warden_budget_exceeded_total',
        { tenant: A, playbook: 'budget', budget: 'actionsPerHour' },
        1,
      ],
      [
        'warden_budget_exceeded_total',
        { tenant: A, playbook: 'envs', budget: 'allowedEnvironments' },
        1,
      ],
      ['warden_playbook_auto_disables_total', { tenant: A, playbook: 'flaky' }, 1],
      ['warden_approvals_total', { tenant: A, outcome: 'approved' }, 1],
      ['warden_approvals_total', { tenant: A, outcome: 'rejected' }, 1],
      ['warden_approvals_total', { tenant: A, outcome: 'expired' }, 1],
      ['warden_approval_wait_seconds_count', { tenant: A }, 3],
      ['warden_time_saved_minutes_total', { tenant: A, playbook: 'restart' }, 60],
      ['warden_time_saved_minutes_total', { tenant: A, playbook: 'budget' }, 10],
      ['warden_time_saved_minutes_total', { tenant: B, playbook: 'restart' }, 5],
      ['warden_queue_depth', {}, 0],
      ['warden_deliveries_total', { tenant: A, target: 'deliver[0]', outcome: 'delivered' }, 1],
      ['warden_deliveries_total', { tenant: A, target: 'deliver[1]', outcome: 'failed' }, 1],
      ['warden_delivery_latency_seconds_count', { tenant: A, target: 'deliver[0]' }, 1],
      ['warden_delivery_latency_seconds_count', { tenant: A, target: 'deliver[1]' }, 1],
      ['warden_anchoring_lag_seconds', { tenant: A }, 0],
      ['warden_checkpoints_signed_total', { tenant: A }, 1],
    ];
    expect(expected.map(([name, labels]) => [name, labels, value(name, labels)])).toEqual(expected);
    // Series that must not exist: no time saved for runs that needed a human or failed, no
    // budget stop for decisions that were not about budgets.
    expect(value('warden_time_saved_minutes_total', { tenant: A, playbook: 'failover' })).toBe(
      undefined,
    );
    expect(value('warden_time_saved_minutes_total', { tenant: A, playbook: 'flaky' })).toBe(
      undefined,
    );
    const sum = (name: string, tenant: string) =>
      samples
        .filter((s) => s.name === name && s.labels.tenant === tenant)
        .reduce((n, s) => n + s.value, 0);
    expect(sum('warden_budget_exceeded_total', A)).toBe(2);
    expect(sum('warden_runs_total', A)).toBe(10);
    expect(sum('warden_guardrail_decisions_total', A)).toBe(13);
    // The expired ticket waited at least its second; the gated step took as long as the gate held.
    expect(value('warden_approval_wait_seconds_sum', { tenant: A })).toBeGreaterThanOrEqual(1);
    expect(
      value('warden_step_duration_seconds_sum', { tenant: A, playbook: 'gated' }),
    ).toBeGreaterThan(0);

    for (const name of metricNames) expect(types.has(name), name).toBe(true);
    expect(types.get('warden_step_duration_seconds')).toBe('histogram');
    expect(types.get('warden_queue_depth')).toBe('gauge');
    expect(types.get('warden_runs_total')).toBe('counter');
    expect([...types.keys()].some((n) => n.startsWith('warden_process_'))).toBe(true);
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
    const ids = samples.flatMap((s) => Object.values(s.labels)).filter((v) => uuid.test(v));
    expect(ids).toEqual([]);
  });
});
