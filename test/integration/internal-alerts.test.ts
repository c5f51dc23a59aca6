/**
 * Internal alert rules against real rows: receipts appended through the real ledger (its clock set
 * by the test), runs inserted with controlled timestamps, evaluated at controlled instants. Each
 * rule fires at its threshold and not before, clears with hysteresis, is receipted and notified
 * once — also when two evaluators (replicas) race — and is listed for its tenant only.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateSigningKey } from '../../src/ledger/ed25519.js';
import { createLedger, type Ledger } from '../../src/ledger/ledger.js';
import type { ReceiptDraft, ReceiptPayload } from '../../src/ledger/receipt.js';
import type { AlertRuleOverrides } from '../../src/observability/alert-rules.js';
import type { InternalAlertNotice } from '../../src/observability/internal-alert-notice.js';
import {
  createInternalAlerts,
  type InternalAlertsOptions,
  listInternalAlerts,
} from '../../src/observability/internal-alerts.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { describeEngines } from '../helpers/database.js';

const minute = 60_000;
const logger = pino({ level: 'silent' });

describeEngines('internal alerts', ({ db }) => {
  const knex = () => db().knex;
  let ledger: Ledger;
  /** The ledger's clock: receipts are stamped with it. */
  let clock = new Date();

  beforeAll(async () => {
    ledger = await createLedger({
      knex: knex(),
      signer: createSigner(generateSigningKey()),
      clock: () => clock,
    });
  });

  /**
   * A tenant of its own for each test, and a timeline far after every earlier one: the evaluator
   * walks all tenants, and never steps a rule back to an instant before its last evaluation.
   */
  let epoch = Date.parse('2030-01-01T00:00:00Z');
  async function scenario(
    name: string,
    options: Partial<InternalAlertsOptions> = {},
  ): Promise<{
    tenant: string;
    at: (m: number) => Date;
    evaluate: (m: number) => Promise<InternalAlertNotice[]>;
    notified: InternalAlertNotice[];
  }> {
    epoch += 30 * 24 * 60 * minute;
    const base = epoch;
    const at = (m: number) => new Date(base + m * minute);
    const tenant = `${name}-${randomUUID().slice(0, 6)}`;
    clock = at(-1);
    await createTenant({ knex: knex(), ledger }, { id: tenant, tier: 'enterprise' }, 'test');
    const notified: InternalAlertNotice[] = [];
    const alerts = createInternalAlerts({
      knex: knex(),
      ledger,
      logger,
      notify: (t, a) => {
        if (t === tenant) notified.push(a);
      },
      ...options,
    });
    const evaluate = async (m: number) =>
      (await alerts.evaluate(at(m))).filter((n) => n.tenant === tenant);
    return { tenant, at, evaluate, notified };
  }

  /** Appends `n` receipts like `draft` at `when`. */
  async function append(tenant: string, when: Date, n: number, draft: ReceiptDraft) {
    clock = when;
    for (let i = 0; i < n; i += 1) await ledger.append(tenant, draft);
  }

  const alertReceipts = async (tenant: string): Promise<ReceiptPayload[]> =>
    (
      await knex()('receipts')
        .where({ tenant_id: tenant })
        .whereIn('kind', ['alert.fired', 'alert.cleared'])
        .orderBy('seq')
        .select('body')
    ).map((r: { body: string }) => JSON.parse(r.body) as ReceiptPayload);

  const transitions = (notices: InternalAlertNotice[]) =>
    notices.map((n) => `${n.rule}:${n.transition}:${n.value}`);

  const denied = (reasons: string[]): ReceiptDraft => ({
    kind: 'step.denied',
    data: { playbook: 'p@1', step: 's1', uses: 'http.request', reasons },
  });

  it('runaway_run_rate fires at 50 runs in 10 minutes, not at 49, and clears after 10 min below 25', async () => {
    const s = await scenario('runs');
    await knex()('playbook_versions').insert({
      id: `${s.tenant}:p`,
      tenant_id: s.tenant,
      name: 'p',
      version: 1,
      digest: `sha256:${s.tenant}`,
      definition: JSON.stringify({}),
    });
    const runs = (n: number, m: number) =>
      knex()('runs').insert(
        Array.from({ length: n }, () => ({
          id: randomUUID(),
          tenant_id: s.tenant,
          playbook_version_id: `${s.tenant}:p`,
          playbook_name: 'p',
          status: 'queued',
          context: JSON.stringify({}),
          created_at: s.at(m).toISOString(),
        })),
      );
    await runs(30, 0);
    await runs(19, 5);
    expect(await s.evaluate(9)).toEqual([]);
    await runs(1, 9);
    expect(transitions(await s.evaluate(9.5))).toEqual(['runaway_run_rate:fired:50']);
    // The first 30 leave the window: 20 runs, below 25 — but not for 10 minutes yet.
    expect(await s.evaluate(10.5)).toEqual([]);
    expect(await s.evaluate(20)).toEqual([]);
    expect(transitions(await s.evaluate(20.5))).toEqual(['runaway_run_rate:cleared:0']);
    const [fired, cleared] = await alertReceipts(s.tenant);
    expect(fired).toMatchObject({
      kind: 'alert.fired',
      rule: 'runaway_run_rate',
      value: 50,
      threshold: 50,
      clearBelow: 25,
      windowMs: 10 * minute,
    });
    expect(cleared).toMatchObject({
      kind: 'alert.cleared',
      rule: 'runaway_run_rate',
      value: 0,
      firedAt: s.at(9.5).toISOString(),
      fired: fired?.id,
    });
    expect(s.notified.map((n) => n.receiptId)).toEqual([fired?.id, cleared?.id]);
    expect(s.notified[0]?.message).toBe(
      `Runaway run rate (${s.tenant}): 50 runs started in the last 10 min, threshold 50.`,
    );
  });

  it('repeated_denials fires at 5 denied steps in 30 minutes, not at 4, and clears', async () => {
    const s = await scenario('denials');
    await append(s.tenant, s.at(0), 4, denied(['policy_denied']));
    expect(await s.evaluate(1)).toEqual([]);
    await append(s.tenant, s.at(2), 1, denied(['kill_switch:tenant']));
    expect(transitions(await s.evaluate(3))).toEqual(['repeated_denials:fired:5']);
    // 30 minutes on, the first four have left the window: 1 < 3, for 10 minutes.
    expect(await s.evaluate(31)).toEqual([]);
    expect(transitions(await s.evaluate(41))).toEqual(['repeated_denials:cleared:0']);
    expect((await alertReceipts(s.tenant)).map((r) => r.kind)).toEqual([
      'alert.fired',
      'alert.cleared',
    ]);
  });

  it('budget_exceed_attempts counts budget denials and budget approval requests only', async () => {
    const s = await scenario('budget');
    await append(s.tenant, s.at(0), 3, denied(['policy_denied', 'environment_not_allowed']));
    await append(s.tenant, s.at(0), 1, denied(['actions_per_hour_exceeded']));
    await append(s.tenant, s.at(1), 1, {
      kind: 'approval.requested',
      data: { decision: { outcome: 'approval_required', reasons: ['privileged'] } },
    });
    await append(s.tenant, s.at(1), 1, {
      kind: 'approval.requested',
      data: { decision: { outcome: 'deny', reasons: ['blast_radius_exceeded'] } },
    });
    expect((await s.evaluate(2)).filter((n) => n.rule === 'budget_exceed_attempts')).toEqual([]);
    await append(s.tenant, s.at(3), 1, denied(['cost_per_run_exceeded']));
    const fired = await s.evaluate(4);
    expect(transitions(fired)).toContain('budget_exceed_attempts:fired:3');
    // An hour on, one budget stop is left: not below 1. Then none, for 10 minutes.
    expect(await s.evaluate(62)).toEqual([]);
    expect(await s.evaluate(64)).toEqual([]);
    expect(transitions(await s.evaluate(74))).toContain('budget_exceed_attempts:cleared:0');
  });

  it('delivery_failures fires on one failed delivery in 24 h and clears once it is older', async () => {
    const s = await scenario('delivery');
    const finished = (outcome: string): ReceiptDraft => ({
      kind: 'delivery.finished',
      data: { delivery: randomUUID(), report: 'r1', target: 'deliver[0]', outcome },
    });
    await append(s.tenant, s.at(0), 2, finished('delivered'));
    expect(await s.evaluate(1)).toEqual([]);
    await append(s.tenant, s.at(2), 1, finished('failed'));
    expect(transitions(await s.evaluate(3))).toEqual(['delivery_failures:fired:1']);
    expect(await s.evaluate(24 * 60 + 1)).toEqual([]);
    expect(transitions(await s.evaluate(24 * 60 + 3))).toEqual(['delivery_failures:cleared:0']);
  });

  it('anchoring_lag fires at 300 s, does not flap around it, and clears after 5 min below 120 s', async () => {
    let lag = 0;
    const s = await scenario('anchor', {
      anchoringLag: async () => [{ tenant: lagTenant, seconds: lag }],
    });
    const lagTenant = s.tenant;
    const seen: string[] = [];
    const series: Array<[number, number]> = [
      [0, 299],
      [1, 300],
      [2, 299],
      [3, 301],
      [4, 150],
      [5, 310],
      [6, 100],
      [7, 130], // back at clearBelow: the wait starts again
      [8, 100],
      [12, 90],
      [13, 80],
    ];
    for (const [m, seconds] of series) {
      lag = seconds;
      seen.push(...transitions(await s.evaluate(m)).map((t) => `${t}@${m}`));
    }
    expect(seen).toEqual(['anchoring_lag:fired:300@1', 'anchoring_lag:cleared:80@13']);
    expect((await alertReceipts(s.tenant)).map((r) => [r.kind, r.value, r.threshold])).toEqual([
      ['alert.fired', 300, 300],
      ['alert.cleared', 80, 300],
    ]);
  });

  it('takes thresholds per tenant', async () => {
    let strict = '';
    const rules = (t: string): AlertRuleOverrides | undefined =>
      t === strict ? { repeated_denials: { threshold: 2, clearBelow: 1 } } : undefined;
    const s = await scenario('strict', { rules });
    strict = s.tenant;
    await append(s.tenant, s.at(0), 2, denied(['policy_denied']));
    expect(transitions(await s.evaluate(1))).toEqual(['repeated_denials:fired:2']);
  });

  it('makes one transition when two replicas evaluate at once', async () => {
    const s = await scenario('replicas');
    await append(s.tenant, s.at(0), 5, denied(['policy_denied']));
    const other = createInternalAlerts({ knex: knex(), ledger, logger });
    const [a, b] = await Promise.all([s.evaluate(1), other.evaluate(s.at(1))]);
    expect([...a, ...b.filter((n) => n.tenant === s.tenant)]).toHaveLength(1);
    expect(await alertReceipts(s.tenant)).toHaveLength(1);
    // A replica that lags behind never steps a rule back.
    expect((await other.evaluate(s.at(0.5))).filter((n) => n.tenant === s.tenant)).toEqual([]);
  });

  it('lists a tenant’s alerts, firing first, and nothing of other tenants', async () => {
    const s = await scenario('list');
    const quiet = await scenario('quiet');
    await append(s.tenant, s.at(0), 5, denied(['policy_denied']));
    await s.evaluate(1);
    const listed = await listInternalAlerts(knex(), s.tenant);
    expect(listed[0]).toMatchObject({
      rule: 'repeated_denials',
      title: 'Repeated denials',
      state: 'firing',
      value: 5,
      threshold: 5,
      since: s.at(1).toISOString(),
    });
    expect(listed.slice(1).map((a) => [a.rule, a.state])).toEqual([
      ['budget_exceed_attempts', 'clear'],
      ['delivery_failures', 'clear'],
      ['runaway_run_rate', 'clear'],
    ]);
    expect((await listInternalAlerts(knex(), quiet.tenant)).map((a) => a.state)).not.toContain(
      'firing',
    );
  });

  describe('a notify that throws', () => {
    it('is logged; the transition stays committed', async () => {
      const s = await scenario('notify-fails', {
        notify: () => {
          throw new Error('chat is down');
        },
      });
      await append(s.tenant, s.at(0), 5, denied(['policy_denied']));
      expect(transitions(await s.evaluate(1))).toEqual(['repeated_denials:fired:5']);
      expect(await alertReceipts(s.tenant)).toHaveLength(1);
    });
  });
});
