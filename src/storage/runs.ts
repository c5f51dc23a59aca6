/** Run storage: runs and their steps; claiming a step is a conditional update (exactly once). */
import type { Knex } from 'knex';
import type { JsonValue } from '../ledger/receipt.js';

export type RunStatus =
  | 'queued'
  | 'running'
  | 'awaiting_approval'
  | 'succeeded'
  | 'failed'
  | 'denied'
  | 'cancelled';

export type StepStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'denied'
  | 'unknown'
  | 'rolled_back'
  | 'skipped';

export interface StepRow {
  step_id: string;
  position: number;
  uses: string;
  status: StepStatus;
  decision: JsonValue | null;
  plan: JsonValue | null;
  input_digest: string | null;
  output: JsonValue | null;
  output_digest: string | null;
  error: string | null;
  duration_ms: number | null;
  receipt_id: string | null;
}

export interface RunRow {
  id: string;
  tenant_id: string;
  playbook_version_id: string;
  playbook_name: string;
  trigger_id: string | null;
  status: RunStatus;
  context: Record<string, JsonValue>;
  /** `playbook:<name>` for triggered runs; null for runs made before this was recorded. */
  initiator: string | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** A new run, queued, with its steps pending. */
export interface NewRun {
  id: string;
  tenant: string;
  versionId: string;
  playbook: string;
  triggerId: string | null;
  context: Record<string, JsonValue>;
  steps: Array<{ id: string; uses: string }>;
  initiator: string;
}

export async function insertRun(trx: Knex, run: NewRun): Promise<void> {
  await insertRuns(trx, [run]);
}

/** Inserts runs and their steps in one statement, each set as one JSON parameter. */
export async function insertRuns(trx: Knex, runs: NewRun[]): Promise<void> {
  if (runs.length === 0) return;
  const runRows = runs.map((run) => ({
    id: run.id,
    tenant_id: run.tenant,
    playbook_version_id: run.versionId,
    playbook_name: run.playbook,
    trigger_id: run.triggerId,
    context: run.context,
    initiator: run.initiator,
  }));
  const stepRows = runs.flatMap((run) =>
    run.steps.map((s, position) => ({
      run_id: run.id,
      tenant_id: run.tenant,
      step_id: s.id,
      position,
      uses: s.uses,
    })),
  );
  await trx.raw(
    `with run as (
       insert into runs (id, tenant_id, playbook_version_id, playbook_name, trigger_id, status,
         context, initiator)
       select r.id, r.tenant_id, r.playbook_version_id, r.playbook_name, r.trigger_id, 'queued',
         r.context, r.initiator
       from jsonb_to_recordset(?::jsonb) as r(id text, tenant_id text, playbook_version_id text,
         playbook_name text, trigger_id text, context jsonb, initiator text)
     )
     insert into run_steps (run_id, tenant_id, step_id, position, uses, status)
     select s.run_id, s.tenant_id, s.step_id, s.position, s.uses, 'pending'
     from jsonb_to_recordset(?::jsonb) as s(run_id text, tenant_id text, step_id text,
       position int, uses text)`,
    [JSON.stringify(runRows), JSON.stringify(stepRows)],
  );
}

export async function getRunRow(
  knex: Knex,
  tenant: string,
  id: string,
): Promise<RunRow | undefined> {
  return knex('runs').where({ tenant_id: tenant, id }).first();
}

/** A run and its steps, in one query (the engine reads both each time it advances a run). */
export async function getRunWithSteps(
  knex: Knex,
  tenant: string,
  id: string,
): Promise<{ run: RunRow; steps: StepRow[] } | undefined> {
  const step = stepRowColumns.map((c) => `'${c}', s.${c}`).join(', ');
  const { rows } = await knex.raw<{ rows: Array<RunRow & { steps: StepRow[] }> }>(
    `select r.*, coalesce((
       select json_agg(json_build_object(${step}) order by s.position)
       from run_steps s where s.tenant_id = r.tenant_id and s.run_id = r.id
     ), '[]'::json) as steps
     from runs r where r.tenant_id = ? and r.id = ?`,
    [tenant, id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { steps, ...run } = row;
  return { run, steps };
}

/** The columns of a StepRow (what the engine reads of a step). */
const stepRowColumns = [
  'step_id',
  'position',
  'uses',
  'status',
  'decision',
  'plan',
  'input_digest',
  'output',
  'output_digest',
  'error',
  'duration_ms',
  'receipt_id',
] as const satisfies ReadonlyArray<keyof StepRow>;

export async function getSteps(knex: Knex, tenant: string, runId: string): Promise<StepRow[]> {
  return knex('run_steps').where({ tenant_id: tenant, run_id: runId }).orderBy('position');
}

/** Moves a step from `pending` to `running`; false if anyone else already did (or it is done). */
export async function claimStep(knex: Knex, tenant: string, runId: string, stepId: string) {
  const n = await knex('run_steps')
    .where({ tenant_id: tenant, run_id: runId, step_id: stepId, status: 'pending' })
    .update({ status: 'running', claimed_at: knex.fn.now() });
  return n === 1;
}

/**
 * Claims steps (pending → running) in one statement; returns the claimed ones as `run\u0000step`
 * (a step no longer pending is not claimed).
 */
export async function claimSteps(
  knex: Knex,
  tenant: string,
  claims: ReadonlyArray<{ run: string; step: string }>,
): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const { rows } = await knex.raw<{ rows: Array<{ run_id: string; step_id: string }> }>(
    `update run_steps as s set status = 'running', claimed_at = now()
     from jsonb_to_recordset(?::jsonb) as c(run_id text, step_id text)
     where s.tenant_id = ? and s.run_id = c.run_id and s.step_id = c.step_id
       and s.status = 'pending'
     returning s.run_id, s.step_id`,
    [JSON.stringify(claims.map((c) => ({ run_id: c.run, step_id: c.step }))), tenant],
  );
  return new Set(rows.map((r) => `${r.run_id}\u0000${r.step_id}`));
}

export type StepFields = Partial<Omit<StepRow, 'step_id' | 'position' | 'uses' | 'receipt_id'>> & {
  finished?: boolean;
};

export async function updateStep(
  knex: Knex,
  tenant: string,
  runId: string,
  stepId: string,
  fields: StepFields,
): Promise<void> {
  await updateSteps(knex, tenant, [{ run: runId, step: stepId, fields }]);
}

export interface StepUpdate {
  run: string;
  step: string;
  fields: StepFields;
}

/** The SQL type of each settable step column, for `jsonb_to_recordset`. */
const stepColumns = {
  status: 'text',
  decision: 'jsonb',
  plan: 'jsonb',
  input_digest: 'text',
  output: 'jsonb',
  output_digest: 'text',
  error: 'text',
  duration_ms: 'integer',
} as const satisfies Record<Exclude<keyof StepFields, 'finished'>, string>;
type StepColumn = keyof typeof stepColumns;
const recordset = Object.entries(stepColumns)
  .map(([name, type]) => `"${name}" ${type}`)
  .join(', ');

interface Statement {
  sql: string;
  bindings: Knex.RawBinding[];
}

/** One UPDATE per set of updated columns, each for many steps (no step twice in one group). */
function stepStatements(tenant: string, updates: readonly StepUpdate[]): Statement[] {
  const byShape = new Map<string, StepUpdate[]>();
  for (const u of updates) {
    const shape = Object.keys(u.fields)
      .filter((k) =>
        k === 'finished' ? u.fields.finished : u.fields[k as StepColumn] !== undefined,
      )
      .sort()
      .join(',');
    byShape.set(shape, [...(byShape.get(shape) ?? []), u]);
  }
  const statements: Statement[] = [];
  for (const [shape, group] of byShape) {
    if (shape === '') continue;
    const columns = shape.split(',');
    const sets = columns.map((c) =>
      c === 'finished' ? 'finished_at = now()' : `"${c}" = v."${c}"`,
    );
    const rows = group.map((u) => {
      const row: Record<string, unknown> = { run_id: u.run, step_id: u.step };
      for (const c of columns) if (c !== 'finished') row[c] = u.fields[c as StepColumn];
      return row;
    });
    statements.push({
      sql: `update run_steps as s set ${sets.join(', ')}
       from jsonb_to_recordset(?::jsonb) as v(run_id text, step_id text, ${recordset})
       where s.tenant_id = ? and s.run_id = v.run_id and s.step_id = v.step_id`,
      bindings: [JSON.stringify(rows), tenant],
    });
  }
  return statements;
}

const repeats = (keys: string[]) => new Set(keys).size < keys.length;
const stepKeys = (updates: readonly StepUpdate[]) => updates.map((u) => `${u.run}\u0000${u.step}`);

/**
 * Applies many step updates in one statement per set of updated columns (a batch of a group
 * commit is mostly one or two such sets), instead of one round trip per step.
 */
export async function updateSteps(
  knex: Knex,
  tenant: string,
  updates: readonly StepUpdate[],
): Promise<void> {
  if (repeats(stepKeys(updates))) {
    // One row updated twice in one statement is undefined in SQL: apply these one by one.
    for (const u of updates) await updateSteps(knex, tenant, [u]);
    return;
  }
  for (const { sql, bindings } of stepStatements(tenant, updates)) await knex.raw(sql, bindings);
}

/**
 * Step updates and run statuses in one statement, each UPDATE a part of it (they touch different
 * rows); when a step or a run repeats, in one statement per update instead.
 */
export async function updateRunsAndSteps(
  knex: Knex,
  tenant: string,
  steps: readonly StepUpdate[],
  runs: readonly RunUpdate[],
): Promise<void> {
  if (repeats(stepKeys(steps)) || repeats(runs.map((u) => u.run))) {
    await updateSteps(knex, tenant, steps);
    await setRunStatuses(knex, tenant, runs);
    return;
  }
  const statements = [...stepStatements(tenant, steps)];
  const run = runStatement(tenant, runs);
  if (run) statements.push(run);
  if (statements.length === 0) return;
  if (statements.length === 1) {
    const [only] = statements as [Statement];
    await knex.raw(only.sql, only.bindings);
    return;
  }
  await knex.raw(
    `with ${statements.map((st, i) => `u${i} as (${st.sql})`).join(', ')} select 1`,
    statements.flatMap((st) => st.bindings),
  );
}

export interface RunUpdate {
  run: string;
  status: RunStatus;
  error: string | null;
}

const finishedStatuses: readonly RunStatus[] = ['succeeded', 'failed', 'denied', 'cancelled'];

export async function setRunStatus(
  knex: Knex,
  tenant: string,
  id: string,
  status: RunStatus,
  error: string | null = null,
): Promise<void> {
  await setRunStatuses(knex, tenant, [{ run: id, status, error }]);
}

/**
 * Sets run statuses in one statement. A finished run's status is final: a late writer (a second
 * worker's simulation of a run another already finished) changes nothing.
 */
export async function setRunStatuses(
  knex: Knex,
  tenant: string,
  updates: readonly RunUpdate[],
): Promise<void> {
  if (repeats(updates.map((u) => u.run))) {
    for (const u of updates) await setRunStatuses(knex, tenant, [u]);
    return;
  }
  const statement = runStatement(tenant, updates);
  if (statement) await knex.raw(statement.sql, statement.bindings);
}

/** The UPDATE of many runs' statuses (no run twice); a finished status stamps `finished_at`. */
function runStatement(tenant: string, updates: readonly RunUpdate[]): Statement | undefined {
  if (updates.length === 0) return undefined;
  const rows = updates.map((u) => ({
    id: u.run,
    status: u.status,
    error: u.error,
    finished: finishedStatuses.includes(u.status),
  }));
  return {
    sql: `update runs as r set status = v.status, error = v.error, updated_at = now(),
       finished_at = case when v.finished then now() else r.finished_at end
     from jsonb_to_recordset(?::jsonb) as v(id text, status text, error text, finished boolean)
     where r.tenant_id = ? and r.id = v.id and r.finished_at is null`,
    bindings: [JSON.stringify(rows), tenant],
  };
}

/** A run waiting for approval goes back to work; false if it was not waiting. */
export async function wakeRun(trx: Knex, tenant: string, id: string): Promise<boolean> {
  const n = await trx('runs')
    .where({ tenant_id: tenant, id, status: 'awaiting_approval' })
    .update({ status: 'running', updated_at: trx.fn.now() });
  return n === 1;
}

/**
 * Runs left unfinished (by a crash or a restart), oldest first, across tenants — for resuming.
 * With `idleMs`, only those whose status has not changed for that long; with `limit`, at most that
 * many.
 */
export async function unfinishedRuns(
  knex: Knex,
  opts: { idleMs?: number; limit?: number } = {},
): Promise<Array<{ tenant: string; id: string }>> {
  const query = knex('runs')
    .whereIn('status', ['queued', 'running'])
    .orderBy('created_at')
    .select('tenant_id', 'id');
  if (opts.idleMs !== undefined) {
    query.where(
      'updated_at',
      '<',
      knex.raw(`now() - (? * interval '1 millisecond')`, [opts.idleMs]),
    );
  }
  if (opts.limit !== undefined) query.limit(opts.limit);
  const rows: Array<{ tenant_id: string; id: string }> = await query;
  return rows.map((r) => ({ tenant: r.tenant_id, id: r.id }));
}

/** How many runs wait or run, across tenants (the queue depth metric). */
export async function countUnfinishedRuns(knex: Knex): Promise<number> {
  const row = await knex('runs')
    .whereIn('status', ['queued', 'running'])
    .first<{ n: string | number }>(knex.raw('count(*) as n'));
  return Number(row?.n ?? 0);
}

export interface RunQuery {
  status?: string | undefined;
  playbook?: string | undefined;
  before?: { createdAt: string; id: string } | undefined;
  limit: number;
}

export async function listRunRows(knex: Knex, tenant: string, q: RunQuery): Promise<RunRow[]> {
  const query = knex('runs')
    .where({ tenant_id: tenant })
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(q.limit);
  if (q.status) query.andWhere({ status: q.status });
  if (q.playbook) query.andWhere({ playbook_name: q.playbook });
  if (q.before) {
    query.andWhereRaw('(created_at, id) < (?::timestamptz, ?)', [q.before.createdAt, q.before.id]);
  }
  return query.select('*');
}
