/**
 * Overview: a tenant's dashboard for one window — tiles, charts and tables — as a view model of
 * ready-to-print strings. Coverage and time saved come from the Trust Report's own aggregates
 * (aggregate-runs.ts), so the dashboard and the weekly report never disagree on a definition.
 */
import type { Knex } from 'knex';
import { coverageSection, timeSavedSection } from '../../reports/aggregate-runs.js';
import {
  formatDateTime,
  formatMinutes,
  formatNumber,
  formatPercent,
} from '../../reports/format.js';
import { listApprovals } from '../../storage/approvals.js';
import { listRunRows } from '../../storage/runs.js';
import { listInternalAlerts } from '../internal-alerts.js';
import { compareMttm, type MttmComparison } from '../mttm.js';
import { budgetChart, reasonsChart, runsChart } from './charts.js';
import { bucketLabel, reasonLabel, statusLabel } from './labels.js';
import {
  autoDisables,
  budgetOverTime,
  failureReasons,
  pendingApprovals,
  runCounts,
  runsOverTime,
} from './queries.js';
import type { TimeWindow } from './time-window.js';

/** Rows listed in each table. */
const listed = 20;

export interface Tile {
  key: string;
  label: string;
  value: string;
  detail: string;
}

export interface Figure {
  key: string;
  title: string;
  /** Inline SVG, or null when there is nothing to draw (`empty` says so). */
  svg: string | null;
  empty: string;
  table: { head: string[]; rows: string[][] };
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${formatNumber(n)} ${n === 1 ? one : many}`;

/** Spreads sparse bucket rows over every bucket of the window. */
function series<T extends { bucket: number }, K extends Exclude<keyof T, 'bucket'>>(
  w: TimeWindow,
  found: readonly T[],
  keys: readonly K[],
): Record<K, number[]> {
  const out = Object.fromEntries(keys.map((k) => [k, w.starts.map(() => 0)])) as Record<
    K,
    number[]
  >;
  for (const row of found) {
    if (row.bucket < 0 || row.bucket >= w.buckets) continue;
    for (const k of keys) out[k][row.bucket] = Number(row[k]);
  }
  return out;
}

/** `baseline: 1 h 30 min (77.3 min faster, −85.9 %)`, or `baseline: no baseline`. */
function baselineText({ baseline, delta }: MttmComparison): string {
  if (!baseline) return 'baseline: no baseline';
  const base = `baseline: ${formatMinutes(baseline.meanMinutes)}`;
  if (!delta || delta.meanMinutes === null) return base;
  const pace = delta.meanMinutes <= 0 ? 'faster' : 'slower';
  const pct =
    delta.meanPercent === null
      ? ''
      : `, ${delta.meanPercent > 0 ? '+' : '−'}${formatPercent(Math.abs(delta.meanPercent) / 100)}`;
  return `${base} (${formatMinutes(Math.abs(delta.meanMinutes))} ${pace}${pct})`;
}

async function tiles(knex: Knex, tenant: string, w: TimeWindow): Promise<Tile[]> {
  const scope = { knex, tenant, from: w.from, to: w.to, audience: 'customer' as const };
  const [runs, pending, mttm, coverage, saved] = await Promise.all([
    runCounts(knex, tenant, w),
    pendingApprovals(knex, tenant),
    compareMttm(knex, { tenant, from: w.from, to: w.to }),
    coverageSection(scope),
    timeSavedSection(scope),
  ]);
  const failureRate = runs.finished === 0 ? null : runs.failed / runs.finished;
  return [
    {
      key: 'runs',
      label: 'Runs',
      value: formatNumber(runs.runs),
      detail: `${formatNumber(runs.succeeded)} succeeded · ${formatNumber(runs.failed)} failed · ${formatNumber(runs.denied)} denied · ${formatNumber(runs.awaiting)} awaiting approval`,
    },
    {
      key: 'coverage',
      label: 'Auto-resolve coverage',
      value: formatPercent(coverage.share),
      detail:
        coverage.routineEvents === 0
          ? 'No alerts, events or schedules in this window'
          : `${formatNumber(coverage.autoResolved)} of ${plural(coverage.routineEvents, 'routine event')} resolved with nobody acting (goal ${formatPercent(coverage.goal)})`,
    },
    {
      key: 'failure-rate',
      label: 'Failure rate',
      value: formatPercent(failureRate),
      detail:
        runs.finished === 0
          ? 'No finished runs in this window'
          : `${formatNumber(runs.failed)} of ${plural(runs.finished, 'finished run')} failed`,
    },
    {
      key: 'approvals',
      label: 'Auto-resolved vs approvals',
      value: `${formatNumber(runs.autoResolved)} vs ${formatNumber(runs.withApproval)}`,
      detail: `${plural(runs.autoResolved, 'run')} resolved alone, ${formatNumber(runs.withApproval)} needed a person · ${formatNumber(pending)} pending now`,
    },
    {
      key: 'time-saved',
      label: 'Time saved',
      value: formatMinutes(saved.minutes),
      detail:
        saved.byPlaybook.length === 0
          ? 'manualMinutes × auto-resolved runs: none yet'
          : `manualMinutes × auto-resolved runs of ${plural(saved.byPlaybook.length, 'playbook')}`,
    },
    {
      key: 'mttm',
      label: 'Mean time to mitigate',
      value: formatMinutes(mttm.now.meanMinutes),
      detail: `${
        mttm.now.incidents === 0
          ? 'No alert mitigated in this window'
          : `Now, over ${plural(mttm.now.incidents, 'mitigated alert')} (median ${formatMinutes(mttm.now.medianMinutes)})`
      } · ${baselineText(mttm)}`,
    },
  ];
}

async function figures(knex: Knex, tenant: string, w: TimeWindow): Promise<Figure[]> {
  const [outcomes, reasons, budget] = await Promise.all([
    runsOverTime(knex, tenant, w),
    failureReasons(knex, tenant, w),
    budgetOverTime(knex, tenant, w),
  ]);
  const labels = w.starts.map((s) => bucketLabel(s, w.bucketSeconds));
  const by = series(w, outcomes, ['succeeded', 'failed', 'denied', 'awaiting'] as const);
  const spend = series(w, budget, ['actions', 'denied'] as const);
  const labelled = reasons.map((r) => ({ label: reasonLabel(r.reason), runs: r.runs }));
  const nonEmpty = (i: number, values: number[][]) => values.some((v) => (v[i] ?? 0) > 0);
  return [
    {
      key: 'runs-over-time',
      title: 'Runs over time by outcome',
      svg: outcomes.length === 0 ? null : runsChart({ labels, ...by }),
      empty: 'No runs in this window.',
      table: {
        head: ['Period', 'Succeeded', 'Failed', 'Denied', 'Awaiting approval'],
        rows: labels.flatMap((label, i) =>
          nonEmpty(i, [by.succeeded, by.failed, by.denied, by.awaiting])
            ? [[label, ...[by.succeeded, by.failed, by.denied, by.awaiting].map((v) => `${v[i]}`)]]
            : [],
        ),
      },
    },
    {
      key: 'failure-reasons',
      title: 'Why runs did not succeed',
      svg: labelled.length === 0 ? null : reasonsChart(labelled),
      empty: 'Every finished run succeeded.',
      table: { head: ['Reason', 'Runs'], rows: labelled.map((r) => [r.label, `${r.runs}`]) },
    },
    {
      key: 'budget',
      title: 'Budget enforcement over time',
      svg: budget.length === 0 ? null : budgetChart({ labels, ...spend }),
      empty: 'No action counted against a budget in this window.',
      table: {
        head: ['Period', 'Actions within budget', 'Denied by a budget'],
        rows: labels.flatMap((label, i) =>
          nonEmpty(i, [spend.actions, spend.denied])
            ? [[label, `${spend.actions[i]}`, `${spend.denied[i]}`]]
            : [],
        ),
      },
    },
  ];
}

async function tables(knex: Knex, tenant: string, w: TimeWindow) {
  const [tickets, runs, disables, internal] = await Promise.all([
    listApprovals(knex, tenant, { status: 'pending', limit: listed }),
    listRunRows(knex, tenant, { limit: listed }),
    autoDisables(knex, tenant, w, listed),
    listInternalAlerts(knex, tenant),
  ]);
  return {
    approvals: tickets.map((t) => ({
      id: t.id,
      runId: t.runId,
      playbook: t.playbook,
      step: t.stepId,
      reasons: t.reasons.map(reasonLabel).join(', ') || '—',
      progress: `${t.votes.filter((v) => v.decision === 'approve').length} of ${t.minApprovals}`,
      requested: formatDateTime(t.createdAt),
      expires: formatDateTime(t.expiresAt),
    })),
    runs: runs.map((r) => ({
      id: r.id,
      playbook: r.playbook_name,
      status: r.status,
      statusLabel: statusLabel(r.status),
      created: formatDateTime(new Date(r.created_at).toISOString()),
      finished: r.finished_at ? formatDateTime(new Date(r.finished_at).toISOString()) : '—',
    })),
    disables: disables.map((d) => ({ ...d, at: formatDateTime(d.at) })),
    alerts: internal.map((a) => ({
      title: a.title,
      firing: a.state === 'firing',
      state: a.state === 'firing' ? 'Firing' : 'Clear',
      since: formatDateTime(a.since),
      value: `${a.value} (threshold ${a.threshold})`,
      receiptId: a.receiptId ?? '—',
    })),
  };
}

/**
 * @example
 * const view = await overviewView(knex, 'acme', timeWindow('7d', new Date()));
 */
export async function overviewView(knex: Knex, tenant: string, w: TimeWindow) {
  // One group at a time: at most five statements hold pool connections at once, leaving the
  // rest of the pool to the runs.
  const t = await tiles(knex, tenant, w);
  const f = await figures(knex, tenant, w);
  return { tiles: t, figures: f, ...(await tables(knex, tenant, w)) };
}
