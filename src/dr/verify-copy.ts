/**
 * Verify-copy: checks a restored copy tenant by tenant — its evidence bundle verifies (chain,
 * signatures, checkpoint, inclusion proofs) and it holds exactly the receipts and chain head the live
 * database held when the backup was taken.
 */
import type { Knex } from 'knex';
import { exportBundle } from '../ledger/bundle.js';
import { type CheckResult, verifyBundle } from '../ledger/verify-bundle.js';
import type { SourceChain } from './backup-engine.js';

export interface TenantVerdict {
  tenant: string;
  /** Receipts of the tenant in the live database at backup time. */
  sourceReceipts: number;
  /** Receipts found in the restored copy; null when they could not be read. */
  restoredReceipts: number | null;
  ok: boolean;
  checks: CheckResult[];
  /** `at` of the tenant's newest restored receipt. */
  newestAt: string | null;
}

const check = (name: string, ok: boolean, detail: string): CheckResult => ({
  name,
  ok,
  detail,
  failures: ok ? 0 : 1,
});

/** Verifies one tenant's chain in the restored copy against what the source held. */
export async function verifyRestoredChain(knex: Knex, source: SourceChain): Promise<TenantVerdict> {
  const { tenant } = source;
  let bundle: Awaited<ReturnType<typeof exportBundle>>;
  try {
    bundle = await exportBundle(knex, tenant);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      tenant,
      sourceReceipts: source.receipts,
      restoredReceipts: null,
      ok: false,
      checks: [check('export', false, `the restored copy cannot be read: ${why}`)],
      newestAt: null,
    };
  }
  const restored = bundle.receipts.length;
  const head = bundle.receipts.at(-1)?.digest ?? null;
  const checks = [
    check(
      'receipts',
      restored === source.receipts,
      restored === source.receipts
        ? `${restored} receipt(s), as in the source at backup time`
        : `${restored} receipt(s) restored, the source held ${source.receipts} at backup time`,
    ),
    check(
      'head',
      head === source.headDigest,
      head === source.headDigest
        ? `chain head ${head ?? '(empty)'} matches the source`
        : `chain head ${head ?? '(empty)'} differs from the source's ${source.headDigest ?? '(empty)'}`,
    ),
    ...verifyBundle(bundle).checks,
  ];
  let newestAt: string | null = null;
  for (const r of bundle.receipts)
    if (newestAt === null || r.payload.at > newestAt) newestAt = r.payload.at;
  return {
    tenant,
    sourceReceipts: source.receipts,
    restoredReceipts: restored,
    ok: checks.every((c) => c.ok),
    checks,
    newestAt,
  };
}
