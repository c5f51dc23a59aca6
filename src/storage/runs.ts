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
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export async function insertRun(
  trx: Knex,
  run: {
    id: string;
    tenant: string;
    versionId: string;
    playbook: string;
    triggerId: string | null;
    context: Record<string, JsonValue>;
    steps: Array<{ id: string; uses: string }>;
  },
): Promise<void> {
  await trx('runs').insert({
    id: run.id,
    tenant_id: run.tenant,
    playbook_version_id: run.versionId,
    playbook_name: run.playbook,
    trigger_id: run.triggerId,
    status: 'queued',
    context: JSON.stringify(run.context),
  });
  await trx('run_steps').insert(
    run.steps.map((s, position) => ({
      run_id: run.id,
      tenant_id: run.tenant,
      step_id: s.id,
      position,
      uses: s.uses,
      status: 'pending',
    })),
  );
}

export async function getRunRow(
  knex: Knex,
  tenant: string,
  id: string,
): Promise<RunRow | undefined> {
  return knex('runs').where({ tenant_id: tenant, id }).first();
}

export async function getSteps(knex: Knex, tenant: string, runId: string): Promise<StepRow[]> {
  return knex('run_steps').where({ tenant_id: tenant, run_id: runId }).orderBy('position');
}

export async function setRunStatus(
  knex: Knex,
  tenant: string,
  id: string,
  status: RunStatus,
  error: string | null = null,
): Promise<void> {
  const finished = ['succeeded', 'failed', 'denied', 'cancelled'].includes(status);
  await knex('runs')
    .where({ tenant_id: tenant, id })
    .update({
      status,
      error,
      updated_at: knex.fn.now(),
      ...(finished ? { finished_at: knex.fn.now() } : {}),
    });
}

/** Moves a step from `pending` to `running`; false if anyone else already did (or it is done). */
export async function claimStep(knex: Knex, tenant: string, runId: string, stepId: string) {
  const n = await knex('run_steps')
    .where({ tenant_id: tenant, run_id: runId, step_id: stepId, status: 'pending' })
    .update({ status: 'running', claimed_at: knex.fn.now() });
  return n === 1;
}

export async function updateStep(
  knex: Knex,
  tenant: string,
  runId: string,
  stepId: string,
  fields: Partial<Omit<StepRow, 'step_id' | 'position' | 'uses'>> & { finished?: boolean },
): Promise<void> {
  const { finished, decision, plan, output, ...rest } = fields;
  await knex('run_steps')
    .where({ tenant_id: tenant, run_id: runId, step_id: stepId })
    .update({
      ...rest,
      ...(decision !== undefined ? { decision: JSON.stringify(decision) } : {}),
      ...(plan !== undefined ? { plan: JSON.stringify(plan) } : {}),
      ...(output !== undefined ? { output: JSON.stringify(output) } : {}),
      ...(finished ? { finished_at: knex.fn.now() } : {}),
    });
}

/** Runs left unfinished (by a crash or a restart), oldest first, across tenants — for resuming. */
export async function unfinishedRuns(knex: Knex): Promise<Array<{ tenant: string; id: string }>> {
  const rows: Array<{ tenant_id: string; id: string }> = await knex('runs')
    .whereIn('status', ['queued', 'running'])
    .orderBy('created_at')
    .select('tenant_id', 'id');
  return rows.map((r) => ({ tenant: r.tenant_id, id: r.id }));
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
