/**
 * MTTM and its baseline against real rows: importing an incidents CSV (receipted, all or nothing,
 * replacing the previous one), computing a baseline from resolved alerts, and MTTM now against it
 * on triggers and runs inserted with controlled timestamps — plus the `warden baseline` command.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { baselineCommand } from '../../src/cli/commands/baseline.js';
import { reportFailure } from '../../src/cli/output.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import type { ReceiptPayload } from '../../src/ledger/receipt.js';
import { computeBaseline, importBaseline } from '../../src/observability/baseline.js';
import { compareMttm } from '../../src/observability/mttm.js';
import type { RunStatus } from '../../src/storage/runs.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

const t0 = Date.parse('2026-03-02T00:00:00Z');
/** `t0` plus `m` minutes, in ISO 8601. */
const at = (m: number) => new Date(t0 + m * 60_000).toISOString();
const day = 24 * 60;

const csvOf = (rows: string[]) =>
  Buffer.from(['alertname,started_at,mitigated_at', ...rows].join('\n'));

/** Three incidents: IngestLag 30 and 50 minutes, DiskFull 60 — mean 46.67, median 50. */
const goodCsv = csvOf([
  'IngestLag,2026-01-05T10:00:00Z,2026-01-05T10:30:00Z',
  'IngestLag,2026-01-06T10:00:00Z,2026-01-06T10:50:00Z',
  'DiskFull,2026-01-07T08:00:00+01:00,2026-01-07T08:00:00Z',
]);

describeEngines('baseline and MTTM', ({ db }) => {
  const knex = () => db().knex;
  let ledger: Ledger;

  beforeAll(async () => {
    ({ ledger } = await createTestLedger(db()));
    for (const id of ['mttm', 'mttm-other', 'mttm-import', 'mttm-compute']) {
      await createTenant({ knex: knex(), ledger }, { id, tier: 'enterprise' }, 'test');
      await knex()('playbook_versions').insert({
        id: `${id}:restart-ingest`,
        tenant_id: id,
        name: 'restart-ingest',
        version: 1,
        digest: `sha256:${id}`,
        definition: JSON.stringify({}),
      });
    }
  });

  const receiptsOf = async (tenant: string, kind: string): Promise<ReceiptPayload[]> =>
    (await knex()('receipts').where({ tenant_id: tenant, kind }).orderBy('seq').select('body')).map(
      (r: { body: string }) => JSON.parse(r.body) as ReceiptPayload,
    );

  const incidentsOf = (tenant: string) =>
    knex()('baseline_incidents')
      .where({ tenant_id: tenant })
      .orderBy('position')
      .select('line', 'alertname');

  /** A firing alert starting at minute `start`; returns its id. */
  async function alert(
    tenant: string,
    start: number,
    opts: { alertname?: string; receivedAfter?: number } = {},
  ): Promise<string> {
    const id = randomUUID();
    await knex()('triggers').insert({
      id,
      tenant_id: tenant,
      source: 'alertmanager',
      kind: 'alert',
      status: 'firing',
      fingerprint: id.slice(0, 16),
      dedup_key: `${id}:firing`,
      labels: JSON.stringify({ alertname: opts.alertname ?? 'IngestLag' }),
      annotations: JSON.stringify({}),
      starts_at: at(start),
      links: JSON.stringify({}),
      delivery: JSON.stringify({}),
      body_digest: 'sha256:0',
      received_at: at(start + (opts.receivedAfter ?? 0.5)),
      receipt_id: randomUUID(),
    });
    return id;
  }

  /** The resolved notification of `firing`, ending at minute `end`. */
  async function resolve(tenant: string, firing: string, end: number): Promise<void> {
    const id = randomUUID();
    await knex()('triggers').insert({
      id,
      tenant_id: tenant,
      source: 'alertmanager',
      kind: 'alert',
      status: 'resolved',
      fingerprint: firing.slice(0, 16),
      dedup_key: `${id}:resolved`,
      labels: JSON.stringify({}),
      annotations: JSON.stringify({}),
      ends_at: at(end),
      links: JSON.stringify({}),
      delivery: JSON.stringify({}),
      body_digest: 'sha256:0',
      received_at: at(end + 1),
      resolves: firing,
      receipt_id: randomUUID(),
    });
  }

  /** A run of restart-ingest that `trigger` started, created a minute after it. */
  async function run(tenant: string, trigger: string, status: RunStatus, finished: number) {
    await knex()('runs').insert({
      id: randomUUID(),
      tenant_id: tenant,
      playbook_version_id: `${tenant}:restart-ingest`,
      playbook_name: 'restart-ingest',
      trigger_id: trigger,
      status,
      context: JSON.stringify({}),
      created_at: at(finished - 1),
      updated_at: at(finished),
      finished_at: at(finished),
    });
  }

  describe('importBaseline', () => {
    it('imports a valid CSV and receipts its SHA-256, row count and window', async () => {
      const saved = await importBaseline(
        { knex: knex(), ledger },
        { tenant: 'mttm-import', bytes: goodCsv, fileName: 'incidents.csv' },
      );
      expect(saved).toMatchObject({
        incidents: 3,
        meanMinutes: 46.67,
        medianMinutes: 50,
        window: { from: '2026-01-05T10:00:00.000Z', to: '2026-01-07T08:00:00.000Z' },
      });
      const [receipt, ...more] = await receiptsOf('mttm-import', 'baseline.imported');
      expect(more).toEqual([]);
      expect(receipt).toMatchObject({
        id: saved.receipt.payload.id,
        sha256: createHash('sha256').update(goodCsv).digest('hex'),
        file: 'incidents.csv',
        rows: 3,
        window: { from: '2026-01-05T10:00:00.000Z', to: '2026-01-07T08:00:00.000Z' },
      });
      expect(await incidentsOf('mttm-import')).toEqual([
        { line: 2, alertname: 'IngestLag' },
        { line: 3, alertname: 'IngestLag' },
        { line: 4, alertname: 'DiskFull' },
      ]);
    });

    it('rejects a CSV with bad rows, naming their lines, and keeps the previous baseline', async () => {
      const bad = csvOf([
        'IngestLag,2026-02-01T10:00:00Z,2026-02-01T10:05:00Z',
        'IngestLag,2026-02-01T10:00:00Z,not a time',
        'DiskFull,2026-02-02T10:00:00Z,2026-02-01T10:00:00Z',
      ]);
      const failure = importBaseline(
        { knex: knex(), ledger },
        { tenant: 'mttm-import', bytes: bad },
      );
      await expect(failure).rejects.toMatchObject({
        code: 'invalid',
        message: expect.stringMatching(
          /nothing was imported:\n {2}line 3: mitigated_at: "not a time" is not a timestamp.*\n {2}line 4: mitigated_at .* is before started_at/,
        ),
      });
      expect(await receiptsOf('mttm-import', 'baseline.imported')).toHaveLength(1);
      expect(await incidentsOf('mttm-import')).toHaveLength(3);
    });

    it('replaces the tenant’s baseline on re-import, with a receipt of its own', async () => {
      const again = csvOf(['Other,2026-02-01T10:00:00Z,2026-02-01T10:05:00Z']);
      const saved = await importBaseline(
        { knex: knex(), ledger },
        { tenant: 'mttm-import', bytes: again },
      );
      expect(await incidentsOf('mttm-import')).toEqual([{ line: 2, alertname: 'Other' }]);
      expect(await receiptsOf('mttm-import', 'baseline.imported')).toHaveLength(2);
      const { baseline } = await compareMttm(knex(), {
        tenant: 'mttm-import',
        from: at(0),
        to: at(day),
      });
      expect(baseline).toMatchObject({
        source: 'import',
        incidents: 1,
        meanMinutes: 5,
        receiptId: saved.receipt.payload.id,
      });
    });

    it('refuses an unknown tenant', async () => {
      await expect(
        importBaseline({ knex: knex(), ledger }, { tenant: 'nobody', bytes: goodCsv }),
      ).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  describe('computeBaseline', () => {
    it('takes the alerts started and resolved before --until, from triggers alone', async () => {
      const tenant = 'mttm-compute';
      await resolve(tenant, await alert(tenant, -3 * day, { alertname: 'A' }), -3 * day + 40);
      await resolve(tenant, await alert(tenant, -2 * day, { alertname: 'B' }), -2 * day + 20);
      await alert(tenant, -1 * day); // never resolved
      await resolve(tenant, await alert(tenant, -30), 30); // resolved after --until
      await resolve(tenant, await alert(tenant, 60), 90); // after --until
      const saved = await computeBaseline(
        { knex: knex(), ledger },
        { tenant, until: new Date(at(0)) },
      );
      expect(saved).toMatchObject({ incidents: 2, meanMinutes: 30, medianMinutes: 30 });
      const [receipt] = await receiptsOf(tenant, 'baseline.computed');
      expect(receipt).toMatchObject({
        until: at(0),
        since: null,
        rows: 2,
        window: { from: at(-3 * day), to: at(-2 * day + 20) },
      });
      const since = await computeBaseline(
        { knex: knex(), ledger },
        { tenant, since: new Date(at(-2 * day - 1)), until: new Date(at(0)) },
      );
      expect(since).toMatchObject({ incidents: 1, meanMinutes: 20 });
    });

    it('keeps the baseline when no alert qualifies', async () => {
      await expect(
        computeBaseline(
          { knex: knex(), ledger },
          { tenant: 'mttm-compute', until: new Date(at(-10 * day)) },
        ),
      ).rejects.toMatchObject({ code: 'not_found' });
      expect(await incidentsOf('mttm-compute')).toHaveLength(1);
    });
  });

  describe('compareMttm', () => {
    it('measures alerts to the mitigating run or their resolution, against the baseline', async () => {
      const tenant = 'mttm';
      const a1 = await alert(tenant, 60);
      await run(tenant, a1, 'succeeded', 64); // 4 min by run
      const a2 = await alert(tenant, 120);
      await run(tenant, a2, 'succeeded', 126); // 6 min by run (the later resolution is ignored)
      await run(tenant, a2, 'succeeded', 140);
      await resolve(tenant, a2, 150);
      const a3 = await alert(tenant, 180, { alertname: 'DiskFull' });
      await resolve(tenant, a3, 230); // 50 min, resolved without a run
      const a4 = await alert(tenant, 240, { alertname: 'DiskFull' });
      await run(tenant, a4, 'failed', 245);
      await resolve(tenant, a4, 260); // 20 min: a failed run mitigates nothing
      await alert(tenant, 300); // open
      await resolve(tenant, await alert(tenant, -60), 10); // started before the window
      await resolve(tenant, await alert('mttm-other', 60), 61); // another tenant

      const window = { tenant, from: at(0), to: at(7 * day) };
      const before = await compareMttm(knex(), window);
      expect(before.baseline).toBeNull();
      expect(before.delta).toBeNull();

      await importBaseline({ knex: knex(), ledger }, { tenant, bytes: goodCsv });
      const { now, baseline, delta } = await compareMttm(knex(), window);
      expect(now).toEqual({
        from: at(0),
        to: at(7 * day),
        alerts: 5,
        incidents: 4,
        meanMinutes: 20,
        medianMinutes: 13,
        mitigatedByRun: 2,
        resolvedWithoutRun: 2,
        open: 1,
        byPlaybook: [
          {
            playbook: 'restart-ingest',
            incidents: 2,
            meanMinutes: 5,
            medianMinutes: 5,
            baselineMinutes: 40,
          },
        ],
      });
      expect(baseline).toMatchObject({ incidents: 3, meanMinutes: 46.67, medianMinutes: 50 });
      expect(delta).toEqual({ meanMinutes: -26.67, medianMinutes: -37, meanPercent: -57.15 });
    });

    it('counts only alerts that started in the window', async () => {
      const { now } = await compareMttm(knex(), { tenant: 'mttm', from: at(100), to: at(200) });
      expect(now).toMatchObject({
        alerts: 2,
        incidents: 2,
        meanMinutes: 28,
        mitigatedByRun: 1,
        resolvedWithoutRun: 1,
        open: 0,
      });
      expect(now.byPlaybook).toEqual([
        {
          playbook: 'restart-ingest',
          incidents: 1,
          meanMinutes: 6,
          medianMinutes: 6,
          baselineMinutes: 40,
        },
      ]);
    });
  });
});

describe('warden baseline', { timeout: 120_000 }, () => {
  let dir: string;
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };

  beforeAll(() => {
    for (const name of ['DATABASE_URL', 'WARDEN_CONFIG', 'WARDEN_DATA_DIR', 'WARDEN_SIGNING_KEY']) {
      vi.stubEnv(name, '');
    }
    vi.stubEnv('LOG_LEVEL', 'error');
    dir = mkdtempSync(join(tmpdir(), 'warden-baseline-'));
    writeFileSync(join(dir, 'warden.yaml'), 'tenants:\n  - id: beta\n    tier: pro\n');
  });

  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The command under a root with the global options, as src/cli/main.ts registers commands. */
  async function cli(...args: string[]): Promise<number> {
    out.length = 0;
    err.length = 0;
    const program = new Command('warden')
      .option('-c, --config <file>')
      .option('-d, --data-dir <dir>')
      .exitOverride()
      .addCommand(baselineCommand(io).exitOverride());
    try {
      await program.parseAsync(['-c', join(dir, 'warden.yaml'), '-d', join(dir, 'data'), ...args], {
        from: 'user',
      });
      return 0;
    } catch (e) {
      return reportFailure(e, io);
    }
  }

  it('imports a file and prints what it took; a bad file exits 1 listing its lines', async () => {
    const good = join(dir, 'good.csv');
    writeFileSync(good, goodCsv);
    expect(await cli('baseline', 'import', '--tenant', 'beta', good)).toBe(0);
    expect(out[0]).toMatch(
      /^Imported the MTTM baseline of beta: 3 incident\(s\), mean 46.67 min, median 50 min, from 2026-01-05T10:00:00.000Z to 2026-01-07T08:00:00.000Z \(receipt [0-9a-f-]+\)\.$/,
    );
    expect(out[1]).toBe(`  sha256 ${createHash('sha256').update(goodCsv).digest('hex')}`);

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, csvOf(['IngestLag,2026-01-05T10:00:00Z', ',x,2026-01-05T10:00:00Z']));
    expect(await cli('baseline', 'import', '--tenant', 'beta', bad)).toBe(1);
    expect(err.join('\n')).toContain(
      'line 2: 2 field(s) where the header has 3\n  line 3: alertname is empty\n  line 3: started_at:',
    );

    expect(await cli('baseline', 'show', '--tenant', 'beta')).toBe(0);
    expect(out).toContain(
      'Baseline (import, 2026-01-05T10:00:00.000Z to 2026-01-07T08:00:00.000Z): 3 incident(s), mean 46.67 min, median 50 min.',
    );
  });
});
