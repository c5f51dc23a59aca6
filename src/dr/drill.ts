/**
 * Drill: the DR drill. Backs the live database up, restores the backup into a scratch database,
 * verifies every tenant's chain on the restored copy, measures RPO (age of the newest receipt in the
 * backup when it finished) and RTO (restore + verify), and records a `dr.drill` receipt in each
 * tenant's chain with the figures and the backup's SHA-256.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Receipt } from '../ledger/receipt.js';
import type { Database, Engine } from '../storage/database.js';
import type { BackupEngine, SourceChain } from './backup-engine.js';
import { createPgBackup } from './pg-backup.js';
import { createPgliteBackup } from './pglite-backup.js';
import { type TenantVerdict, verifyRestoredChain } from './verify-copy.js';

export interface DrillDeps {
  db: Database;
  ledger: Ledger;
  logger: Logger;
}

export interface DrillOptions {
  /** The live database's URL; required on PostgreSQL (pg_dump and pg_restore connect with it). */
  databaseUrl?: string | undefined;
  /** Where the backup and the restored copy are made, then removed. @defaultValue os.tmpdir() */
  workDir?: string | undefined;
  /** Called with the backup file once written, before it is restored (copy it off-site, inspect it). */
  onBackup?: (file: string) => Promise<void> | void;
}

export interface DrillReport {
  /** The restore succeeded and every check of every tenant passed. */
  ok: boolean;
  engine: Engine;
  backup: { bytes: number; sha256: string; seconds: number; finishedAt: string };
  /** Seconds between the newest receipt in the backup and the end of the backup; null if none. */
  rpoSeconds: number | null;
  restoreSeconds: number;
  verifySeconds: number;
  /** restore + verify, in seconds. */
  rtoSeconds: number;
  tenants: TenantVerdict[];
  /** Why the backup could not be restored or opened, when it could not. */
  failure: string | null;
  /** The `dr.drill` receipts appended, one per tenant. */
  receipts: Receipt[];
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * Runs one drill end to end. Throws only when no backup could be taken; a backup that does not
 * restore or verify is a failed drill (`ok: false`, with `failure` or the failing checks), recorded.
 * @example
 * const report = await runDrill({ db, ledger, logger }, { databaseUrl: config.databaseUrl });
 * if (!report.ok) process.exitCode = 1;
 */
export async function runDrill(deps: DrillDeps, opts: DrillOptions = {}): Promise<DrillReport> {
  const { db, logger } = deps;
  const engine = backupEngineFor(db, opts.databaseUrl);
  const dir = await mkdtemp(join(opts.workDir ?? tmpdir(), 'warden-drill-'));
  try {
    const file = join(dir, db.engine === 'postgres' ? 'backup.dump' : 'backup.tar.gz');
    const started = performance.now();
    const { chains } = await engine.backup(file);
    const finishedAt = new Date();
    const backup = {
      ...(await digestOf(file)),
      seconds: seconds(performance.now() - started),
      finishedAt: finishedAt.toISOString(),
    };
    logger.info({ file, ...backup, tenants: chains.length }, 'dr drill: backup taken');
    await opts.onBackup?.(file);
    const restored = await restoreAndVerify(engine, file, dir, chains, logger);
    const newest = restored.tenants
      .map((t) => t.newestAt)
      .reduce<string | null>((a, b) => (b !== null && (a === null || b > a) ? b : a), null);
    const figures = {
      engine: db.engine,
      backup,
      rpoSeconds:
        newest === null ? null : seconds(Math.max(0, finishedAt.getTime() - Date.parse(newest))),
      restoreSeconds: seconds(restored.restoreMs),
      verifySeconds: seconds(restored.verifyMs),
      rtoSeconds: seconds(restored.restoreMs + restored.verifyMs),
      tenants: restored.tenants,
      failure: restored.failure,
      ok: restored.failure === null && restored.tenants.every((t) => t.ok),
    };
    const receipts = await recordDrill(deps.ledger, chains, figures);
    return { ...figures, receipts };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function backupEngineFor(db: Database, databaseUrl: string | undefined): BackupEngine {
  if (db.engine === 'pglite') return createPgliteBackup(db);
  if (!databaseUrl) {
    throw new WardenError('config_invalid', 'A DR drill on PostgreSQL needs the DATABASE_URL.');
  }
  return createPgBackup(db, databaseUrl);
}

async function digestOf(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { bytes: (await stat(file)).size, sha256: `sha256:${hash.digest('hex')}` };
}

/** Restores and verifies, timing both; a restore that fails is reported, not thrown. */
async function restoreAndVerify(
  engine: BackupEngine,
  file: string,
  dir: string,
  chains: SourceChain[],
  logger: Logger,
): Promise<{
  restoreMs: number;
  verifyMs: number;
  tenants: TenantVerdict[];
  failure: string | null;
}> {
  const started = performance.now();
  let copy: Awaited<ReturnType<BackupEngine['restore']>>;
  try {
    copy = await engine.restore(file, dir);
  } catch (err) {
    logger.warn({ err }, 'dr drill: the backup does not restore');
    const why = err instanceof Error ? err.message : String(err);
    return {
      restoreMs: performance.now() - started,
      verifyMs: 0,
      tenants: [],
      failure: `The backup does not restore: ${why}`,
    };
  }
  const restoreMs = performance.now() - started;
  try {
    const tenants: TenantVerdict[] = [];
    for (const chain of chains) tenants.push(await verifyRestoredChain(copy.db.knex, chain));
    return { restoreMs, verifyMs: performance.now() - started - restoreMs, tenants, failure: null };
  } finally {
    await copy.discard().catch((err: unknown) => {
      logger.warn({ err, copy: copy.where }, 'dr drill: could not remove the restored copy');
    });
  }
}

/** Appends the drill's `dr.drill` receipt to every tenant's chain. */
async function recordDrill(
  ledger: Ledger,
  chains: SourceChain[],
  f: Omit<DrillReport, 'receipts'>,
): Promise<Receipt[]> {
  const receipts: Receipt[] = [];
  for (const chain of chains) {
    const verdict = f.tenants.find((t) => t.tenant === chain.tenant);
    receipts.push(
      await ledger.append(chain.tenant, {
        kind: 'dr.drill',
        data: {
          ok: f.ok,
          engine: f.engine,
          backupSha256: f.backup.sha256,
          backupBytes: f.backup.bytes,
          backupSeconds: f.backup.seconds,
          backupFinishedAt: f.backup.finishedAt,
          rpoSeconds: f.rpoSeconds,
          rtoSeconds: f.rtoSeconds,
          restoreSeconds: f.restoreSeconds,
          verifySeconds: f.verifySeconds,
          receiptsInBackup: chain.receipts,
          receiptsRestored: verdict?.restoredReceipts ?? null,
          failedChecks: (verdict?.checks ?? []).filter((c) => !c.ok).map((c) => c.name),
          failure: f.failure,
        },
      }),
    );
  }
  return receipts;
}
