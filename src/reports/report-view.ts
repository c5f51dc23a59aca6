/**
 * The template's model: a validated TrustReport plus what the summary page derives from it (headline
 * tiles, findings in words) and the charts as SVG. Everything a reader sees is computed here, not in
 * template logic.
 */
import { coverageChart, mttmChart, runsByDayChart } from './charts.js';
import { formatDate, formatMinutes, formatNumber, formatPercent, formatSeconds } from './format.js';
import type { TrustReport } from './report-model.js';

export type TileStatus = 'good' | 'warn' | 'bad' | 'neutral';

export interface SummaryTile {
  label: string;
  value: string;
  detail: string;
  status: TileStatus;
}

export interface TrustReportView extends TrustReport {
  /** `16–22 November 2026`. */
  weekRange: string;
  tiles: SummaryTile[];
  /** `slo.mttm` with the mean's change against the baseline (−0.89: 89 % faster); null without one. */
  mttmRows: (TrustReport['slo']['mttm'][number] & { change: number | null })[];
  findings: { status: TileStatus; text: string }[];
  charts: { runsByDay: string; coverage: string | null; mttm: string | null };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const plural = (n: number, one: string, many = `${one}s`) =>
  `${formatNumber(n)} ${n === 1 ? one : many}`;

type MttmRow = TrustReport['slo']['mttm'][number];

function weightedMinutes(rows: MttmRow[], pick: 'meanMinutes' | 'baselineMinutes') {
  const runs = sum(rows.map((row) => row.runs));
  return runs === 0 ? null : sum(rows.map((row) => (row[pick] ?? 0) * row.runs)) / runs;
}

/** Runs-weighted mean and baseline, over the playbooks that declare a baseline when any do. */
function meanVsBaseline(rows: MttmRow[]) {
  const compared = rows.filter((row) => row.baselineMinutes !== null);
  if (compared.length === 0) return { mean: weightedMinutes(rows, 'meanMinutes'), baseline: null };
  return {
    mean: weightedMinutes(compared, 'meanMinutes'),
    baseline: weightedMinutes(compared, 'baselineMinutes'),
  };
}

function weekRange({ start, end }: TrustReport['week']): string {
  const [from, to] = [formatDate(start), formatDate(end)];
  const [fromDay, fromMonth, fromYear] = from.split(' ');
  if (fromYear === to.split(' ')[2]) {
    return fromMonth === to.split(' ')[1] ? `${fromDay}–${to}` : `${fromDay} ${fromMonth} – ${to}`;
  }
  return `${from} – ${to}`;
}

function tiles(r: TrustReport): SummaryTile[] {
  const { coverage, privileged, slo } = r;
  const failed = r.isolation.checks.filter((check) => !check.passed).length;
  const { mean, baseline } = meanVsBaseline(slo.mttm);
  const { adherence } = privileged;
  return [
    {
      label: 'Autonomous coverage',
      value: formatPercent(coverage.share),
      detail: `${formatNumber(coverage.autoResolved)} of ${plural(coverage.routineEvents, 'routine event')} · goal ${formatPercent(coverage.goal)}`,
      status:
        coverage.share === null ? 'neutral' : coverage.share >= coverage.goal ? 'good' : 'warn',
    },
    {
      label: 'Alerts resolved',
      value: `${formatNumber(slo.alertsResolved)} / ${formatNumber(slo.alertsFired)}`,
      detail: `${formatNumber(Math.max(0, slo.alertsFired - slo.alertsResolved))} not resolved within the week`,
      status: 'neutral',
    },
    {
      label: 'Mean time to mitigate',
      value: formatMinutes(mean),
      detail:
        baseline === null ? 'no baseline declared' : `${formatMinutes(baseline)} before automation`,
      status: mean !== null && baseline !== null && mean < baseline ? 'good' : 'neutral',
    },
    {
      label: 'Dual-control adherence',
      value: adherence.actions === 0 ? 'n/a' : formatPercent(adherence.share),
      detail: `${formatNumber(adherence.dualControlled)} of ${plural(adherence.actions, 'privileged action')}`,
      status:
        adherence.actions === 0
          ? 'neutral'
          : adherence.dualControlled === adherence.actions
            ? 'good'
            : 'bad',
    },
    {
      label: 'Engineer time saved',
      value: formatMinutes(r.timeSaved.minutes),
      detail: `over ${plural(sum(r.timeSaved.byPlaybook.map((p) => p.runs)), 'automated run')}`,
      status: 'neutral',
    },
    {
      label: 'Isolation checks',
      value: `${r.isolation.checks.length - failed} / ${r.isolation.checks.length} passed`,
      detail: failed === 0 ? 'no cross-tenant access' : `${plural(failed, 'check')} failed`,
      status: failed === 0 ? 'good' : 'bad',
    },
    {
      label: 'Guardrail interventions',
      value: plural(r.guardrails.budgetDenials, 'denial'),
      detail: `${plural(r.guardrails.autoDisables.length, 'playbook')} auto-disabled`,
      status: r.guardrails.autoDisables.length > 0 ? 'warn' : 'neutral',
    },
    {
      label: 'Transparency log',
      value: `${formatNumber(r.anchoring.treeSize)} entries`,
      detail: `${plural(r.anchoring.checkpoints, 'checkpoint')} · lag ${formatSeconds(r.anchoring.lagSeconds)}`,
      status: r.anchoring.consistency ? 'good' : 'neutral',
    },
  ];
}

function findings(r: TrustReport): TrustReportView['findings'] {
  const out: TrustReportView['findings'] = [];
  const { coverage, privileged, anchoring } = r;
  if (coverage.share !== null) {
    const above = coverage.share >= coverage.goal;
    out.push({
      status: above ? 'good' : 'warn',
      text: `Playbooks resolved ${formatPercent(coverage.share)} of routine events without a human acting, ${above ? 'meeting' : 'below'} the ${formatPercent(coverage.goal)} goal.`,
    });
  }
  const { actions, dualControlled } = privileged.adherence;
  if (actions > 0) {
    out.push(
      dualControlled === actions
        ? {
            status: 'good',
            text: `All ${plural(actions, 'privileged action')} ran under dual control (two distinct approvers).`,
          }
        : {
            status: 'bad',
            text: `${formatNumber(actions - dualControlled)} of ${plural(actions, 'privileged action')} lacked dual control.`,
          },
    );
  }
  const failed = r.isolation.checks.filter((check) => !check.passed);
  out.push(
    failed.length === 0
      ? {
          status: 'good',
          text: `All ${plural(r.isolation.checks.length, 'cross-tenant isolation check')} passed.`,
        }
      : {
          status: 'bad',
          text: `Isolation checks failed: ${failed.map((check) => check.name).join(', ')}.`,
        },
  );
  for (const off of r.guardrails.autoDisables) {
    out.push({
      status: 'warn',
      text: `Playbook ${off.playbook} was disabled automatically by a breaker. Reason: ${off.reason}.`,
    });
  }
  if (anchoring.consistency) {
    out.push({
      status: 'good',
      text: `The transparency log grew consistently from ${formatNumber(anchoring.consistency.fromSize)} to ${formatNumber(anchoring.consistency.toSize)} entries; the proof is in the appendix.`,
    });
  }
  out.push({
    status: 'neutral',
    text: `Signing key ${r.keys.keyId} made ${plural(r.keys.signatures, 'signature')}; ${r.keys.rotations === 0 ? 'no rotations' : plural(r.keys.rotations, 'rotation')} this week.`,
  });
  return out;
}

/** Builds the template model from a validated report. */
export function createReportView(report: TrustReport): TrustReportView {
  return {
    ...report,
    weekRange: weekRange(report.week),
    tiles: tiles(report),
    mttmRows: report.slo.mttm.map((row) => ({
      ...row,
      change: row.baselineMinutes ? row.meanMinutes / row.baselineMinutes - 1 : null,
    })),
    findings: findings(report),
    charts: {
      runsByDay: runsByDayChart(report.runsByDay),
      coverage: coverageChart(report.coverage),
      mttm: mttmChart(report.slo.mttm),
    },
  };
}
