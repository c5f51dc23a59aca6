import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDrill } from '../../src/dr/drill.js';
import { verifyRestoredChain } from '../../src/dr/verify-copy.js';
import { createAnchoring } from '../../src/ledger/anchor.js';
import { exportBundle } from '../../src/ledger/bundle.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { type Database, type Engine, openDatabase } from '../../src/storage/database.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { createTestLedger, enginesUnderTest } from '../helpers/database.js';
import { createFreshDatabase } from '../helpers/services.js';

const logger = pino({ level: 'silent' });

/** A database of its own: the drill backs up the whole of it (file-backed PGlite, or a new PG database). */
async function openWhole(
  engine: Engine,
): Promise<{ db: Database; url?: string; done(): Promise<void> }> {
  if (engine === 'postgres') {
    const fresh = await createFreshDatabase();
    const db = await openDatabase({ databaseUrl: fresh.url });
    const done = async () => {
      await db.close();
      await fresh.drop();
    };
    return { db, url: fresh.url, done };
  }
  const dir = await mkdtemp(join(tmpdir(), 'warden-drill-test-'));
  const db = await openDatabase({ dataDir: dir });
  return {
    db,
    async done() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

for (const engine of enginesUnderTest()) {
  describe(`dr drill [${engine}]`, () => {
    let db: Database;
    let url: string | undefined;
    let done: () => Promise<void>;
    let ledger: Ledger;

    beforeAll(async () => {
      ({ db, url, done } = await openWhole(engine));
      const made = await createTestLedger(db);
      ledger = made.ledger;
      for (const id of ['acme', 'globex']) {
        await createTenant({ knex: db.knex, ledger }, { id, tier: 'enterprise' }, 'test');
      }
      for (let i = 0; i < 20; i++)
        await ledger.append('acme', { kind: 'trigger.received', data: { i } });
      for (let i = 0; i < 5; i++)
        await ledger.append('globex', { kind: 'trigger.received', data: { i } });
      const anchoring = createAnchoring({
        knex: db.knex,
        signer: made.signer,
        origin: (t) => `warden.test/${t}`,
        enabled: async (t) => t === 'acme',
        logger,
      });
      await anchoring.anchor('acme');
      // After the checkpoint: the restored acme chain holds receipts newer than its log.
      await ledger.append('acme', { kind: 'trigger.received', data: { late: true } });
    }, 120_000);

    afterAll(async () => {
      await done?.();
    });

    it('restores the backup, verifies every chain and reports RPO/RTO', async () => {
      let digest = '';
      const report = await runDrill(
        { db, ledger, logger },
        {
          databaseUrl: url,
          onBackup: async (file) => {
            digest = `sha256:${createHash('sha256')
              .update(await readFile(file))
              .digest('hex')}`;
          },
        },
      );
      expect(report.failure).toBeNull();
      expect(report.ok).toBe(true);
      expect(report.tenants.map((t) => [t.tenant, t.sourceReceipts, t.restoredReceipts])).toEqual([
        ['acme', 22, 22],
        ['globex', 6, 6],
      ]);
      for (const t of report.tenants) {
        expect(t.checks.filter((c) => !c.ok)).toEqual([]);
      }
      const acme = report.tenants.find((t) => t.tenant === 'acme');
      expect(acme?.checks.find((c) => c.name === 'checkpoint')?.detail).toMatch(
        /signed checkpoint of warden.test\/acme, size 21/,
      );
      expect(acme?.checks.find((c) => c.name === 'inclusion')?.detail).toMatch(
        /21 receipt\(s\) proven included.*1 newer/,
      );
      expect(report.backup.sha256).toBe(digest);
      expect(report.backup.bytes).toBeGreaterThan(0);
      expect(report.rtoSeconds).toBeGreaterThan(0);
      expect(report.rtoSeconds).toBeCloseTo(report.restoreSeconds + report.verifySeconds, 2);
      expect(report.rpoSeconds).not.toBeNull();
      expect(report.rpoSeconds).toBeGreaterThanOrEqual(0);
      expect(report.rpoSeconds).toBeLessThan(120);
      console.info(
        `[${engine}] backup ${report.backup.bytes} B in ${report.backup.seconds} s; RPO ${report.rpoSeconds} s; RTO ${report.rtoSeconds} s (restore ${report.restoreSeconds} + verify ${report.verifySeconds})`,
      );

      // One dr.drill receipt per tenant, in its live chain, which still verifies.
      expect(report.receipts.map((r) => [r.payload.tenant, r.payload.kind])).toEqual([
        ['acme', 'dr.drill'],
        ['globex', 'dr.drill'],
      ]);
      expect(report.receipts[0]?.payload).toMatchObject({
        seq: 23,
        ok: true,
        engine,
        backupSha256: digest,
        rpoSeconds: report.rpoSeconds,
        rtoSeconds: report.rtoSeconds,
        receiptsInBackup: 22,
        receiptsRestored: 22,
        failedChecks: [],
        failure: null,
      });
      const live = await exportBundle(db.knex, 'acme');
      expect(live.receipts.at(-1)?.payload.kind).toBe('dr.drill');
      expect(verifyBundle(live).ok).toBe(true);
    }, 120_000);

    it('reports a truncated backup as a failed drill, with the reason, and records it', async () => {
      const report = await runDrill(
        { db, ledger, logger },
        { databaseUrl: url, onBackup: (file) => truncate(file, 4096) },
      );
      expect(report.ok).toBe(false);
      expect(report.failure).toMatch(/^The backup does not restore: /);
      expect(report.tenants).toEqual([]);
      expect(report.rpoSeconds).toBeNull();
      expect(report.receipts.map((r) => r.payload.kind)).toEqual(['dr.drill', 'dr.drill']);
      expect(report.receipts[1]?.payload).toMatchObject({
        tenant: 'globex',
        ok: false,
        failure: report.failure,
        receiptsInBackup: 7,
        receiptsRestored: null,
      });
      console.info(`[${engine}] truncated backup: ${report.failure}`);
    }, 120_000);

    it('fails a copy that holds other receipts than the source did at backup time', async () => {
      const verdict = await verifyRestoredChain(db.knex, {
        tenant: 'globex',
        receipts: 99,
        headDigest: 'sha256:00',
      });
      expect(verdict.ok).toBe(false);
      expect(verdict.checks.filter((c) => !c.ok).map((c) => c.detail)).toEqual([
        '8 receipt(s) restored, the source held 99 at backup time',
        expect.stringMatching(
          /^chain head sha256:[0-9a-f]{64} differs from the source's sha256:00$/,
        ),
      ]);
    });

    if (engine === 'postgres') {
      it('leaves no scratch database behind', async () => {
        const { rows } = await db.knex.raw(
          "select datname from pg_database where datname like 'warden\\_drill\\_%'",
        );
        expect(rows).toEqual([]);
      });
    }
  });
}
