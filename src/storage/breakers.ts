/**
 * Breaker storage: the figures a playbook's breakers judge it by — its last settled runs, its run
 * outcomes and denied steps in a window, its last mitigation of an alert. Every query takes the
 * tenant and counts only runs created after the playbook was last enabled.
 *
 * `at` is the instant of the check: the caller's, or `null` for the database clock — the clock that
 * stamps `created_at` and `finished_at`. Windows `(at − window, at]` are computed in SQL from that one
 * instant, so a check never mixes clocks, nor loses the microseconds a JS Date would drop (a run
 * settled in the caller's transaction finishes at exactly its `now()` and is counted).
 */
import type { Knex } from 'knex';

/** Most run or step ids a query returns for the figures of a receipt (the newest). */
const maxIds = 20;

/** Runs that settled with an outcome; cancelled and unfinished runs say nothing about a playbook. */
const settled = `r.status in ('succeeded', 'failed', 'denied')`;

/** The run `r` was created after its playbook's last re-enable (if any). */
const sinceEnabled = `r.created_at > coalesce(
  (select p.enabled_at from playbooks p where p.tenant_id = r.tenant_id and p.name = r.playbook_name),
  '-infinity'::timestamptz)`;

/** A CTE `w(start_at, end_at)`; bindings: [at, windowMs]. */
const window = `with e as (select coalesce(?::timestamptz, now()) as end_at),
  w as (select end_at - ?::float8 * interval '1 millisecond' as start_at, end_at from e)`;

const iso = (at: Date | null) => at?.toISOString() ?? null;
const ids = (v: string[] | null) => v ?? [];

interface WindowBounds {
  start: Date;
  end: Date;
}

interface SettledRun {
  id: string;
  status: 'succeeded' | 'failed' | 'denied';
  finishedAt: Date;
}

/** The last `n` settled runs of `playbook` finished by `at`, newest first. */
export async function lastSettledRuns(
  knex: Knex,
  tenant: string,
  playbook: string,
  n: number,
  at: Date | null,
): Promise<SettledRun[]> {
  const { rows } = await knex.raw(
    `select r.id, r.status, r.finished_at from runs r
     where r.tenant_id = ? and r.playbook_name = ? and ${settled}
       and r.finished_at <= coalesce(?::timestamptz, now()) and ${sinceEnabled}
     order by r.finished_at desc, r.created_at desc, r.id desc
     limit ?`,
    [tenant, playbook, iso(at), n],
  );
  return (rows as Array<{ id: string; status: SettledRun['status']; finished_at: Date }>).map(
    (r) => ({ id: r.id, status: r.status, finishedAt: new Date(r.finished_at) }),
  );
}

interface RunOutcomes extends WindowBounds {
  total: number;
  failed: number;
  /** The newest failed runs, at most maxIds. */
  failedRuns: string[];
}

/** Settled runs of `playbook` finished in the window, and how many of them failed. */
export async function runOutcomes(
  knex: Knex,
  tenant: string,
  playbook: string,
  windowMs: number,
  at: Date | null,
): Promise<RunOutcomes> {
  const { rows } = await knex.raw(
    `${window}
     select w.start_at, w.end_at, count(r.id)::int as total,
       count(r.id) filter (where r.status = 'failed')::int as failed,
       (array_agg(r.id order by r.finished_at desc, r.id desc)
         filter (where r.status = 'failed'))[1:${maxIds}] as failed_runs
     from w left join runs r
       on r.tenant_id = ? and r.playbook_name = ? and ${settled}
       and r.finished_at > w.start_at and r.finished_at <= w.end_at and ${sinceEnabled}
     group by w.start_at, w.end_at`,
    [iso(at), windowMs, tenant, playbook],
  );
  const row = rows[0] as {
    start_at: Date;
    end_at: Date;
    total: number;
    failed: number;
    failed_runs: string[] | null;
  };
  return {
    start: new Date(row.start_at),
    end: new Date(row.end_at),
    total: Number(row.total),
    failed: Number(row.failed),
    failedRuns: ids(row.failed_runs),
  };
}

interface DeniedSteps extends WindowBounds {
  count: number;
  /** The newest denied steps as `<run>/<step>`, at most maxIds. */
  steps: string[];
}

/**
 * Steps of `playbook`'s runs denied (finished with status `denied`) in the window — except those a
 * kill switch stopped: an operator's switch is not the playbook misbehaving.
 */
export async function deniedSteps(
  knex: Knex,
  tenant: string,
  playbook: string,
  windowMs: number,
  at: Date | null,
): Promise<DeniedSteps> {
  const { rows } = await knex.raw(
    `${window}
     select w.start_at, w.end_at, count(s.run_id)::int as count,
       (array_agg(s.run_id || '/' || s.step_id
         order by s.finished_at desc, s.run_id desc, s.step_id))[1:${maxIds}] as steps
     from w left join (run_steps s join runs r on r.tenant_id = s.tenant_id and r.id = s.run_id)
       on s.tenant_id = ? and r.playbook_name = ? and s.status = 'denied'
       and not jsonb_exists_any(coalesce(s.decision->'reasons', '[]'::jsonb),
         array['kill_switch:global', 'kill_switch:tenant', 'kill_switch:playbook', 'kill_switch:plugin',
               'playbook_disabled'])
       and s.finished_at > w.start_at and s.finished_at <= w.end_at and ${sinceEnabled}
     group by w.start_at, w.end_at`,
    [iso(at), windowMs, tenant, playbook],
  );
  const row = rows[0] as { start_at: Date; end_at: Date; count: number; steps: string[] | null };
  return {
    start: new Date(row.start_at),
    end: new Date(row.end_at),
    count: Number(row.count),
    steps: ids(row.steps),
  };
}

interface Mitigation extends WindowBounds {
  run: string;
  trigger: string;
  finishedAt: Date;
}

/**
 * The newest `succeeded` run of `playbook` started by a trigger with `fingerprint` that finished in
 * the window, if any.
 */
export async function lastMitigation(
  knex: Knex,
  tenant: string,
  playbook: string,
  fingerprint: string,
  windowMs: number,
  at: Date | null,
): Promise<Mitigation | undefined> {
  const { rows } = await knex.raw(
    `${window}
     select r.id, r.trigger_id, r.finished_at, w.start_at, w.end_at
     from w
     join runs r
       on r.tenant_id = ? and r.playbook_name = ? and r.status = 'succeeded'
       and r.finished_at > w.start_at and r.finished_at <= w.end_at and ${sinceEnabled}
     join triggers t on t.tenant_id = r.tenant_id and t.id = r.trigger_id and t.fingerprint = ?
     order by r.finished_at desc, r.id desc
     limit 1`,
    [iso(at), windowMs, tenant, playbook, fingerprint],
  );
  const row = rows[0] as
    | { id: string; trigger_id: string; finished_at: Date; start_at: Date; end_at: Date }
    | undefined;
  if (!row) return undefined;
  return {
    run: row.id,
    trigger: row.trigger_id,
    finishedAt: new Date(row.finished_at),
    start: new Date(row.start_at),
    end: new Date(row.end_at),
  };
}
