/**
 * Dashboard queries: the aggregates behind its tiles, charts and tables. Every statement is scoped
 * by `tenant_id` (the operator's tenant list excepted), aggregates in SQL and returns bounded rows:
 * totals, one row per bucket of the window, top-N lists.
 */
import type { Knex } from 'knex';
import { budgetReasons } from '../../guardrails/chain.js';
import { runOutcomeCounts } from '../../storage/runs.js';
import type { TimeWindow } from './time-window.js';

type Range = Pick<TimeWindow, 'from' | 'to'>;
type Buckets = Pick<TimeWindow, 'from' | 'to' | 'bucketSeconds'>;

async function rows<T>(knex: Knex, sql: string, bindings: readonly Knex.RawBinding[]) {
  const result = await knex.raw<{ rows: T[] }>(sql, bindings as Knex.RawBinding[]);
  return result.rows;
}

const count = (value: unknown): number => Number(value ?? 0);

/** The reasons a budget gives (chain.ts), plus the allowed-environments budget. */
const budgetReasonList = [...budgetReasons, 'environment_not_allowed'];

/** The bucket of a timestamp column: whole `bucketSeconds` since the window's start. */
const bucketOf = (column: string) =>
  `floor(extract(epoch from ${column} - ?::timestamptz) / ?)::int`;

interface RunCounts {
  runs: number;
  succeeded: number;
  failed: number;
  denied: number;
  awaiting: number;
  /** Succeeded, failed, denied or cancelled. */
  finished: number;
  /** Started by a trigger, succeeded, no approval ticket: nobody had to act. */
  autoResolved: number;
  /** Runs for which a person was asked to approve a step. */
  withApproval: number;
}

/** Runs created in the window, by outcome. */
export async function runCounts(knex: Knex, tenant: string, w: Range): Promise<RunCounts> {
  const [row] = await rows<Record<keyof RunCounts, unknown>>(
    knex,
    `select count(*) as runs,
            count(*) filter (where r.status = 'succeeded') as succeeded,
            count(*) filter (where r.status = 'failed') as failed,
            count(*) filter (where r.status = 'denied') as denied,
            count(*) filter (where r.status = 'awaiting_approval') as awaiting,
            count(*) filter (where r.status in ('succeeded', 'failed', 'denied', 'cancelled'))
              as finished,
            count(*) filter (where r.status = 'succeeded' and r.trigger_id is not null
                               and a.run_id is null) as "autoResolved",
            count(*) filter (where a.run_id is not null) as "withApproval"
       from runs r
       left join (
         select distinct run_id from approvals
          where tenant_id = ? and created_at >= ?::timestamptz) a on a.run_id = r.id
      where r.tenant_id = ? and r.created_at >= ?::timestamptz and r.created_at < ?::timestamptz`,
    [tenant, w.from, tenant, w.from, w.to],
  );
  const out = {} as RunCounts;
  for (const key of Object.keys(row ?? {}) as Array<keyof RunCounts>) out[key] = count(row?.[key]);
  return out;
}

/** Pending approval tickets of the tenant (any age: they wait for someone now). */
export async function pendingApprovals(knex: Knex, tenant: string): Promise<number> {
  const row = await knex('approvals')
    .where({ tenant_id: tenant, status: 'pending' })
    .count({ n: '*' })
    .first();
  return count(row?.n);
}

interface OutcomeBucket {
  bucket: number;
  succeeded: number;
  failed: number;
  denied: number;
  awaiting: number;
}

/** Runs created per bucket by outcome (queued, running and cancelled runs are in no series). */
export async function runsOverTime(knex: Knex, tenant: string, w: Buckets) {
  const found = await rows<Record<keyof OutcomeBucket, unknown>>(
    knex,
    `select ${bucketOf('created_at')} as bucket,
            ${runOutcomeCounts}
       from runs
      where tenant_id = ? and created_at >= ?::timestamptz and created_at < ?::timestamptz
      group by 1`,
    [w.from, w.bucketSeconds, tenant, w.from, w.to],
  );
  return found.map((r) => ({
    bucket: count(r.bucket),
    succeeded: count(r.succeeded),
    failed: count(r.failed),
    denied: count(r.denied),
    awaiting: count(r.awaiting),
  }));
}

/**
 * Why runs of the window did not succeed: each reason a denied step gives (a budget, a policy, a
 * rejected or expired approval), or `step_failed:<plugin.step>` for a step that failed. A run counts
 * once per reason; the most frequent `limit` reasons.
 */
export async function failureReasons(knex: Knex, tenant: string, w: Range, limit = 8) {
  const found = await rows<{ reason: string; runs: unknown }>(
    knex,
    `select left(f.reason, 120) as reason, count(distinct f.run_id) as runs
       from (
         select s.run_id,
                case when s.status = 'failed' then 'step_failed:' || s.uses
                     else coalesce(x.reason, 'denied') end as reason
           from run_steps s
           join runs r on r.tenant_id = s.tenant_id and r.id = s.run_id
           left join lateral jsonb_array_elements_text(
             case when s.status = 'denied' and jsonb_typeof(s.decision->'reasons') = 'array'
                  then s.decision->'reasons' else '[]'::jsonb end) as x(reason) on true
          where s.tenant_id = ? and s.status in ('failed', 'denied')
            and r.created_at >= ?::timestamptz and r.created_at < ?::timestamptz) f
      group by 1
      order by runs desc, reason
      limit ${Math.trunc(limit)}`,
    [tenant, w.from, w.to],
  );
  return found.map((r) => ({ reason: r.reason, runs: count(r.runs) }));
}

/**
 * Budget enforcement per bucket: actions counted against a budget (`budget_usage`, write and
 * destructive steps that ran) and decisions a budget stopped — `step.denied` receipts naming a budget
 * reason, and tickets opened for an overridable budget denial.
 */
export async function budgetOverTime(knex: Knex, tenant: string, w: Buckets) {
  const names = (column: string) =>
    `exists (select 1 from jsonb_array_elements_text(${column}) as n(v) where n.v = any(?::text[]))`;
  const found = await rows<{ bucket: unknown; actions: unknown; denied: unknown }>(
    knex,
    `with events as (
       select at as t, 1 as actions, 0 as denied from budget_usage
        where tenant_id = ? and is_action and at >= ?::timestamptz and at < ?::timestamptz
       union all
       select at, 0, 1 from (
         select at, body::jsonb->'reasons' as reasons from receipts
          where tenant_id = ? and kind = 'step.denied'
            and at >= ?::timestamptz and at < ?::timestamptz) d
        where jsonb_typeof(d.reasons) = 'array' and ${names('d.reasons')}
       union all
       select created_at, 0, 1 from approvals
        where tenant_id = ? and outcome = 'deny'
          and created_at >= ?::timestamptz and created_at < ?::timestamptz
          and ${names('reasons')}
     )
     select ${bucketOf('t')} as bucket, sum(actions) as actions, sum(denied) as denied
       from events group by 1`,
    [
      ...[tenant, w.from, w.to],
      ...[tenant, w.from, w.to, budgetReasonList],
      ...[tenant, w.from, w.to, budgetReasonList],
      ...[w.from, w.bucketSeconds],
    ],
  );
  return found.map((r) => ({
    bucket: count(r.bucket),
    actions: count(r.actions),
    denied: count(r.denied),
  }));
}

/** Playbooks a breaker disabled in the window (`playbook.disabled` receipts by `breaker`), newest first. */
export async function autoDisables(knex: Knex, tenant: string, w: Range, limit = 20) {
  const found = await rows<{ id: string; at: Date | string; playbook: string; reason: string }>(
    knex,
    `select id, at, left(b->>'playbook', 200) as playbook, left(b->>'reason', 300) as reason
       from (select id, at, seq, body::jsonb as b from receipts
              where tenant_id = ? and kind = 'playbook.disabled'
                and at >= ?::timestamptz and at < ?::timestamptz) d
      where b->>'actor' = 'breaker'
      order by seq desc
      limit ${Math.trunc(limit)}`,
    [tenant, w.from, w.to],
  );
  return found.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
}

/** A run's receipts in order with their canonical bytes (the Merkle leaves), at most `limit`. */
export async function runReceipts(knex: Knex, tenant: string, runId: string, limit = 200) {
  const found: Array<{ seq: string | number; id: string; kind: string; at: Date; body: string }> =
    await knex('receipts')
      .where({ tenant_id: tenant, run_id: runId })
      .orderBy('seq')
      .limit(limit)
      .select('seq', 'id', 'kind', 'at', 'body');
  return found.map((r) => ({ ...r, seq: Number(r.seq), at: new Date(r.at).toISOString() }));
}

/** The live token with this id in this tenant, if it still is. */
export async function liveToken(knex: Knex, tenant: string, id: string) {
  const row: { scope: string; loopback_only: boolean } | undefined = await knex('api_tokens')
    .where({ tenant_id: tenant, id })
    .whereNull('revoked_at')
    .first('scope', 'loopback_only');
  return row && { scope: row.scope, loopbackOnly: row.loopback_only };
}

/** Whether the operator's global kill switch is engaged, and who moved it last. */
export async function globalKillSwitch(knex: Knex) {
  const row: { engaged: boolean; actor: string; reason: string | null; updated_at: Date } =
    await knex('kill_switches')
      .where({ id: 'global:' })
      .first('engaged', 'actor', 'reason', 'updated_at');
  return row
    ? {
        engaged: row.engaged,
        actor: row.actor,
        reason: row.reason,
        updatedAt: new Date(row.updated_at).toISOString(),
      }
    : { engaged: false, actor: null, reason: null, updatedAt: null };
}

/** Every tenant (first `limit` by id) with its headline figures for the window. */
export async function tenantHeadlines(knex: Knex, w: Range, limit = 200) {
  const found = await rows<Record<string, unknown> & { id: string; name: string; tier: string }>(
    knex,
    `select t.id, t.name, t.tier, r.runs, r.succeeded, r.failed, r.finished, a.pending,
            p.disabled, k.engaged as stopped
       from tenants t
       left join (
         select tenant_id, count(*) as runs,
                count(*) filter (where status = 'succeeded') as succeeded,
                count(*) filter (where status = 'failed') as failed,
                count(*) filter (where status in ('succeeded', 'failed', 'denied', 'cancelled'))
                  as finished
           from runs where created_at >= ?::timestamptz and created_at < ?::timestamptz
          group by tenant_id) r on r.tenant_id = t.id
       left join (select tenant_id, count(*) as pending from approvals
                   where status = 'pending' group by tenant_id) a on a.tenant_id = t.id
       left join (select tenant_id, count(*) as disabled from playbooks
                   where disabled group by tenant_id) p on p.tenant_id = t.id
       left join kill_switches k on k.scope = 'tenant' and k.tenant_id = t.id and k.engaged
      order by t.id
      limit ${Math.trunc(limit)}`,
    [w.from, w.to],
  );
  return found.map((r) => ({
    id: r.id,
    name: r.name,
    tier: r.tier,
    runs: count(r.runs),
    succeeded: count(r.succeeded),
    failed: count(r.failed),
    finished: count(r.finished),
    pending: count(r.pending),
    disabledPlaybooks: count(r.disabled),
    stopped: r.stopped === true,
  }));
}
