import { randomUUID } from 'node:crypto';
import type { MetricValueWithName } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createSigner, generateSigningKey } from '../ledger/ed25519.js';
import type { JsonValue, Receipt, ReceiptDraft } from '../ledger/receipt.js';
import { sealReceipt } from '../ledger/receipt.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createMetricsRecorder, type MetricsRecorderDeps } from './metrics-recorder.js';

const signer = createSigner(generateSigningKey());
const digest = `sha256:${'ab'.repeat(32)}`;
const ref = (name: string) => `${name}@${digest}`;
const t0 = Date.parse('2026-03-02T10:00:00.000Z');

/** A signed receipt as the ledger tells it to listeners (private fields only as `_sd` digests). */
function receipt(tenant: string, draft: ReceiptDraft, atSeconds = 0): Receipt {
  const at = new Date(t0 + atSeconds * 1000).toISOString();
  return sealReceipt({ tenant, seq: 1, prev: null }, draft, { id: randomUUID(), at }, signer)
    .receipt;
}

// Drafts as their producers write them (ingest.ts, engine.ts, run-recorder.ts, step-approval.ts,
// approvals.ts, playbook-switch.ts, outbox.ts).
const trigger = (source: string): ReceiptDraft => ({
  kind: 'trigger.received',
  data: { trigger: randomUUID(), source, triggerKind: 'alert', status: 'firing', labels: {} },
  private: { annotations: { summary: 'ingest lag' } },
});
const allow = (reasons: string[] = [], approvals: string[] = []) => ({
  outcome: 'allow',
  reasons,
  budgets: { actionsPerHour: { used: 1, limit: 5 } },
  ...(approvals.length > 0 ? { approvals } : {}),
});
const executed = (
  run: string,
  playbook: string,
  durationMs: number,
  decision: Record<string, JsonValue> = allow(),
): ReceiptDraft => ({
  kind: 'step.executed',
  run,
  data: {
    playbook: ref(playbook),
    step: 'act',
    uses: 'probe.touch',
    outcome: 'succeeded',
    decision,
    inputDigest: digest,
    outputDigest: digest,
    durationMs,
    targets: ['ingest-1'],
    cost: 0,
    risk: 'write',
    error: null,
  },
  private: { input: { label: 'x' }, output: { done: 'x' } },
});
const denied = (run: string, playbook: string, reasons: string[]): ReceiptDraft => ({
  kind: 'step.denied',
  run,
  data: {
    playbook: ref(playbook),
    step: 'act',
    uses: 'probe.touch',
    reasons,
    decision: { outcome: 'deny', reasons, budgets: {} },
  },
});
const finished = (run: string, playbook: string, status: string): ReceiptDraft => ({
  kind: 'run.finished',
  run,
  data: { playbook: ref(playbook), version: 1, status, error: status === 'failed' ? 'x' : null },
});
const requested = (run: string, approval: string, outcome: string, reasons: string[]) =>
  ({
    kind: 'approval.requested',
    run,
    data: {
      approval,
      playbook: ref('failover'),
      step: 'act',
      uses: 'probe.destroy',
      inputDigest: digest,
      decision: {
        outcome,
        reasons,
        budgets: {},
        ...(outcome === 'deny' ? { overridable: true } : {}),
      },
      approvers: ['slack:U1'],
      minApprovals: 1,
      initiator: 'playbook:failover',
      expiresAt: new Date(t0 + 1_800_000).toISOString(),
      rollback: { kind: 'none', note: 'irreversible' },
    },
  }) satisfies ReceiptDraft;
const decidedDraft = (run: string, approval: string, decision: string, outcome: string) =>
  ({
    kind: 'approval.decided',
    run,
    data: {
      approval,
      step: 'act',
      playbook: 'failover',
      inputDigest: digest,
      via: 'api:approver-bot',
      decision,
      approvals: 1,
      minApprovals: 1,
      outcome,
    },
    private: { actor: 'slack:U1', comment: 'looked at the graphs' },
  }) satisfies ReceiptDraft;

function setup(deps: MetricsRecorderDeps = {}) {
  const metrics = createMetrics();
  const recorder = createMetricsRecorder(metrics, deps);
  const tell = (tenant: string, ...receipts: Receipt[]) => recorder(tenant, receipts);
  return { metrics, recorder, tell };
}

/** The value of one sample (`suffix` `_count` / `_sum` for histograms), 0 when absent. */
async function sample(
  metrics: Metrics,
  name: string,
  labels: Record<string, string>,
  suffix = '',
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  // Histograms name each sample (`_bucket`, `_sum`, `_count`); the type of `get()` does not say so.
  const values = (await metric.get()).values as Array<MetricValueWithName<string>>;
  const hit = values.find(
    (v) =>
      (suffix === '' || v.metricName === `${name}${suffix}`) &&
      Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l) &&
      Object.keys(v.labels).length === Object.keys(labels).length,
  );
  return hit?.value ?? 0;
}

describe('createMetricsRecorder', () => {
  it('counts triggers per tenant and source', async () => {
    const { metrics, tell } = setup();
    tell(
      'acme',
      receipt('acme', trigger('alertmanager')),
      receipt('acme', trigger('alertmanager')),
    );
    tell('acme', receipt('acme', trigger('cron')));
    tell('globex', receipt('globex', trigger('alertmanager')));
    const triggers = (tenant: string, source: string) =>
      sample(metrics, 'warden_triggers_total', { tenant, source });
    expect(await triggers('acme', 'alertmanager')).toBe(2);
    expect(await triggers('acme', 'cron')).toBe(1);
    expect(await triggers('globex', 'alertmanager')).toBe(1);
  });

  it('counts finished runs by playbook name (not version digest) and status', async () => {
    const { metrics, tell } = setup();
    tell(
      'acme',
      receipt('acme', finished('r1', 'restart', 'succeeded')),
      receipt('acme', finished('r2', 'restart', 'failed')),
      receipt('acme', finished('r3', 'restart', 'succeeded')),
      receipt('acme', finished('r4', 'disk', 'cancelled')),
    );
    const runs = (playbook: string, status: string) =>
      sample(metrics, 'warden_runs_total', { tenant: 'acme', playbook, status });
    expect(await runs('restart', 'succeeded')).toBe(2);
    expect(await runs('restart', 'failed')).toBe(1);
    expect(await runs('disk', 'cancelled')).toBe(1);
    const text = await metrics.registry.metrics();
    expect(text).not.toContain(digest);
    expect(text).not.toContain('r1');
  });

  it('observes executed steps and counts their allow decisions by first reason', async () => {
    const { metrics, tell } = setup();
    tell(
      'acme',
      receipt('acme', executed('r1', 'restart', 200)),
      receipt('acme', executed('r2', 'restart', 4_000, allow(['policy:reviewed']))),
      // Found claimed after a crash: no decision, no duration — neither counted.
      receipt('acme', {
        kind: 'step.executed',
        run: 'r3',
        data: { playbook: ref('restart'), step: 'act', uses: 'probe.touch', outcome: 'unknown' },
      }),
    );
    const labels = { tenant: 'acme', playbook: 'restart' };
    const name = 'warden_step_duration_seconds';
    expect(await sample(metrics, name, labels, '_count')).toBe(2);
    expect(await sample(metrics, name, labels, '_sum')).toBeCloseTo(4.2);
    expect(await sample(metrics, name, { ...labels, le: '0.25' }, '_bucket')).toBe(1);
    const decisions = (reason: string) =>
      sample(metrics, 'warden_guardrail_decisions_total', {
        tenant: 'acme',
        outcome: 'allow',
        reason,
      });
    expect(await decisions('none')).toBe(1);
    expect(await decisions('policy:reviewed')).toBe(1);
  });

  it('maps every budget reason of a denial to its budget, and counts the denial once', async () => {
    const { metrics, tell } = setup();
    tell(
      'acme',
      receipt('acme', denied('r1', 'race', ['actions_per_hour_exceeded'])),
      receipt('acme', denied('r2', 'wide', ['blast_radius_exceeded', 'cost_per_run_exceeded'])),
      receipt('acme', denied('r3', 'envs', ['environment_not_allowed'])),
      receipt('acme', denied('r4', 'race', ['kill_switch:tenant'])),
      receipt('acme', denied('r5', 'race', ['approval_rejected'])),
    );
    const budget = (playbook: string, name: string) =>
      sample(metrics, 'warden_budget_exceeded_total', { tenant: 'acme', playbook, budget: name });
    expect(await budget('race', 'actionsPerHour')).toBe(1);
    expect(await budget('wide', 'blastRadius')).toBe(1);
    expect(await budget('wide', 'costPerRun')).toBe(1);
    expect(await budget('envs', 'allowedEnvironments')).toBe(1);
    const deny = (reason: string) =>
      sample(metrics, 'warden_guardrail_decisions_total', {
        tenant: 'acme',
        outcome: 'deny',
        reason,
      });
    expect(await deny('blast_radius_exceeded')).toBe(1);
    expect(await deny('kill_switch:tenant')).toBe(1);
    expect(await deny('approval_rejected')).toBe(1);
    expect(await deny('cost_per_run_exceeded')).toBe(0);
  });

  it('counts approval tickets, settled outcomes and the wait from request to settlement', async () => {
    const { metrics, tell } = setup();
    tell(
      'acme',
      receipt('acme', requested('r1', 'a1', 'approval_required', ['policy:destructive'])),
      receipt('acme', requested('r2', 'a2', 'deny', ['actions_per_hour_exceeded'])),
      receipt('acme', requested('r3', 'a3', 'approval_required', ['policy:destructive'])),
    );
    tell('acme', receipt('acme', decidedDraft('r1', 'a1', 'approve', 'pending'), 30)); // 1 of 2
    tell('acme', receipt('acme', decidedDraft('r1', 'a1', 'approve', 'approved'), 90));
    tell('acme', receipt('acme', decidedDraft('r2', 'a2', 'reject', 'rejected'), 600));
    tell(
      'acme',
      receipt(
        'acme',
        {
          kind: 'approval.expired',
          run: 'r3',
          data: { approval: 'a3', step: 'act', playbook: 'failover', expiresAt: 'x' },
        },
        1_800,
      ),
    );
    const approvals = (outcome: string) =>
      sample(metrics, 'warden_approvals_total', { tenant: 'acme', outcome });
    expect(await approvals('approved')).toBe(1);
    expect(await approvals('rejected')).toBe(1);
    expect(await approvals('expired')).toBe(1);
    expect(await approvals('pending')).toBe(0);
    const wait = 'warden_approval_wait_seconds';
    expect(await sample(metrics, wait, { tenant: 'acme' }, '_count')).toBe(3);
    expect(await sample(metrics, wait, { tenant: 'acme' }, '_sum')).toBe(90 + 600 + 1_800);
    const required = (reason: string) =>
      sample(metrics, 'warden_guardrail_decisions_total', {
        tenant: 'acme',
        outcome: 'approval_required',
        reason,
      });
    expect(await required('policy:destructive')).toBe(2);
    expect(await required('actions_per_hour_exceeded')).toBe(1);
    expect(
      await sample(metrics, 'warden_budget_exceeded_total', {
        tenant: 'acme',
        playbook: 'failover',
        budget: 'actionsPerHour',
      }),
    ).toBe(1);
  });

  it('counts a settlement whose request this process never saw, without a wait', async () => {
    const { metrics, tell } = setup();
    tell('acme', receipt('acme', decidedDraft('r9', 'a9', 'approve', 'approved'), 60));
    expect(
      await sample(metrics, 'warden_approvals_total', { tenant: 'acme', outcome: 'approved' }),
    ).toBe(1);
    expect(
      await sample(metrics, 'warden_approval_wait_seconds', { tenant: 'acme' }, '_count'),
    ).toBe(0);
  });

  it('forgets the oldest approval requests beyond its memory', async () => {
    const { metrics, tell } = setup({ remember: 2 });
    for (const id of ['a1', 'a2', 'a3']) {
      tell('acme', receipt('acme', requested(`r-${id}`, id, 'approval_required', [])));
    }
    for (const id of ['a1', 'a2', 'a3']) {
      tell('acme', receipt('acme', decidedDraft(`r-${id}`, id, 'approve', 'approved'), 10));
    }
    const wait = 'warden_approval_wait_seconds';
    expect(await sample(metrics, wait, { tenant: 'acme' }, '_count')).toBe(2);
  });

  it('adds manualMinutes for runs that succeeded without a human, asking once per version', async () => {
    const manualMinutes = vi.fn(async (_t: string, name: string, d: string) =>
      d === digest ? ({ restart: 30, failover: 60, quiet: 0 } as Record<string, number>)[name] : 99,
    );
    const { metrics, recorder, tell } = setup({ manualMinutes });
    tell(
      'acme',
      receipt('acme', finished('r1', 'restart', 'succeeded')),
      receipt('acme', finished('r2', 'restart', 'succeeded')),
      receipt('acme', finished('r3', 'restart', 'failed')),
      receipt('acme', finished('r4', 'quiet', 'succeeded')),
      // r5 waited for a ticket; r6's approval was decided in another process (its step names it).
      receipt('acme', requested('r5', 'a5', 'approval_required', [])),
      receipt('acme', finished('r5', 'failover', 'succeeded')),
      receipt('acme', executed('r6', 'failover', 100, allow([], ['receipt-of-vote']))),
      receipt('acme', finished('r6', 'failover', 'succeeded')),
      receipt('acme', finished('r7', 'failover', 'succeeded')),
    );
    await recorder.settled();
    tell('acme', receipt('acme', finished('r8', 'restart', 'succeeded')));
    // A run started by hand (no trigger) saved nobody's time.
    const byHand = finished('r9', 'restart', 'succeeded');
    tell('acme', receipt('acme', { ...byHand, data: { ...byHand.data, trigger: null } }));
    await recorder.settled();
    const saved = (playbook: string) =>
      sample(metrics, 'warden_time_saved_minutes_total', { tenant: 'acme', playbook });
    expect(await saved('restart')).toBe(90);
    expect(await saved('failover')).toBe(60);
    const exposition = await metrics.registry.metrics();
    expect(exposition).not.toContain(
      'warden_time_saved_minutes_total{tenant="acme",playbook="quiet"}',
    );
    expect(manualMinutes.mock.calls.map((c) => c[1]).sort()).toEqual([
      'failover',
      'quiet',
      'restart',
    ]);
    expect(manualMinutes).toHaveBeenCalledWith('acme', 'restart', digest);
  });

  it('counts breaker disables, not those of people', async () => {
    const { metrics, tell } = setup();
    const disabled = (actor: string, rule?: string): ReceiptDraft => ({
      kind: 'playbook.disabled',
      data: {
        playbook: 'flaky',
        version: 1,
        digest,
        actor,
        reason: 'why',
        ...(rule ? { rule, figures: { failed: 3 } } : {}),
      },
    });
    tell(
      'acme',
      receipt('acme', disabled('breaker', 'consecutiveFailures')),
      receipt('acme', disabled('api:ops')),
    );
    expect(
      await sample(metrics, 'warden_playbook_auto_disables_total', {
        tenant: 'acme',
        playbook: 'flaky',
      }),
    ).toBe(1);
  });

  it('counts deliveries by final outcome and observes every attempt’s latency', async () => {
    const { metrics, tell } = setup();
    const delivery = (
      kind: 'delivery.attempted' | 'delivery.finished',
      target: string,
      outcome: string,
      latencyMs: number,
    ): ReceiptDraft => ({
      kind,
      data: {
        delivery: randomUUID(),
        report: randomUUID(),
        target,
        attempt: 1,
        destination: 'https://hooks.example/warden',
        outcome,
        status: outcome === 'delivered' ? 204 : 503,
        error: outcome === 'delivered' ? null : 'HTTP 503',
        latencyMs,
      },
    });
    tell(
      'acme',
      receipt('acme', delivery('delivery.attempted', 'deliver[0]', 'retrying', 1_500)),
      receipt('acme', delivery('delivery.attempted', 'deliver[0]', 'delivered', 500)),
      receipt('acme', delivery('delivery.finished', 'deliver[0]', 'delivered', 500)),
      receipt('acme', delivery('delivery.attempted', 'deliver[1]', 'failed', 100)),
      receipt('acme', delivery('delivery.finished', 'deliver[1]', 'failed', 100)),
    );
    const deliveries = (target: string, outcome: string) =>
      sample(metrics, 'warden_deliveries_total', { tenant: 'acme', target, outcome });
    expect(await deliveries('deliver[0]', 'delivered')).toBe(1);
    expect(await deliveries('deliver[1]', 'failed')).toBe(1);
    expect(await deliveries('deliver[0]', 'retrying')).toBe(0);
    const latency = 'warden_delivery_latency_seconds';
    const first = { tenant: 'acme', target: 'deliver[0]' };
    expect(await sample(metrics, latency, first, '_count')).toBe(2);
    expect(await sample(metrics, latency, first, '_sum')).toBe(2);
  });

  it('never throws: odd payloads, a failing lookup and a failing onError are absorbed', async () => {
    const onError = vi.fn(() => {
      throw new Error('the logger is down too');
    });
    const { metrics, recorder, tell } = setup({
      manualMinutes: () => Promise.reject(new Error('database down')),
      onError,
    });
    const odd: ReceiptDraft[] = [
      { kind: 'run.finished', data: { status: 'succeeded' } },
      { kind: 'step.executed', data: { decision: null, durationMs: 'slow' } },
      { kind: 'step.denied', data: { reasons: 'not-a-list' } },
      { kind: 'approval.decided', data: { outcome: 'approved' } },
      { kind: 'delivery.attempted', data: {} },
      { kind: 'tenant.created', data: { tier: 'pro' } },
    ];
    expect(() => tell('acme', ...odd.map((d) => receipt('acme', d)))).not.toThrow();
    await recorder.settled();
    expect(onError).toHaveBeenCalledWith(new Error('database down'));
    expect(
      await sample(metrics, 'warden_runs_total', {
        tenant: 'acme',
        playbook: 'unknown',
        status: 'succeeded',
      }),
    ).toBe(1);
    expect(
      await sample(metrics, 'warden_guardrail_decisions_total', {
        tenant: 'acme',
        outcome: 'deny',
        reason: 'none',
      }),
    ).toBe(1);
  });
});
