/** Aggregate-slo: the report's SLO section — alerts fired and resolved, time to mitigate, incidents. */

import { compareMttm } from '../observability/mttm.js';
import { type ReportScope, round2, select, toCount, toInstant } from './aggregate-scope.js';
import type { TrustReportInput } from './report-model.js';

type Slo = TrustReportInput['slo'];

/** Playbooks listed in the time-to-mitigate table; incidents listed. */
const maxPlaybooks = 50;
const maxIncidents = 10;

/** Alerts fired / resolved: alert triggers received in the week with status `firing` / `resolved`. */
async function alertCounts(scope: ReportScope) {
  const [row] = await select<{ fired: unknown; resolved: unknown }>(
    scope,
    `select count(*) filter (where status = 'firing') as fired,
            count(*) filter (where status = 'resolved') as resolved
       from triggers
      where tenant_id = ? and kind = 'alert'
        and received_at >= ?::timestamptz and received_at < ?::timestamptz`,
    [scope.tenant, scope.from, scope.to],
  );
  return { alertsFired: toCount(row?.fired), alertsResolved: toCount(row?.resolved) };
}

/**
 * MTTM per playbook: over the succeeded runs created in the week that a firing alert started, the
 * minutes from the alert's `startsAt` (its receipt time when it has none) to the run's finish;
 * mean and median (`percentile_cont(0.5)`). `baselineMinutes` comes from the tenant's MTTM baseline
 * (`warden baseline import|compute`): the mean of its incidents with the alertnames the playbook
 * mitigated this week (observability/mttm.ts); null without a baseline or such incidents.
 */
async function mttm(scope: ReportScope): Promise<Slo['mttm']> {
  const rows = await select<{ playbook: string; runs: unknown; mean: unknown; median: unknown }>(
    scope,
    `select r.playbook_name as playbook, count(*) as runs, avg(m.minutes)::float8 as mean,
            percentile_cont(0.5) within group (order by m.minutes) as median
       from runs r
       join triggers t on t.tenant_id = r.tenant_id and t.id = r.trigger_id
       cross join lateral (
         select greatest(0, extract(epoch from r.finished_at - coalesce(t.starts_at, t.received_at))
                / 60)::float8 as minutes) m
      where r.tenant_id = ? and r.created_at >= ?::timestamptz and r.created_at < ?::timestamptz
        and r.status = 'succeeded' and r.finished_at is not null
        and t.kind = 'alert' and t.status = 'firing'
      group by r.playbook_name
      order by runs desc, playbook
      limit ${maxPlaybooks}`,
    [scope.tenant, scope.from, scope.to],
  );
  const { now, baseline } = await compareMttm(scope.knex, {
    tenant: scope.tenant,
    from: new Date(scope.from),
    to: new Date(scope.to),
  });
  const baselineOf = new Map(now.byPlaybook.map((p) => [p.playbook, p.baselineMinutes]));
  return rows.map((r) => ({
    playbook: r.playbook,
    runs: toCount(r.runs),
    meanMinutes: round2(Number(r.mean)),
    medianMinutes: round2(Number(r.median)),
    baselineMinutes: baseline ? (baselineOf.get(r.playbook) ?? null) : null,
  }));
}

/**
 * Top incidents: firing alerts received in the week grouped by `labels.alertname`, most frequent
 * first; `firstAt` is the earliest `startsAt`, `mitigated` whether a run one of them started
 * succeeded (runs are created with their trigger, so a day either side of the week finds them all).
 */
async function topIncidents(scope: ReportScope): Promise<Slo['topIncidents']> {
  const rows = await select<{ alertname: string; n: unknown; first_at: Date; mitigated: boolean }>(
    scope,
    `select left(coalesce(nullif(t.labels->>'alertname', ''), '(no alertname)'), 200) as alertname,
            count(*) as n, min(coalesce(t.starts_at, t.received_at)) as first_at,
            bool_or(m.trigger_id is not null) as mitigated
       from triggers t
       left join (
         select distinct trigger_id from runs
          where tenant_id = ? and status = 'succeeded' and trigger_id is not null
            and created_at >= ?::timestamptz - interval '1 day'
            and created_at < ?::timestamptz + interval '1 day') m on m.trigger_id = t.id
      where t.tenant_id = ? and t.kind = 'alert' and t.status = 'firing'
        and t.received_at >= ?::timestamptz and t.received_at < ?::timestamptz
      group by 1
      order by n desc, alertname
      limit ${maxIncidents}`,
    [scope.tenant, scope.from, scope.to, scope.tenant, scope.from, scope.to],
  );
  return rows.map((r) => ({
    alertname: r.alertname,
    count: toCount(r.n),
    firstAt: toInstant(r.first_at),
    mitigated: r.mitigated,
  }));
}

export async function sloSection(scope: ReportScope): Promise<Slo> {
  const [counts, rows, incidents] = await Promise.all([
    alertCounts(scope),
    mttm(scope),
    topIncidents(scope),
  ]);
  return { ...counts, mttm: rows, topIncidents: incidents };
}
