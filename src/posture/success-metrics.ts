/**
 * Success metrics of an evaluation, read from the live system: this ISO week's Trust Report
 * aggregates (coverage, failure rate, bypasses) and MTTM over the last 30 days beside the baseline.
 */
import type { Knex } from 'knex';
import { compareMttm } from '../observability/mttm.js';
import type { AggregateDeps } from '../reports/aggregate.js';
import { aggregateTrustReport } from '../reports/aggregate.js';
import { formatMinutes, formatPercent } from '../reports/format.js';
import { isoWeekOf } from '../reports/iso-week.js';

export interface SuccessMetric {
  name: string;
  /** The current value as shown, e.g. `42 %`, or `no data yet`. */
  value: string;
  target: string;
  /** Null when there is no data to judge by yet. */
  met: boolean | null;
  /** How the value is computed. */
  source: string;
}

const dayMs = 86_400_000;
const failureTarget = 0.05;

export async function successMetrics(
  knex: Knex,
  tenant: string,
  deps: AggregateDeps & { now?: Date } = {},
): Promise<{ week: string; metrics: SuccessMetric[] }> {
  const now = deps.now ?? new Date();
  const week = isoWeekOf(now);
  const [report, mttm] = await Promise.all([
    aggregateTrustReport(knex, { tenant, week, now }, deps),
    compareMttm(knex, { tenant, from: new Date(now.getTime() - 30 * dayMs), to: now }),
  ]);
  const { share, goal } = { goal: 0.6, ...report.coverage };
  const runs = report.runsByDay.reduce(
    (sum, d) => ({ ok: sum.ok + d.succeeded, failed: sum.failed + d.failed }),
    { ok: 0, failed: 0 },
  );
  const finished = runs.ok + runs.failed;
  const failureRate = finished === 0 ? null : runs.failed / finished;
  const { adherence } = report.privileged;
  const failedChecks = report.isolation.checks.filter((c) => !c.passed).length;
  const bypasses = adherence.actions - adherence.dualControlled + failedChecks;
  const delta = mttm.delta?.meanMinutes ?? null;
  const noData = 'no data yet';
  return {
    week,
    metrics: [
      {
        name: 'Coverage',
        value: share == null ? noData : formatPercent(share),
        target: `≥ ${formatPercent(goal)} of routine events resolved without a human`,
        met: share == null ? null : share >= goal,
        source: `Trust Report ${week}: ${report.coverage.autoResolved} of ${report.coverage.routineEvents} routine events`,
      },
      {
        name: 'Failure rate',
        value: failureRate === null ? noData : formatPercent(failureRate),
        target: `≤ ${formatPercent(failureTarget)} of finished runs`,
        met: failureRate === null ? null : failureRate <= failureTarget,
        source: `Trust Report ${week}: ${runs.failed} failed of ${finished} finished runs`,
      },
      {
        name: 'MTTM delta',
        value: delta === null ? noData : `${delta > 0 ? '+' : ''}${formatMinutes(delta)}`,
        target: 'faster than the baseline (negative)',
        met: delta === null ? null : delta < 0,
        source: mttm.baseline
          ? `last 30 days: ${mttm.now.incidents} mitigated alert(s) against the ${mttm.baseline.source}ed baseline of ${mttm.baseline.incidents} incident(s)`
          : 'no MTTM baseline yet (warden baseline import | compute)',
      },
      {
        name: 'Bypasses',
        value: String(bypasses),
        target: '0',
        met: bypasses === 0,
        source: `Trust Report ${week}: privileged actions without dual control (${adherence.actions - adherence.dualControlled}) + failed isolation checks (${failedChecks})`,
      },
    ],
  };
}
