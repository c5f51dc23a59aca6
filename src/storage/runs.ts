/**
 * Run storage: runs and their steps — their rows, inserting and reading them. How they change
 * (claims, batched step and status updates) is in run-changes.ts.
 */
import type { Knex } from 'knex';
import type { JsonValue } from '../ledger/receipt.js';
import type { ChainedChange } from './receipts.js';

export type RunStatus =
  | 'queued'
  | 'running'
  | 'awaiting_approval'
  | 'succeeded'
  | 'failed'
  | 'denied'
  | 'cancelled';

/**
 * SQL select columns counting `runs` rows by outcome: succeeded, failed, denied and awaiting
 * (approval). The dashboard's series and the Trust Report's runs by day count alike.
 */
export const runOutcomeCounts = `count(*) filter (where status = 'succeeded') as succeeded,
            count(*) filter (where status = 'failed') as failed,
            count(*) filter (where status = 'denied') as denied,
            count(*) filter (where status = 'awaiting_approval') as awaiting`;

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
  const [run, steps] = runInserts(runs, false);
  await trx.raw(`with run as (${run.sql}) ${steps.sql}`, [...run.bindings, ...steps.bindings]);
}

/** Inserts runs and their steps as parts of the ledger's append statement (with their receipts). */
export function insertRunsChanges(runs: NewRun[]): ChainedChange[] {
  return runs.length === 0 ? [] : runInserts(runs, true);
}

/** The INSERTs of runs (queued) and of their steps (pending); with `chained`, reading `chained`. */
function runInserts(runs: NewRun[], chained: boolean): [ChainedChange, ChainedChange] {
  // Chained, a row's tenant is the one whose receipts record it.
  const from = chained ? 'chained, ' : '';
  const tenantOf = (alias: string) => (chained ? 'chained.tenant_id' : `${alias}.tenant_id`);
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
  return [
    {
      sql: `insert into runs (id, tenant_id, playbook_version_id, playbook_name, trigger_id, status,
         context, initiator)
       select r.id, ${tenantOf('r')}, r.playbook_version_id, r.playbook_name, r.trigger_id, 'queued',
         r.context, r.initiator
       from ${from}jsonb_to_recordset(?::jsonb) as r(id text, tenant_id text, playbook_version_id text,
         playbook_name text, trigger_id text, context jsonb, initiator text)`,
      bindings: [JSON.stringify(runRows)],
    },
    {
      sql: `insert into run_steps (run_id, tenant_id, step_id, position, uses, status)
       select s.run_id, ${tenantOf('s')}, s.step_id, s.position, s.uses, 'pending'
       from ${from}jsonb_to_recordset(?::jsonb) as s(run_id text, tenant_id text, step_id text,
         position int, uses text)`,
      bindings: [JSON.stringify(stepRows)],
    },
  ];
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
