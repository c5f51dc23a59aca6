/**
 * Aggregate-guardrails: the week's budget denials by reason and the playbooks a breaker disabled.
 * Receipts are read by kind within the week's seq range, so the `(tenant_id, kind, seq)` index
 * bounds the read to the few receipts of that kind.
 */
import type { budgetReasons } from '../guardrails/chain.js';
import type { WeekReceipts } from './aggregate-receipts.js';
import { type ReportScope, select, ticketStatuses, toCount, toInstant } from './aggregate-scope.js';
import type { TrustReportInput } from './report-model.js';

type Guardrails = TrustReportInput['guardrails'];

/**
 * The budget reasons the guardrail chain gives (chain.ts), in words. `allowedEnvironments` is a
 * budget of the playbook (`spec.budgets`) too, though it is not overridable.
 */
const reasonLabels: Record<string, string> = {
  actions_per_hour_exceeded: 'Actions per hour exceeded',
  blast_radius_exceeded: 'Blast radius exceeded',
  cost_per_run_exceeded: 'Cost per run exceeded',
  environment_not_allowed: 'Environment not allowed',
} satisfies Record<(typeof budgetReasons)[number] | 'environment_not_allowed', string>;

const maxDisables = 50;

/**
 * Budget denials: guard decisions of the week that a budget stopped — `step.denied` receipts whose
 * `reasons` name a budget, plus approval tickets opened for an overridable budget denial (outcome
 * `deny`). One decision counts once in the total and once under each budget reason it names.
 */
async function budgetDenials(scope: ReportScope, week: WeekReceipts) {
  const rows = await select<{ reason: string | null; n: unknown; decisions: unknown }>(
    scope,
    `with decisions as (
       select 'r:' || id as k, jsonb_array_elements_text(
                case when jsonb_typeof(b->'reasons') = 'array' then b->'reasons' else '[]' end) as reason
         from (select id, body::jsonb as b from receipts
                where tenant_id = ? and kind = 'step.denied' and seq between ? and ?
                  and at >= ?::timestamptz and at < ?::timestamptz) d
       union all
       select 'a:' || id, jsonb_array_elements_text(reasons)
         from approvals
        where tenant_id = ? and status in ${ticketStatuses} and outcome = 'deny'
          and created_at >= ?::timestamptz and created_at < ?::timestamptz
     )
     select reason, count(*) as n, count(distinct k) as decisions
       from decisions where reason = any(?::text[])
      group by grouping sets ((reason), ())`,
    [
      ...[scope.tenant, week.lo ?? 0, week.hi ?? -1, scope.from, scope.to],
      ...[scope.tenant, scope.from, scope.to],
      Object.keys(reasonLabels),
    ],
  );
  const total = rows.find((r) => r.reason === null);
  const byReason = rows
    .filter((r): r is typeof r & { reason: string } => r.reason !== null)
    .map((r) => ({ reason: reasonLabels[r.reason] ?? r.reason, count: toCount(r.n) }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  return { budgetDenials: toCount(total?.decisions), byReason };
}

/** Auto-disables: `playbook.disabled` receipts of the week whose actor is `breaker` (watch.ts). */
async function autoDisables(
  scope: ReportScope,
  week: WeekReceipts,
): Promise<Guardrails['autoDisables']> {
  if (week.lo === null || week.hi === null) return [];
  const rows = await select<{ id: string; at: Date; playbook: string; reason: string }>(
    scope,
    `select id, at, left(b->>'playbook', 200) as playbook, left(b->>'reason', 200) as reason
       from (select id, at, seq, body::jsonb as b from receipts
              where tenant_id = ? and kind = 'playbook.disabled' and seq between ? and ?
                and at >= ?::timestamptz and at < ?::timestamptz) d
      where b->>'actor' = 'breaker'
      order by seq
      limit ${maxDisables}`,
    [scope.tenant, week.lo, week.hi, scope.from, scope.to],
  );
  return rows.map((r) => ({
    at: toInstant(r.at),
    playbook: r.playbook,
    reason: r.reason,
    receiptId: r.id,
  }));
}

export async function guardrailsSection(
  scope: ReportScope,
  week: WeekReceipts,
): Promise<Guardrails> {
  const [denials, disables] = await Promise.all([
    budgetDenials(scope, week),
    autoDisables(scope, week),
  ]);
  return { ...denials, autoDisables: disables };
}
