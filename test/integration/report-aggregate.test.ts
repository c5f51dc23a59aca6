/**
 * Trust Report aggregation, per engine. Alpha runs real playbooks through the guarded engine this
 * week (alerts, a dual-control approval, a budget denial, a breaker); Bravo's week is seeded at known
 * instants (its own ledgers with a clock and two keys, direct inserts where the product has no
 * shortcut, a checkpoint the week before); Charlie's chain is tampered with. Every figure equals what
 * was seeded, the model validates, and no report carries another tenant's data.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAnchoring, hashesOf } from '../../src/ledger/anchor.js';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { createSigner, generateSigningKey } from '../../src/ledger/ed25519.js';
import { createLedger, type Ledger } from '../../src/ledger/ledger.js';
import { appendLeaves, leafHash, rootAt, verifyConsistency } from '../../src/ledger/merkle.js';
import type { ReceiptDraft } from '../../src/ledger/receipt.js';
import { importBaseline } from '../../src/observability/baseline.js';
import { parsePlaybook } from '../../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../../src/pipeline/playbook-versions.js';
import { aggregateTrustReport } from '../../src/reports/aggregate.js';
import { isoWeekOf, isoWeekRange } from '../../src/reports/iso-week.js';
import { createPdfRenderer } from '../../src/reports/pdf.js';
import { renderReportHtml } from '../../src/reports/render-html.js';
import { trustReportSchema } from '../../src/reports/report-model.js';
import { makeTrustReport } from '../../src/reports/trust-report.js';
import {
  insertMerkleNodes,
  lockMerkleHead,
  setMerkleSize,
  unanchoredReceipts,
} from '../../src/storage/merkle.js';
import { createTenant, createToken } from '../../src/tenancy/tenants.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { chromiumUnderTest, popplerAvailable } from '../helpers/chromium.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';

const A = 'alpha';
const C = 'charlie';
const silent = pino({ level: 'silent' });

const playbook = (name: string, alertname: string, spec: string, step: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${alertname} } }
${spec}
  steps:
    - { id: act, uses: ${step} }
`;

const alphaPlaybooks = {
  'alpha-restart': playbook(
    'alpha-restart',
    'AlphaIngestLag',
    '  manualMinutes: 30',
    'probe.touch, with: { label: "restart-{{ alert.labels.n }}", targets: [ingest-1] }',
  ),
  'alpha-failover': playbook(
    'alpha-failover',
    'AlphaReplicaLag',
    '  environment: production\n  manualMinutes: 60\n  approval: { approvers: [slack:UA1, slack:UA2, slack:UA3] }',
    'probe.destroy, with: { label: "failover-{{ alert.labels.n }}", targets: [db-1] }',
  ),
  'alpha-budget': playbook(
    'alpha-budget',
    'AlphaDiskFull',
    '  manualMinutes: 10\n  budgets: { actionsPerHour: 1 }',
    'probe.touch, with: { label: "disk-{{ alert.labels.n }}", targets: [node-1] }',
  ),
  'alpha-flaky': playbook(
    'alpha-flaky',
    'AlphaFlaky',
    '  autoDisable: { consecutiveFailures: 1 }',
    'probe.touch, with: { label: "flaky", fail: "yes" }',
  ),
};

/** The current ISO week, waiting for the next one when fewer than 90 s of this one are left. */
async function weekAwayFromItsEnd(): Promise<string> {
  const week = isoWeekOf(new Date());
  const end = Date.parse(`${isoWeekRange(week)?.end}T00:00:00Z`) + 86_400_000;
  const left = end - Date.now();
  if (left < 90_000) await new Promise((r) => setTimeout(r, left + 1_000));
  return isoWeekOf(new Date());
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const chromium = chromiumUnderTest();
const poppler = popplerAvailable();

describeEngines('trust report aggregation', ({ db }) => {
  const probe = createProbe();
  let g: Awaited<ReturnType<typeof startGuarded>>;
  let anchoring: ReturnType<typeof createAnchoring>;
  let week = '';
  let bravo: Bravo;
  const alpha = { starts: new Map<string, string[]>(), ticket: '', requested: '', disabled: '' };
  const knex = () => db().knex;

  beforeAll(async () => {
    week = await weekAwayFromItsEnd();
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      tenants: [{ id: A, playbooks: alphaPlaybooks }],
    });
    const fire = async (alertname: string, n: string, startsAt: string) => {
      alpha.starts.set(alertname, [...(alpha.starts.get(alertname) ?? []), startsAt]);
      const runs = await g.fire(
        A,
        { alertname, n },
        { fingerprint: `${alertname}-${n}`, startsAt },
      );
      await g.idle();
      return runs;
    };
    for (const [n, ago] of [12, 25, 40].entries())
      await fire('AlphaIngestLag', `${n}`, minutesAgo(ago));
    const [first] = alpha.starts.get('AlphaIngestLag') ?? [];
    await g.fire(
      A,
      { alertname: 'AlphaIngestLag', n: '0' },
      {
        fingerprint: 'AlphaIngestLag-0',
        startsAt: first,
        status: 'resolved',
      },
    );
    const [failover] = await fire('AlphaReplicaLag', '1', minutesAgo(30));
    const { body } = await g.api(A, 'read', 'GET', `/approvals?run=${failover}`);
    alpha.ticket = body.approvals[0].createdAt;
    alpha.requested = body.approvals[0].requestReceiptId;
    for (const [actor, who] of [
      ['slack:UA1', 'admin'],
      ['slack:UA2', 'ops'],
    ] as const) {
      const path = `/approvals/${body.approvals[0].id}/decision`;
      await g.api(A, who, 'POST', path, { decision: 'approve', actor });
    }
    await g.idle();
    await fire('AlphaDiskFull', '1', minutesAgo(8));
    await fire('AlphaDiskFull', '2', minutesAgo(6));
    await fire('AlphaFlaky', '1', minutesAgo(5));
    await fire('AlphaUnmatched', '1', minutesAgo(4));
    alpha.disabled = (await g.receipts(A, 'playbook.disabled'))[0]?.id ?? '';
    anchoring = createAnchoring({
      knex: knex(),
      signer: g.ledger.signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async (t) => t === A,
      logger: silent,
    });
    await anchoring.anchor(A);
    bravo = await seedBravo(knex(), isoWeekRange(week)?.start ?? '');
  }, 240_000);

  afterAll(async () => {
    await g?.close();
  });

  it('fills every figure of a week run through the engine', async () => {
    const report = await aggregateTrustReport(knex(), { tenant: A, week }, { anchoring });
    expect(() => trustReportSchema.parse(report)).not.toThrow();
    expect(renderReportHtml(report)).toContain('alpha-restart');
    const receipts = await g.receipts(A);
    const succeeded: Array<{ playbook_name: string; finished_at: Date; starts_at: Date }> =
      await knex()('runs as r')
        .join('triggers as t', 't.id', 'r.trigger_id')
        .where({ 'r.tenant_id': A, 'r.status': 'succeeded' })
        .select('r.playbook_name', 'r.finished_at', 't.starts_at');
    const minutes = (p: string) =>
      succeeded
        .filter((r) => r.playbook_name === p)
        .map((r) => (new Date(r.finished_at).getTime() - new Date(r.starts_at).getTime()) / 60_000);
    const mttm = (p: string) => ({
      playbook: p,
      runs: minutes(p).length,
      meanMinutes: Math.round(mean(minutes(p)) * 100) / 100,
      medianMinutes: Math.round(median(minutes(p)) * 100) / 100,
      baselineMinutes: null,
    });
    const firstAt = (name: string) =>
      new Date(Math.min(...(alpha.starts.get(name) ?? []).map(Date.parse))).toISOString();

    expect(report.tenant).toEqual({ id: A, name: A, tier: 'enterprise' });
    expect(report.slo).toEqual({
      alertsFired: 8,
      alertsResolved: 1,
      mttm: ['alpha-restart', 'alpha-budget', 'alpha-failover'].map(mttm),
      topIncidents: [
        {
          alertname: 'AlphaIngestLag',
          count: 3,
          firstAt: firstAt('AlphaIngestLag'),
          mitigated: true,
        },
        {
          alertname: 'AlphaDiskFull',
          count: 2,
          firstAt: firstAt('AlphaDiskFull'),
          mitigated: true,
        },
        { alertname: 'AlphaFlaky', count: 1, firstAt: firstAt('AlphaFlaky'), mitigated: false },
        {
          alertname: 'AlphaReplicaLag',
          count: 1,
          firstAt: firstAt('AlphaReplicaLag'),
          mitigated: true,
        },
        {
          alertname: 'AlphaUnmatched',
          count: 1,
          firstAt: firstAt('AlphaUnmatched'),
          mitigated: false,
        },
      ],
    });
    expect(report.coverage).toEqual({ routineEvents: 8, autoResolved: 4, share: 0.5, goal: 0.6 });
    expect(report.privileged).toEqual({
      actions: [
        {
          at: alpha.ticket,
          playbook: 'alpha-failover',
          step: 'act',
          requestedBy: 'trigger:alertmanager',
          approvers: ['2 approvers (identities withheld)'],
          dualControl: true,
          receiptId: alpha.requested,
        },
      ],
      adherence: { actions: 1, dualControlled: 1, share: 1 },
    });
    expect(report.keys).toEqual({
      keyId: g.ledger.signer.keyId,
      algorithm: 'Ed25519',
      rotations: 0,
      signatures: receipts.length,
    });
    expect(report.anchoring).toMatchObject({
      checkpoints: 1,
      treeSize: receipts.length,
      proofsServed: 0,
      lagSeconds: 0,
      consistency: null,
    });
    expect(report.anchoring.checkpoint).toMatch(
      new RegExp(`^warden.test/${A}\\n${receipts.length}\\n`),
    );
    expect(report.isolation.checks.map((c) => [c.name, c.passed])).toEqual([
      ['Receipts name their tenant', true],
      ['Receipt chain has no gaps', true],
      ['Receipts reference only this tenant’s runs', true],
      ['Runs reference only this tenant’s triggers and playbooks', true],
      ['Approvals reference only this tenant’s runs and votes', true],
    ]);
    expect(report.isolation.checks[0]?.detail).toBe(
      `${receipts.length} receipts, 0 bodies naming another tenant`,
    );
    expect(report.isolation.tokens).toEqual([
      { scope: 'ingest', count: 1 },
      { scope: 'read', count: 1 },
      { scope: 'admin', count: 2 },
    ]);
    expect(report.guardrails).toEqual({
      budgetDenials: 1,
      byReason: [{ reason: 'Actions per hour exceeded', count: 1 }],
      autoDisables: [
        {
          at: expect.any(String),
          playbook: 'alpha-flaky',
          reason: '1 consecutive failed run (limit 1)',
          receiptId: alpha.disabled,
        },
      ],
    });
    expect(report.timeSaved).toEqual({
      minutes: 100,
      byPlaybook: [
        { playbook: 'alpha-restart', runs: 3, minutes: 90 },
        { playbook: 'alpha-budget', runs: 1, minutes: 10 },
      ],
    });
    const totals = report.runsByDay.reduce(
      (t, d) => ({
        succeeded: t.succeeded + d.succeeded,
        failed: t.failed + d.failed,
        denied: t.denied + d.denied,
        awaiting: t.awaiting + d.awaiting,
      }),
      { succeeded: 0, failed: 0, denied: 0, awaiting: 0 },
    );
    expect(report.runsByDay.map((d) => d.day)[0]).toBe(isoWeekRange(week)?.start);
    expect(totals).toEqual({ succeeded: 5, failed: 1, denied: 1, awaiting: 0 });
    expect(report.retention).toEqual({ manifests: [] });
  });

  it.skipIf(!chromium || !poppler)(
    'makes the PDF of the week run through the engine: every section and its figures, and a receipt of its SHA-256',
    async () => {
      const pdf = createPdfRenderer({ chromiumPath: chromium });
      try {
        const made = await makeTrustReport(
          {
            knex: knex(),
            ledger: g.ledger,
            logger: silent,
            tenants: [],
            publicUrl: 'http://warden.test',
            anchoring,
            pdf: async () => pdf,
          },
          { tenant: A, week, format: 'pdf' },
        );
        if (!made) throw new Error('no report');
        expect(made.report.format).toBe('pdf');
        expect(made.body.subarray(0, 5).toString()).toBe('%PDF-');
        const dir = mkdtempSync(join(tmpdir(), 'warden-report-pdf-'));
        const file = join(dir, 'alpha.pdf');
        writeFileSync(file, made.body);
        const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
        const pages = Number(
          /Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1],
        );
        rmSync(dir, { recursive: true, force: true });
        expect(pages).toBeGreaterThanOrEqual(3);
        expect(pages).toBeLessThanOrEqual(12);
        for (const heading of [
          'Executive summary',
          'Service levels and incidents',
          'Autonomous coverage',
          'Privileged actions and dual control',
          'Signing keys',
          'Retention and purge',
          'Transparency log anchoring',
          'Tenant isolation',
          'Guardrails: budgets and auto-disable',
          'Time saved',
        ]) {
          expect(text).toContain(heading);
        }
        // The seeded figures, as the reader sees them.
        for (const figure of [
          'alpha-restart',
          'AlphaIngestLag',
          'alpha-flaky',
          '1 h 40 min',
          '1 h 30 min',
          '5 / 5 passed',
          week,
        ]) {
          expect(text).toContain(figure);
        }
        expect(text).toMatch(/Page 1 of \d+/);
        const sha = createHash('sha256').update(made.body).digest('hex');
        const receipt = (await g.receipts(A, 'report.generated')).at(-1);
        expect(receipt).toMatchObject({ report: made.report.id, sha256: sha, format: 'pdf' });
      } finally {
        await pdf.close();
      }
    },
    60_000,
  );

  it('fills every figure of a seeded week, with a key rotation and a consistency proof', async () => {
    const report = await aggregateTrustReport(knex(), { tenant: bravo.id, week });
    expect(() => trustReportSchema.parse(report)).not.toThrow();
    const { at } = bravo;
    expect(report.tenant).toEqual({ id: bravo.id, name: 'Bravo Logistics', tier: 'enterprise' });
    expect(report.slo).toEqual({
      alertsFired: 5,
      alertsResolved: 1,
      mttm: [
        { playbook: 'scale-api', runs: 2, meanMinutes: 8, medianMinutes: 8, baselineMinutes: null },
      ],
      topIncidents: [
        { alertname: 'ApiLatencyHigh', count: 3, firstAt: at(0, '10:00'), mitigated: true },
        { alertname: 'DiskAlmostFull', count: 2, firstAt: at(4, '07:58'), mitigated: false },
      ],
    });
    expect(report.coverage).toEqual({ routineEvents: 7, autoResolved: 2, share: 2 / 7, goal: 0.6 });
    expect(report.privileged).toEqual({
      actions: [
        {
          at: at(1, '09:01'),
          playbook: 'scale-api',
          step: 'scale',
          requestedBy: 'trigger:alertmanager',
          approvers: ['2 approvers (identities withheld)'],
          dualControl: true,
          receiptId: bravo.requested[0],
        },
        {
          at: at(4, '08:01'),
          playbook: 'scale-api',
          step: 'scale',
          requestedBy: 'trigger:alertmanager',
          approvers: [],
          dualControl: false,
          receiptId: bravo.requested[1],
        },
        {
          at: at(5, '07:01'),
          playbook: 'scale-api',
          step: 'scale',
          requestedBy: null,
          approvers: [],
          dualControl: false,
          receiptId: bravo.requested[2],
        },
      ],
      adherence: { actions: 3, dualControlled: 1, share: 1 / 3 },
    });
    expect(report.keys).toEqual({
      keyId: bravo.keys[1],
      algorithm: 'Ed25519',
      rotations: 1,
      signatures: bravo.weekReceipts,
    });
    const { consistency, ...anchoring } = report.anchoring;
    expect(anchoring).toEqual({
      checkpoints: 2,
      treeSize: bravo.checkpoints[2]?.size,
      proofsServed: 0,
      lagSeconds: null,
      checkpoint: bravo.checkpoints[2]?.note,
    });
    const [before, , last] = bravo.checkpoints;
    expect(consistency).toMatchObject({
      fromSize: before?.size,
      toSize: last?.size,
      previousCheckpoint: before?.note,
    });
    const proof = (consistency?.hashes ?? []).map((h) => Buffer.from(h, 'base64'));
    expect(proof.length).toBeGreaterThan(0);
    expect(
      verifyConsistency(
        before?.size ?? 0,
        last?.size ?? 0,
        proof,
        before?.root ?? Buffer.alloc(0),
        last?.root ?? Buffer.alloc(0),
      ),
    ).toBe(true);
    expect(report.isolation.checks.every((c) => c.passed)).toBe(true);
    expect(report.isolation.tokens).toEqual([
      { scope: 'ingest', count: 1 },
      { scope: 'read', count: 1 },
      { scope: 'admin', count: 0 },
    ]);
    expect(report.guardrails).toEqual({
      budgetDenials: 2,
      byReason: [
        { reason: 'Blast radius exceeded', count: 1 },
        { reason: 'Cost per run exceeded', count: 1 },
      ],
      autoDisables: [
        {
          at: at(5, '09:00'),
          playbook: 'scale-api',
          reason: '2 denied steps in the last 1d (limit 2)',
          receiptId: bravo.breakerReceipt,
        },
      ],
    });
    expect(report.timeSaved).toEqual({
      minutes: 60,
      byPlaybook: [
        { playbook: 'rotate-certs', runs: 1, minutes: 45 },
        { playbook: 'scale-api', runs: 1, minutes: 15 },
      ],
    });
    const days = [
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 2, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ];
    expect(report.runsByDay).toEqual(
      days.map(([succeeded, failed, denied, awaiting], i) => ({
        day: at(i, '00:00').slice(0, 10),
        succeeded,
        failed,
        denied,
        awaiting,
      })),
    );
    expect(report.disclosure).toMatchObject({
      audience: 'customer',
      withheld: expect.arrayContaining(['approver identities', 'requester identities']),
    });
  });

  it('names approvers and requesters only for an auditor', async () => {
    const customer = await aggregateTrustReport(knex(), { tenant: bravo.id, week });
    const auditor = await aggregateTrustReport(knex(), {
      tenant: bravo.id,
      week,
      audience: 'auditor',
    });
    expect(JSON.stringify(customer)).not.toMatch(/slack:UB/);
    expect(auditor.privileged.actions.map((a) => [a.requestedBy, a.approvers])).toEqual([
      ['trigger:alertmanager', ['slack:UB1', 'slack:UB2']],
      ['trigger:alertmanager', []],
      ['slack:UB9', []],
    ]);
    expect(auditor.disclosure).toMatchObject({
      audience: 'auditor',
      disclosed: expect.arrayContaining(['approver identities', 'requester identities']),
    });
    expect(auditor.disclosure.withheld).not.toContain('approver identities');
    const alpha = await aggregateTrustReport(knex(), { tenant: A, week, audience: 'auditor' });
    expect(alpha.privileged.actions[0]?.approvers).toEqual(['slack:UA1', 'slack:UA2']);
  });

  it("keeps each tenant's report free of every other tenant's data", async () => {
    const receiptIds: string[] = (await g.receipts(A)).map((r) => r.id);
    const alphaMarks = [A, 'Alpha', 'slack:UA', g.ledger.signer.keyId, 'warden.test/alpha'];
    for (const audience of ['customer', 'auditor'] as const) {
      const text = JSON.stringify(
        await aggregateTrustReport(knex(), { tenant: bravo.id, week, audience }),
      );
      for (const mark of [...alphaMarks, ...receiptIds]) expect(text).not.toContain(mark);
      const alpha = JSON.stringify(
        await aggregateTrustReport(knex(), { tenant: A, week, audience }),
      );
      for (const mark of ['bravo', 'Bravo', 'slack:UB', 'scale-api', 'ApiLatency', ...bravo.keys]) {
        expect(alpha).not.toContain(mark);
      }
    }
  });

  it('fails the isolation checks of a chain holding a gap, a foreign body and a foreign trigger', async () => {
    const signer = createSigner(generateSigningKey());
    const ledger = await createLedger({ knex: knex(), signer });
    await createTenant({ knex: knex(), ledger }, { id: C, tier: 'enterprise' }, 'test');
    const [alphaTrigger] = await knex()('triggers').where({ tenant_id: A }).pluck('id');
    const version = (await knex()('playbook_versions').where({ tenant_id: A }).first()) as {
      definition: unknown;
    };
    await knex()('playbook_versions').insert({
      id: 'charlie-v1',
      tenant_id: C,
      name: 'charlie-pb',
      version: 1,
      digest: 'sha256:charlie',
      definition: JSON.stringify(version.definition),
    });
    await knex()('runs').insert({
      id: 'charlie-run',
      tenant_id: C,
      playbook_version_id: 'charlie-v1',
      playbook_name: 'charlie-pb',
      trigger_id: alphaTrigger,
      status: 'succeeded',
      context: '{}',
    });
    // seq 3 after 1 (2 is missing), and a body that says it belongs to alpha.
    await knex()('receipts').insert({
      tenant_id: C,
      seq: 3,
      id: 'charlie-forged',
      kind: 'tenant.updated',
      at: new Date().toISOString(),
      body: `{"id":"charlie-forged","kind":"tenant.updated","seq":3,"tenant":"${A}","v":1}`,
      digest: 'sha256:forged',
      key_id: signer.keyId,
      sig: 'forged',
    });
    const report = await aggregateTrustReport(knex(), { tenant: C, week });
    expect(report.isolation.checks).toEqual([
      {
        name: 'Receipts name their tenant',
        passed: false,
        detail: '2 receipts, 1 body naming another tenant',
      },
      {
        name: 'Receipt chain has no gaps',
        passed: false,
        detail: 'seq 1–3: 2 receipts, 1 missing',
      },
      {
        name: 'Receipts reference only this tenant’s runs',
        passed: true,
        detail: '0 runs referenced, 0 not of this tenant',
      },
      {
        name: 'Runs reference only this tenant’s triggers and playbooks',
        passed: false,
        detail: '1 run, 1 foreign reference',
      },
      {
        name: 'Approvals reference only this tenant’s runs and votes',
        passed: true,
        detail: '0 tickets, 0 foreign references',
      },
    ]);
  });

  it('answers a week without data with zeros and nulls', async () => {
    const report = await aggregateTrustReport(knex(), { tenant: A, week: '2020-W01' });
    expect(() => trustReportSchema.parse(report)).not.toThrow();
    expect(report).toMatchObject({
      week: { iso: '2020-W01', start: '2019-12-30', end: '2020-01-05' },
      slo: { alertsFired: 0, alertsResolved: 0, mttm: [], topIncidents: [] },
      coverage: { routineEvents: 0, autoResolved: 0, share: null },
      privileged: { actions: [], adherence: { actions: 0, dualControlled: 0, share: null } },
      keys: { keyId: 'none', rotations: 0, signatures: 0 },
      anchoring: {
        checkpoints: 0,
        treeSize: 0,
        proofsServed: 0,
        lagSeconds: null,
        checkpoint: null,
        consistency: null,
      },
      guardrails: { budgetDenials: 0, byReason: [], autoDisables: [] },
      timeSaved: { minutes: 0, byPlaybook: [] },
    });
    expect(report.runsByDay).toHaveLength(7);
    expect(
      report.runsByDay.every((d) => d.succeeded + d.failed + d.denied + d.awaiting === 0),
    ).toBe(true);
    expect(report.isolation.checks.every((c) => c.passed)).toBe(true);
  });

  it('refuses a string that is not an ISO week, and an unknown tenant', async () => {
    for (const bad of ['2026-47', '2025-W53', '2026-W00', "2026-W47'; drop table runs; --"]) {
      await expect(aggregateTrustReport(knex(), { tenant: A, week: bad })).rejects.toMatchObject({
        name: 'WardenError',
        code: 'invalid',
      });
    }
    await expect(aggregateTrustReport(knex(), { tenant: 'nobody', week })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it("sets each playbook's MTTM beside the baseline of the alerts it mitigated", async () => {
    await importBaseline(
      { knex: knex(), ledger: g.ledger },
      {
        tenant: A,
        bytes: Buffer.from(
          [
            'alertname,started_at,mitigated_at',
            'AlphaIngestLag,2026-01-05T10:00:00Z,2026-01-05T10:40:00Z',
            'AlphaIngestLag,2026-01-06T10:00:00Z,2026-01-06T11:00:00Z',
            'SomethingElse,2026-01-07T10:00:00Z,2026-01-07T10:05:00Z',
          ].join('\n'),
        ),
        fileName: 'incidents.csv',
      },
    );
    const report = await aggregateTrustReport(knex(), { tenant: A, week }, { anchoring });
    const restart = report.slo.mttm.find((m) => m.playbook === 'alpha-restart');
    expect(restart?.baselineMinutes).toBe(50); // (40 + 60) / 2, AlphaIngestLag only
    expect(report.slo.mttm.find((m) => m.playbook === 'alpha-budget')?.baselineMinutes).toBeNull();
  });
});

// --- Bravo: a week seeded at known instants ----------------------------------------------------

interface Bravo {
  id: string;
  /** An instant of the week: day 0 is Monday. */
  at(day: number, hhmm: string): string;
  /** The key that signed until Wednesday 03:00, then the one after. */
  keys: [string, string];
  /** The `approval.requested` receipts of its three tickets. */
  requested: string[];
  breakerReceipt: string;
  weekReceipts: number;
  /** The previous week's checkpoint, Wednesday's and Sunday's. */
  checkpoints: Array<{ size: number; note: string; root: Buffer }>;
}

const bravoPlaybook = (name: string, on: string, minutes: number, step: string) => ({
  file: `${name}.yaml`,
  ...(parsePlaybook(
    `apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on: [${on}]
  manualMinutes: ${minutes}
  steps: [{ id: ${step}, uses: "kubernetes.scale" }]
`,
    `${name}.yaml`,
  ) as Exclude<ReturnType<typeof parsePlaybook>, { problems: string[] }>),
});

async function seedBravo(knex: Knex, monday: string): Promise<Bravo> {
  const B = 'bravo';
  /** `hh:mm` or `hh:mm:ss` on day `day` of the week (0 = Monday; negative: the week before). */
  const instant = (day: number, time: string) =>
    new Date(
      Date.parse(`${monday}T${time.length === 5 ? `${time}:00` : time}Z`) + day * 86_400_000,
    );
  const signers = [createSigner(generateSigningKey()), createSigner(generateSigningKey())];
  let now = instant(-5, '09:00');
  const ledgers = await Promise.all(
    signers.map((signer) => createLedger({ knex, signer, clock: () => now })),
  );
  let ledger = ledgers[0] as Ledger;
  let weekReceipts = 0;
  const append = async (when: Date, draft: ReceiptDraft) => {
    now = when;
    const receipt = await ledger.append(B, draft);
    if (when >= instant(0, '00:00')) weekReceipts++;
    return receipt.payload.id;
  };

  // The week before: the tenant, its tokens (one revoked), its playbooks, a checkpoint.
  const deps = { knex, ledger };
  await createTenant(deps, { id: B, name: 'Bravo Logistics', tier: 'enterprise' }, 'test');
  await createToken(deps, { tenant: B, name: 'bravo-am', scope: 'ingest', source: 'cli' });
  await createToken(deps, { tenant: B, name: 'bravo-reader', scope: 'read', source: 'cli' });
  const old = await createToken(deps, { tenant: B, name: 'old', scope: 'admin', source: 'cli' });
  await knex('api_tokens').where({ tenant_id: B, id: old.id }).update({ revoked_at: now });
  const versions = await syncPlaybookVersions(deps, B, [
    bravoPlaybook('scale-api', '{ alert: { match: { alertname: ApiLatencyHigh } } }', 15, 'scale'),
    bravoPlaybook('rotate-certs', '{ cron: "0 3 * * 3" }', 45, 'rotate'),
  ]);
  const versionOf = (name: string) => versions.find((v) => v.name === name)?.id;
  const checkpointSigner = createSigner(generateSigningKey());
  /** What the anchor does, with the checkpoint stamped `when` (the product stamps now()). */
  const anchorAt = (when: Date) =>
    knex.transaction(async (trx) => {
      const size = await lockMerkleHead(trx, B);
      const pending = await unanchoredReceipts(trx, B, size, 10_000);
      const get = hashesOf(trx, B);
      const leaves = pending.map((r) => leafHash(Buffer.from(r.body, 'utf8')));
      await insertMerkleNodes(trx, B, await appendLeaves(size, leaves, get));
      const newSize = size + leaves.length;
      const root = await rootAt(newSize, get);
      const origin = `warden.test/${B}`;
      const note = await signCheckpoint(
        { origin, size: newSize, rootHash: root },
        checkpointSigner,
      );
      await setMerkleSize(trx, B, newSize);
      await trx('checkpoints').insert({
        tenant_id: B,
        size: newSize,
        root,
        note,
        created_at: when,
      });
      return { size: newSize, note, root };
    });
  const checkpoints = [await anchorAt(instant(-1, '12:00'))];

  const trigger = async (
    id: string,
    when: Date,
    t: { kind: string; status: string; source: string; alertname?: string; startsAt?: Date },
  ) => {
    const receiptId = await append(when, {
      kind: 'trigger.received',
      data: { trigger: id, source: t.source },
    });
    await knex('triggers').insert({
      id,
      tenant_id: B,
      source: t.source,
      kind: t.kind,
      status: t.status,
      fingerprint: t.alertname ? `${t.alertname}-${t.startsAt?.getTime()}` : null,
      dedup_key: id,
      labels: JSON.stringify(t.alertname ? { alertname: t.alertname } : {}),
      annotations: '{}',
      starts_at: t.startsAt ?? null,
      event_type: t.kind === 'event' ? 'deploy.finished' : null,
      data: t.kind === 'event' ? '{}' : null,
      links: '{}',
      delivery: '{}',
      body_digest: `sha256:${id}`,
      received_at: when,
      resolves: t.status === 'resolved' ? 'bravo-t1' : null,
      receipt_id: receiptId,
    });
  };
  const run = async (
    id: string,
    triggerId: string,
    playbook: string,
    status: string,
    created: Date,
    finished: Date | null,
    initiator = `playbook:${playbook}`,
  ) => {
    await knex('runs').insert({
      id,
      tenant_id: B,
      playbook_version_id: versionOf(playbook),
      playbook_name: playbook,
      trigger_id: triggerId,
      status,
      context: '{}',
      created_at: created,
      updated_at: finished ?? created,
      finished_at: finished,
      initiator,
    });
    await append(created, { kind: 'run.simulated', run: id, data: { playbook } });
  };
  const finish = (id: string, when: Date, status: string) =>
    append(when, { kind: 'run.finished', run: id, data: { status } });
  const denied = (id: string, when: Date, reasons: string[]) =>
    append(when, { kind: 'step.denied', run: id, data: { step: 'scale', reasons } });
  const ticket = async (
    id: string,
    runId: string,
    when: Date,
    t: { outcome: string; reasons: string[]; min: number; status: string; initiator: string },
    votes: Array<[string, 'approve' | 'reject', Date]> = [],
  ) => {
    const requested = await append(when, {
      kind: 'approval.requested',
      run: runId,
      data: { approval: id, step: 'scale', reasons: t.reasons },
    });
    await knex('approvals').insert({
      id,
      tenant_id: B,
      run_id: runId,
      step_id: 'scale',
      playbook_name: 'scale-api',
      input_digest: 'sha256:input',
      outcome: t.outcome,
      reasons: JSON.stringify(t.reasons),
      next_steps: '[]',
      evidence: '[]',
      approvers: JSON.stringify(['slack:UB1', 'slack:UB2', 'slack:UB3']),
      min_approvals: t.min,
      initiator: t.initiator,
      status: t.status,
      request_receipt_id: requested,
      expires_at: new Date(when.getTime() + 30 * 60_000),
      created_at: when,
      decided_at: votes.at(-1)?.[2] ?? null,
    });
    for (const [actor, decision, at] of votes) {
      const receiptId = await append(at, {
        kind: 'approval.decided',
        run: runId,
        data: { approval: id, decision },
        private: { actor },
      });
      await knex('approval_votes').insert({
        approval_id: id,
        tenant_id: B,
        actor,
        decision,
        receipt_id: receiptId,
        at,
      });
    }
    return requested;
  };
  const alert = (alertname: string, startsAt: Date) => ({
    kind: 'alert',
    status: 'firing',
    source: 'alertmanager',
    alertname,
    startsAt,
  });
  const d = instant;

  // Monday: an alert mitigated in 6 minutes, then resolved.
  await trigger('bravo-t1', d(0, '10:00:30'), alert('ApiLatencyHigh', d(0, '10:00')));
  await run('bravo-r1', 'bravo-t1', 'scale-api', 'succeeded', d(0, '10:00:30'), d(0, '10:06'));
  await finish('bravo-r1', d(0, '10:06'), 'succeeded');
  await trigger('bravo-t1r', d(0, '10:20'), {
    ...alert('ApiLatencyHigh', d(0, '10:00')),
    status: 'resolved',
  });
  // Tuesday: mitigated in 10 minutes after two approvers (dual control).
  await trigger('bravo-t2', d(1, '09:00:10'), alert('ApiLatencyHigh', d(1, '09:00')));
  await run('bravo-r2', 'bravo-t2', 'scale-api', 'succeeded', d(1, '09:00:10'), d(1, '09:10'));
  const requested = [
    await ticket(
      'bravo-tk2',
      'bravo-r2',
      d(1, '09:01'),
      {
        outcome: 'approval_required',
        reasons: ['policy:privileged-dual-control'],
        min: 2,
        status: 'approved',
        initiator: 'playbook:scale-api',
      },
      [
        ['slack:UB1', 'approve', d(1, '09:03')],
        ['slack:UB2', 'approve', d(1, '09:04')],
      ],
    ),
  ];
  await finish('bravo-r2', d(1, '09:10'), 'succeeded');
  // Wednesday: the key is rotated; a cron tick rotates certificates.
  ledger = ledgers[1] as Ledger;
  await trigger('bravo-t4', d(2, '03:00'), { kind: 'cron', status: 'fired', source: 'cron' });
  await run('bravo-r3', 'bravo-t4', 'rotate-certs', 'succeeded', d(2, '03:00'), d(2, '03:02'));
  await finish('bravo-r3', d(2, '03:02'), 'succeeded');
  checkpoints.push(await anchorAt(d(2, '12:00')));
  // Thursday: an event no playbook handles.
  await trigger('bravo-t5', d(3, '12:00'), {
    kind: 'event',
    status: 'received',
    source: 'deploys',
  });
  // Friday: a blast-radius ticket rejected, then a cost-per-run denial.
  await trigger('bravo-t6', d(4, '08:00'), alert('DiskAlmostFull', d(4, '07:58')));
  await run('bravo-r4', 'bravo-t6', 'scale-api', 'denied', d(4, '08:00'), d(4, '08:03'));
  requested.push(
    await ticket(
      'bravo-tk4',
      'bravo-r4',
      d(4, '08:01'),
      {
        outcome: 'deny',
        reasons: ['blast_radius_exceeded'],
        min: 1,
        status: 'rejected',
        initiator: 'playbook:scale-api',
      },
      [['slack:UB1', 'reject', d(4, '08:02')]],
    ),
  );
  await denied('bravo-r4', d(4, '08:03'), ['approval_rejected']);
  await finish('bravo-r4', d(4, '08:03'), 'denied');
  await trigger('bravo-t8', d(4, '09:00'), alert('DiskAlmostFull', d(4, '08:59')));
  await run('bravo-r6', 'bravo-t8', 'scale-api', 'denied', d(4, '09:00'), d(4, '09:00:05'));
  await denied('bravo-r6', d(4, '09:00:05'), ['cost_per_run_exceeded']);
  await finish('bravo-r6', d(4, '09:00:05'), 'denied');
  // Saturday: a person re-runs the playbook by hand and it waits; a breaker disables it.
  await trigger('bravo-t7', d(5, '07:00:05'), alert('ApiLatencyHigh', d(5, '07:00')));
  await run(
    'bravo-r5',
    'bravo-t7',
    'scale-api',
    'awaiting_approval',
    d(5, '07:00:05'),
    null,
    'slack:UB9',
  );
  requested.push(
    await ticket('bravo-tk5', 'bravo-r5', d(5, '07:01'), {
      outcome: 'approval_required',
      reasons: ['policy:destructive-needs-approval'],
      min: 1,
      status: 'pending',
      initiator: 'slack:UB9',
    }),
  );
  const breakerReceipt = await append(d(5, '09:00'), {
    kind: 'playbook.disabled',
    data: {
      playbook: 'scale-api',
      actor: 'breaker',
      reason: '2 denied steps in the last 1d (limit 2)',
      rule: 'denials',
    },
  });
  // Sunday: an operator disables the other playbook (not a breaker); the week's last checkpoint.
  await append(d(6, '10:00'), {
    kind: 'playbook.disabled',
    data: { playbook: 'rotate-certs', actor: 'api:ops', reason: 'maintenance' },
  });
  checkpoints.push(await anchorAt(d(6, '20:00')));
  return {
    id: B,
    at: (day, hhmm) => instant(day, hhmm).toISOString(),
    keys: [signers[0]?.keyId ?? '', signers[1]?.keyId ?? ''],
    requested,
    breakerReceipt,
    weekReceipts,
    checkpoints,
  };
}
