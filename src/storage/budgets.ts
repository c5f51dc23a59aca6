/**
 * Budget storage: what allowed steps consumed. A row per allowed step (run, step): targets and cost
 * count against the run's blast radius and cost budgets, write and destructive steps against the
 * playbook's actions per hour. Checking and consuming happen under a transaction-scoped advisory
 * lock per (tenant, playbook), so parallel runs and several processes take turns.
 */
import type { Knex } from 'knex';

export interface BudgetUse {
  /** Actions of the playbook in the last hour (the sliding window), by the database clock. */
  actionsLastHour: number;
  /** Cost already spent by the run. */
  runCost: number;
  /** Distinct targets the run already touched. */
  runTargets: string[];
  /** This step already consumed its share (a resumed run deciding again). */
  consumed: boolean;
}

/** Serialises budget decisions of one playbook until the transaction ends. */
export async function lockBudget(trx: Knex.Transaction, tenant: string, playbook: string) {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [
    `warden:budget:${tenant}:${playbook}`,
  ]);
}

export async function budgetUse(
  knex: Knex,
  q: { tenant: string; playbook: string; runId: string; stepId: string },
): Promise<BudgetUse> {
  const { rows } = await knex.raw<{
    rows: Array<{
      actions: string | number;
      cost: string | number | null;
      targets: string[];
      consumed: boolean;
    }>;
  }>(
    `select
       (select count(*) from budget_usage
         where tenant_id = :tenant and playbook_name = :playbook and is_action
           and at > now() - interval '1 hour') as actions,
       (select coalesce(sum(cost), 0) from budget_usage
         where tenant_id = :tenant and run_id = :runId) as cost,
       (select coalesce(jsonb_agg(distinct t.value), '[]'::jsonb)
          from budget_usage u cross join lateral jsonb_array_elements_text(u.targets) as t(value)
         where u.tenant_id = :tenant and u.run_id = :runId) as targets,
       exists(select 1 from budget_usage
         where tenant_id = :tenant and run_id = :runId and step_id = :stepId) as consumed`,
    q,
  );
  const row = rows[0];
  return {
    actionsLastHour: Number(row?.actions ?? 0),
    runCost: Number(row?.cost ?? 0),
    runTargets: row?.targets ?? [],
    consumed: row?.consumed ?? false,
  };
}

export async function consumeBudget(
  trx: Knex,
  u: {
    tenant: string;
    playbook: string;
    runId: string;
    stepId: string;
    isAction: boolean;
    targets: readonly string[];
    cost: number;
  },
): Promise<void> {
  await trx.raw(
    `insert into budget_usage (tenant_id, run_id, step_id, playbook_name, is_action, targets, cost)
     values (?, ?, ?, ?, ?, ?::jsonb, ?)
     on conflict (run_id, step_id) do nothing`,
    [u.tenant, u.runId, u.stepId, u.playbook, u.isAction, JSON.stringify(u.targets), u.cost],
  );
}
