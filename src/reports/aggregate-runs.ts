/** Aggregate-runs: what the week's runs achieved — coverage, time saved, runs per day. */
import { runOutcomeCounts } from '../storage/runs.js';
import { type ReportScope, round2, select, ticketStatuses, toCount } from './aggregate-scope.js';
import type { TrustReportInput } from './report-model.js';

const dayMs = 86_400_000;
const maxPlaybooks = 50;

/**
 * Runs a trigger of the week may have started: created with their trigger, so within a day of the
 * week; each flagged `ticketed` when any approval ticket was opened for it. Bindings: tenant,
 * from; the caller appends its `where` on `r`.
 */
const runsWithTickets = `
  select r.id, r.trigger_id, r.status, r.playbook_name, r.playbook_version_id,
         a.run_id is not null as ticketed
    from runs r
    left join (
      select distinct run_id from approvals
       where tenant_id = ? and status in ${ticketStatuses}
         and created_at >= ?::timestamptz - interval '1 day') a on a.run_id = r.id`;

/**
 * Coverage. Routine events: triggers received in the week that call for action — firing alerts,
 * events and cron ticks (resolved notifications are not events to act on), whether or not a
 * playbook matched them. Auto-resolved: those that started at least one run and whose runs all
 * succeeded without an approval ticket (no human acted). Goal 0.6.
 */
export async function coverageSection(scope: ReportScope): Promise<TrustReportInput['coverage']> {
  const [row] = await select<{ routine: unknown; auto: unknown }>(
    scope,
    `with events as (
       select id from triggers
        where tenant_id = ? and received_at >= ?::timestamptz and received_at < ?::timestamptz
          and (kind in ('event', 'cron') or (kind = 'alert' and status = 'firing'))
     ), outcomes as (
       select w.trigger_id, bool_and(w.status = 'succeeded' and not w.ticketed) as auto
         from (${runsWithTickets}
                where r.tenant_id = ? and r.trigger_id is not null
                  and r.created_at >= ?::timestamptz - interval '1 day'
                  and r.created_at < ?::timestamptz + interval '1 day') w
        group by w.trigger_id
     )
     select count(*) as routine, count(*) filter (where o.auto) as auto
       from events e left join outcomes o on o.trigger_id = e.id`,
    [
      ...[scope.tenant, scope.from, scope.to],
      ...[scope.tenant, scope.from],
      ...[scope.tenant, scope.from, scope.to],
    ],
  );
  const routineEvents = toCount(row?.routine);
  const autoResolved = toCount(row?.auto);
  return {
    routineEvents,
    autoResolved,
    share: routineEvents === 0 ? null : autoResolved / routineEvents,
    goal: 0.6,
  };
}

/**
 * Time saved per playbook: its auto-resolved runs created in the week (started by a trigger,
 * succeeded, no approval ticket) × the `spec.manualMinutes` of the version each ran; playbooks that
 * saved nothing are left out. The total counts every playbook, listed or not.
 */
export async function timeSavedSection(scope: ReportScope): Promise<TrustReportInput['timeSaved']> {
  const rows = await select<{ playbook: string; runs: unknown; minutes: unknown; total: unknown }>(
    scope,
    `select w.playbook_name as playbook, count(*) as runs,
            sum(coalesce((v.definition->'spec'->>'manualMinutes')::float8, 0)) as minutes,
            sum(sum(coalesce((v.definition->'spec'->>'manualMinutes')::float8, 0))) over () as total
       from (${runsWithTickets}
              where r.tenant_id = ? and r.created_at >= ?::timestamptz
                and r.created_at < ?::timestamptz) w
       join playbook_versions v on v.tenant_id = ? and v.id = w.playbook_version_id
      where w.status = 'succeeded' and w.trigger_id is not null and not w.ticketed
      group by w.playbook_name
     having sum(coalesce((v.definition->'spec'->>'manualMinutes')::float8, 0)) > 0
      order by minutes desc, playbook
      limit ${maxPlaybooks}`,
    [scope.tenant, scope.from, scope.tenant, scope.from, scope.to, scope.tenant],
  );
  return {
    minutes: round2(toCount(rows[0]?.total)),
    byPlaybook: rows.map((r) => ({
      playbook: r.playbook,
      runs: toCount(r.runs),
      minutes: round2(toCount(r.minutes)),
    })),
  };
}

/**
 * Runs per day: runs created on each of the week's 7 days (UTC) by status — succeeded, failed,
 * denied and awaiting approval (queued, running and cancelled runs are in no column).
 */
export async function runsByDaySection(scope: ReportScope): Promise<TrustReportInput['runsByDay']> {
  const rows = await select<{
    day: string;
    succeeded: unknown;
    failed: unknown;
    denied: unknown;
    awaiting: unknown;
  }>(
    scope,
    `select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
            ${runOutcomeCounts}
       from runs
      where tenant_id = ? and created_at >= ?::timestamptz and created_at < ?::timestamptz
      group by 1`,
    [scope.tenant, scope.from, scope.to],
  );
  const byDay = new Map(rows.map((r) => [r.day, r]));
  return Array.from({ length: 7 }, (_, i) => {
    const day = new Date(Date.parse(scope.from) + i * dayMs).toISOString().slice(0, 10);
    const r = byDay.get(day);
    return {
      day,
      succeeded: toCount(r?.succeeded),
      failed: toCount(r?.failed),
      denied: toCount(r?.denied),
      awaiting: toCount(r?.awaiting),
    };
  });
}
