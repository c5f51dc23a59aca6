/**
 * Aggregate-privileged: the privileged actions of the week (steps that needed an approval ticket),
 * dual-control adherence, and what the report discloses to its audience. Identities leave the
 * database only for an `auditor`: for a `customer` the query returns counts instead.
 */
import {
  type DisclosureAudience,
  type ReportScope,
  select,
  ticketStatuses,
  toCount,
  toInstant,
} from './aggregate-scope.js';
import type { TrustReportInput } from './report-model.js';

/** Actions listed in the report (the adherence figures count them all). */
const maxActions = 200;

interface TicketRow {
  created_at: Date;
  playbook_name: string;
  step_id: string;
  requested_by: string | null;
  approver_count: unknown;
  approvers: string[];
  dual: boolean;
  receipt_id: string;
  total: unknown;
  dual_total: unknown;
}

const withheldApprovers = (n: number) =>
  n === 0 ? [] : [`${n} approver${n === 1 ? '' : 's'} (identities withheld)`];

/**
 * Privileged actions: approval tickets opened in the week, oldest first, each with its
 * `approval.requested` receipt. Approvers: the distinct people who voted approve. Dual control: the
 * ticket asked for at least 2 approvals, was approved, and at least 2 distinct approvers other than
 * the requester said yes. Requested by: `trigger:<source>` for a triggered run; a person or token
 * (`slack:…`, `api:…`) only for an auditor, else null (withheld).
 */
export async function privilegedSection(
  scope: ReportScope,
): Promise<TrustReportInput['privileged']> {
  const auditor = scope.audience === 'auditor';
  const rows = await select<TicketRow>(
    scope,
    `with tickets as (
       select a.id, a.created_at, a.playbook_name, a.step_id, a.initiator, a.min_approvals, a.status,
              coalesce(a.request_receipt_id, a.id) as receipt_id, t.source as trigger_source,
              coalesce(array_agg(distinct v.actor) filter (where v.decision = 'approve'), '{}')
                as approvers
         from approvals a
         left join runs r on r.tenant_id = a.tenant_id and r.id = a.run_id
         left join triggers t on t.tenant_id = a.tenant_id and t.id = r.trigger_id
         left join approval_votes v on v.tenant_id = a.tenant_id and v.approval_id = a.id
        where a.tenant_id = ? and a.status in ${ticketStatuses}
          and a.created_at >= ?::timestamptz and a.created_at < ?::timestamptz
        group by a.id, t.source
     ), judged as (
       select *, min_approvals >= 2 and status = 'approved'
                 and cardinality(array_remove(approvers, initiator)) >= 2 as dual
         from tickets
     )
     select created_at, playbook_name, step_id, receipt_id, dual,
            cardinality(approvers) as approver_count,
            case when ?::boolean then approvers else '{}' end as approvers,
            case when initiator like 'playbook:%' then coalesce('trigger:' || trigger_source, initiator)
                 when ?::boolean then initiator end as requested_by,
            count(*) over () as total, count(*) filter (where dual) over () as dual_total
       from judged
      order by created_at, id
      limit ${maxActions}`,
    [scope.tenant, scope.from, scope.to, auditor, auditor],
  );
  const actions = toCount(rows[0]?.total);
  const dualControlled = toCount(rows[0]?.dual_total);
  return {
    actions: rows.map((r) => ({
      at: toInstant(r.created_at),
      playbook: r.playbook_name,
      step: r.step_id,
      requestedBy: r.requested_by,
      approvers: auditor ? r.approvers : withheldApprovers(toCount(r.approver_count)),
      dualControl: r.dual,
      receiptId: r.receipt_id,
    })),
    adherence: { actions, dualControlled, share: actions === 0 ? null : dualControlled / actions },
  };
}

const alwaysWithheld = ['step inputs and outputs', 'alert labels and payloads'];
const shown = ['playbook names', 'alert names', 'receipt ids', 'signing key ids'];
const identities = ['approver identities', 'requester identities'];

/** What the report shows and withholds for its audience (the cover page lists both). */
export function disclosureFor(audience: DisclosureAudience): TrustReportInput['disclosure'] {
  return audience === 'auditor'
    ? { audience, disclosed: [...shown, ...identities], withheld: alwaysWithheld }
    : {
        audience,
        disclosed: [...shown, 'approver counts'],
        withheld: [...identities, ...alwaysWithheld],
      };
}
