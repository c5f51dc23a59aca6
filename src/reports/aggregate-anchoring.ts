/**
 * Aggregate-anchoring: the tenant's transparency log over the week — checkpoints signed, the tree
 * size at the week's end, its last checkpoint and the RFC 9162 consistency proof from the previous
 * week's last checkpoint to it.
 */
import { hashesOf } from '../ledger/anchor.js';
import { consistencyProof } from '../ledger/merkle.js';
import { type ReportScope, select, toCount } from './aggregate-scope.js';
import type { TrustReportInput } from './report-model.js';

type Anchoring = TrustReportInput['anchoring'];

export interface AnchoringLag {
  /** Per anchored tenant: seconds its oldest receipt not yet in the log has waited. */
  lag(): Promise<Array<{ tenant: string; seconds: number }>>;
}

interface Checkpoint {
  size: number;
  note: string;
  createdAt: Date;
}

/**
 * The tenant's last checkpoint created before `at` (sizes grow with time: checkpoints are signed
 * under the tenant's log lock, so the largest size before `at` is the latest).
 */
async function lastBefore(scope: ReportScope, at: string): Promise<Checkpoint | undefined> {
  const [row] = await select<{ size: unknown; note: string; created_at: Date }>(
    scope,
    `select size, note, created_at from checkpoints
      where tenant_id = ? and created_at < ?::timestamptz
      order by size desc limit 1`,
    [scope.tenant, at],
  );
  return row && { size: toCount(row.size), note: row.note, createdAt: new Date(row.created_at) };
}

/** Checkpoints created in the week: those above the previous week's last size (the PK range). */
async function checkpointsIn(scope: ReportScope, above: number): Promise<number> {
  const [row] = await select<{ n: unknown }>(
    scope,
    `select count(*) as n from checkpoints
      where tenant_id = ? and size > ? and created_at >= ?::timestamptz and created_at < ?::timestamptz`,
    [scope.tenant, above, scope.from, scope.to],
  );
  return toCount(row?.n);
}

/**
 * Anchoring. Checkpoints: signed in the week. Tree size: of the last checkpoint before the week's
 * end (0 without one). Checkpoint: the week's last (null when none was signed in the week).
 * Consistency: RFC 9162 proof from the previous week's last checkpoint to the week's last, null when
 * either is missing. Lag: `deps.anchoring.lag()` for the tenant — the current lag, not the week's
 * worst, which nothing records — null without that dependency. Proofs served: 0, because nothing
 * records them: `GET /ledger/proof` answers from the log and keeps no count per tenant (the
 * process's metrics reset on restart and are not per week).
 */
export async function anchoringSection(
  scope: ReportScope,
  lagSource: AnchoringLag | undefined,
): Promise<Anchoring> {
  const [last, previous, lags] = await Promise.all([
    lastBefore(scope, scope.to),
    lastBefore(scope, scope.from),
    lagSource?.lag(),
  ]);
  const inWeek = last && last.createdAt >= new Date(scope.from) ? last : undefined;
  const checkpoints = inWeek ? await checkpointsIn(scope, previous?.size ?? 0) : 0;
  let consistency: Anchoring['consistency'] = null;
  if (inWeek && previous) {
    const hashes =
      previous.size === inWeek.size
        ? []
        : await consistencyProof(previous.size, inWeek.size, hashesOf(scope.knex, scope.tenant));
    consistency = {
      fromSize: previous.size,
      toSize: inWeek.size,
      previousCheckpoint: previous.note,
      hashes: hashes.map((h) => h.toString('base64')),
    };
  }
  const lag = lags?.find((l) => l.tenant === scope.tenant);
  return {
    checkpoints,
    treeSize: last?.size ?? 0,
    proofsServed: 0,
    lagSeconds: lag ? Math.max(0, lag.seconds) : null,
    checkpoint: inWeek?.note ?? null,
    consistency,
  };
}
