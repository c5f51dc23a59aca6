/**
 * Run changes: how runs and their steps change state. Claiming a step is a conditional update
 * (exactly once); a group commit's step updates and run statuses go in as few statements as their
 * shapes allow, one JSON parameter each — run in a transaction, or (`chainedRunChanges`) as parts
 * of the ledger's append statement that commit only with the receipts recording them. A finished
 * run's status is final.
 */
import type { Knex } from 'knex';
import type { ChainedChange } from './receipts.js';
import type { RunStatus, StepRow } from './runs.js';

/** Moves a step from `pending` to `running`; false if anyone else already did (or it is done). */
export async function claimStep(
  knex: Knex,
  tenant: string,
  runId: string,
  stepId: string,
): Promise<boolean> {
  return (await claimSteps(knex, tenant, [{ run: runId, step: stepId }])).size === 1;
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

/**
 * One UPDATE per set of updated columns, each for many steps (no step twice in one group). With
 * `claim`, each also moves its steps from `pending` to `running` (only those still pending) and
 * returns the claimed ones; with `chained`, each reads from the ledger's `chained` relation.
 */
function stepStatements(
  tenant: string,
  updates: readonly StepUpdate[],
  options: { claim?: boolean; chained?: boolean } = {},
): Statement[] {
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
    if (shape === '' && !options.claim) continue;
    const columns = shape === '' ? [] : shape.split(',');
    const sets = columns.map((c) =>
      c === 'finished' ? 'finished_at = now()' : `"${c}" = v."${c}"`,
    );
    if (options.claim) sets.push(`status = 'running'`, 'claimed_at = now()');
    const rows = group.map((u) => {
      const row: Record<string, unknown> = { run_id: u.run, step_id: u.step };
      for (const c of columns) if (c !== 'finished') row[c] = u.fields[c as StepColumn];
      return row;
    });
    statements.push({
      sql: `update run_steps as s set ${sets.join(', ')}
       from ${options.chained ? 'chained, ' : ''}jsonb_to_recordset(?::jsonb) as v(run_id text, step_id text, ${recordset})
       where s.tenant_id = ? and s.run_id = v.run_id and s.step_id = v.step_id${
         options.claim ? ` and s.status = 'pending' returning s.run_id, s.step_id` : ''
       }`,
      bindings: [JSON.stringify(rows), tenant],
    });
  }
  return statements;
}

const repeats = (keys: string[]) => new Set(keys).size < keys.length;
const stepKeys = (updates: ReadonlyArray<{ run: string; step: string }>) =>
  updates.map((u) => `${u.run}\u0000${u.step}`);

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
function runStatement(
  tenant: string,
  updates: readonly RunUpdate[],
  chained = false,
): Statement | undefined {
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
     from ${chained ? 'chained, ' : ''}jsonb_to_recordset(?::jsonb) as v(id text, status text, error text, finished boolean)
     where r.tenant_id = ? and r.id = v.id and r.finished_at is null`,
    bindings: [JSON.stringify(rows), tenant],
  };
}

/** A step to claim (pending → running), with the fields its claim sets (its plan, at simulation). */
export interface StepClaim {
  run: string;
  step: string;
  fields?: StepFields;
}

/**
 * Step updates, run statuses and step claims as parts of the ledger's append statement
 * (`ledger.appendWith`): they commit only with the receipts that record them. A claimed step's
 * other update goes into its claim (one row is changed once per statement), so a claim lost to
 * another worker changes nothing of that step. The claim statements return the claimed steps (see
 * `claimedOf`). Undefined when a step or run repeats: apply those in a transaction instead.
 */
export function chainedRunChanges(
  tenant: string,
  changes: {
    steps: readonly StepUpdate[];
    runs: readonly RunUpdate[];
    claims: readonly StepClaim[];
  },
): ChainedChange[] | undefined {
  const claimed = new Set(stepKeys(changes.claims));
  if (claimed.size < changes.claims.length) return undefined;
  if (repeats(stepKeys(changes.steps)) || repeats(changes.runs.map((u) => u.run))) return undefined;
  const fieldsOf = new Map(changes.steps.map((u) => [`${u.run}\u0000${u.step}`, u.fields]));
  const claims = changes.claims.map((c) => ({
    run: c.run,
    step: c.step,
    fields: { ...fieldsOf.get(`${c.run}\u0000${c.step}`), ...c.fields },
  }));
  if (claims.some((c) => c.fields.status !== undefined || c.fields.finished)) {
    throw new Error('a claim sets the status itself and cannot finish its step');
  }
  const rest = changes.steps.filter((u) => !claimed.has(`${u.run}\u0000${u.step}`));
  const run = runStatement(tenant, changes.runs, true);
  return [
    ...stepStatements(tenant, rest, { chained: true }),
    ...(run ? [run] : []),
    ...stepStatements(tenant, claims, { chained: true, claim: true }).map((st) => ({
      ...st,
      returns: true,
    })),
  ];
}

/** The steps the claim statements of `chainedRunChanges` claimed, as `run\u0000step`, from what they returned. */
export function claimedOf(
  returned: ReadonlyArray<ReadonlyArray<Record<string, unknown>>>,
): Set<string> {
  return new Set(returned.flat().map((r) => `${r.run_id}\u0000${r.step_id}`));
}
