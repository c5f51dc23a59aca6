/**
 * Internal-alert storage: what the rules measure (runs started, denied steps, budget stops, failed
 * deliveries in their windows) and each rule's state per tenant. A tenant's states are read and
 * written under a transaction-scoped advisory lock, so replicas evaluating at once take turns and
 * each sees what the other wrote.
 */
import type { Knex } from 'knex';

export interface Measured {
  runs: number;
  denials: number;
  budgetDenials: number;
  deliveryFailures: number;
}

export interface MeasureWindows {
  runsMs: number;
  denialsMs: number;
  budgetMs: number;
  deliveriesMs: number;
}

/** `(end − ms, end]`; bindings: [at, ms]. */
const since = `?::timestamptz - ?::float8 * interval '1 millisecond'`;

/** The elements of a jsonb array expression as text rows (none when it is not an array). */
const elements = (expr: string) =>
  `jsonb_array_elements_text(case when jsonb_typeof(${expr}) = 'array' then ${expr} else '[]' end)`;

/**
 * The tenant's figures over the windows ending at `at`. Budget stops are `step.denied` receipts
 * naming a budget reason and `approval.requested` receipts for an overridable budget denial (the
 * same count as the Trust Report's); failed deliveries are `delivery.finished` receipts with
 * outcome `failed`.
 */
export async function measureTenant(
  knex: Knex,
  tenant: string,
  at: Date,
  w: MeasureWindows,
  budgetReasons: readonly string[],
): Promise<Measured> {
  const end = at.toISOString();
  const { rows } = await knex.raw(
    `select
       (select count(*) from runs r where r.tenant_id = ?
           and r.created_at > ${since} and r.created_at <= ?::timestamptz) as runs,
       (select count(*) from receipts x where x.tenant_id = ? and x.kind = 'step.denied'
           and x.at > ${since} and x.at <= ?::timestamptz) as denials,
       (select count(*) from (
           select x.kind, x.body::jsonb as b from receipts x
            where x.tenant_id = ? and x.kind in ('step.denied', 'approval.requested')
              and x.at > ${since} and x.at <= ?::timestamptz) d
         where exists (
           select 1 from ${elements(
             `case when d.kind = 'step.denied' then d.b->'reasons'
                   when d.b->'decision'->>'outcome' = 'deny' then d.b->'decision'->'reasons' end`,
           )} as e(reason)
            where e.reason = any(?::text[]))) as budget,
       (select count(*) from receipts x where x.tenant_id = ? and x.kind = 'delivery.finished'
           and x.at > ${since} and x.at <= ?::timestamptz
           and x.body::jsonb->>'outcome' = 'failed') as deliveries`,
    [
      ...[tenant, end, w.runsMs, end],
      ...[tenant, end, w.denialsMs, end],
      ...[tenant, end, w.budgetMs, end, [...budgetReasons]],
      ...[tenant, end, w.deliveriesMs, end],
    ],
  );
  const r = rows[0] ?? {};
  return {
    runs: Number(r.runs ?? 0),
    denials: Number(r.denials ?? 0),
    budgetDenials: Number(r.budget ?? 0),
    deliveryFailures: Number(r.deliveries ?? 0),
  };
}

export async function tenantIds(knex: Knex): Promise<string[]> {
  const rows: Array<{ id: string }> = await knex('tenants').orderBy('id').select('id');
  return rows.map((r) => r.id);
}

export interface AlertStateRow {
  rule: string;
  state: 'firing' | 'clear';
  since: Date;
  value: number;
  threshold: number;
  below_since: Date | null;
  receipt_id: string | null;
  last_evaluated: Date;
}

/** Takes the tenant's alert lock for the rest of the transaction, then reads its states. */
export async function lockAlertStates(
  trx: Knex.Transaction,
  tenant: string,
): Promise<Map<string, AlertStateRow>> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`warden:internal-alerts:${tenant}`]);
  const rows = await alertStates(trx, tenant);
  return new Map(rows.map((r) => [r.rule, r]));
}

/** The tenant's rule states, firing first, then by rule. */
export async function alertStates(knex: Knex, tenant: string): Promise<AlertStateRow[]> {
  const rows: AlertStateRow[] = await knex('internal_alerts')
    .where({ tenant_id: tenant })
    .orderByRaw(`state = 'firing' desc, rule`)
    .select(
      'rule',
      'state',
      'since',
      'value',
      'threshold',
      'below_since',
      'receipt_id',
      'last_evaluated',
    );
  return rows.map((r) => ({
    ...r,
    since: new Date(r.since),
    value: Number(r.value),
    threshold: Number(r.threshold),
    below_since: r.below_since === null ? null : new Date(r.below_since),
    last_evaluated: new Date(r.last_evaluated),
  }));
}

/** Writes the tenant's evaluated states in one statement. */
export async function saveAlertStates(
  trx: Knex.Transaction,
  tenant: string,
  rows: readonly AlertStateRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await trx.raw(
    `insert into internal_alerts
       (tenant_id, rule, state, since, value, threshold, below_since, receipt_id, last_evaluated)
     select ?, v.rule, v.state, v.since, v.value, v.threshold, v.below_since, v.receipt_id,
            v.last_evaluated
       from jsonb_to_recordset(?::jsonb) as v(rule text, state text, since timestamptz,
         value float8, threshold float8, below_since timestamptz, receipt_id text,
         last_evaluated timestamptz)
     on conflict (tenant_id, rule) do update set
       state = excluded.state, since = excluded.since, value = excluded.value,
       threshold = excluded.threshold, below_since = excluded.below_since,
       receipt_id = excluded.receipt_id, last_evaluated = excluded.last_evaluated`,
    [tenant, JSON.stringify(rows)],
  );
}
