/**
 * Aggregate-isolation: tenant-isolation checks run in SQL over the week's rows — what the tenant's
 * chain holds names the tenant, has no gaps, and references only the tenant's own runs, triggers,
 * playbook versions and votes — and the tenant's live API tokens by scope.
 */
import { tokenScopes } from '../config-tenant.js';
import type { WeekReceipts } from './aggregate-receipts.js';
import { type ReportScope, select, ticketStatuses, toCount } from './aggregate-scope.js';
import type { TrustReportInput } from './report-model.js';

type Isolation = TrustReportInput['isolation'];
type Check = Isolation['checks'][number];

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/** Every receipt of the week names this tenant in its signed body (see scanWeekReceipts). */
function namesTenant(week: WeekReceipts): Check {
  return {
    name: 'Receipts name their tenant',
    passed: week.unnamed === 0,
    detail:
      week.count === 0
        ? 'no receipts this week'
        : `${plural(week.count, 'receipt')}, ${plural(week.unnamed, 'body', 'bodies')} naming another tenant`,
  };
}

/** The week's receipts are a contiguous run of the chain: max seq − min seq + 1 = count. */
function gapFree(week: WeekReceipts): Check {
  if (week.lo === null || week.hi === null) {
    return { name: 'Receipt chain has no gaps', passed: true, detail: 'no receipts this week' };
  }
  const missing = week.hi - week.lo + 1 - week.count;
  return {
    name: 'Receipt chain has no gaps',
    passed: missing === 0,
    detail: `seq ${week.lo}–${week.hi}: ${plural(week.count, 'receipt')}, ${missing} missing`,
  };
}

/**
 * The week's receipts belong to runs of this tenant: each distinct run id they carry is a run of
 * the tenant (a receipt naming another tenant's run would be a leak across chains).
 */
async function receiptRuns(scope: ReportScope): Promise<Check> {
  const [row] = await select<{ runs: unknown; foreign: unknown }>(
    scope,
    `select count(*) as runs, count(*) filter (where x.id is null) as foreign
       from (select distinct run_id from receipts
              where tenant_id = ? and at >= ?::timestamptz and at < ?::timestamptz
                and run_id is not null) d
       left join runs x on x.tenant_id = ? and x.id = d.run_id`,
    [scope.tenant, scope.from, scope.to, scope.tenant],
  );
  const foreign = toCount(row?.foreign);
  return {
    name: 'Receipts reference only this tenant’s runs',
    passed: foreign === 0,
    detail: `${plural(toCount(row?.runs), 'run')} referenced, ${foreign} not of this tenant`,
  };
}

/**
 * Runs created in the week start from this tenant's triggers and playbook versions. The lookups by
 * id are not scoped by tenant on purpose: a reference to another tenant's row must be found.
 */
async function runReferences(scope: ReportScope): Promise<Check> {
  const [row] = await select<{ runs: unknown; foreign: unknown }>(
    scope,
    `select count(*) as runs,
            count(*) filter (where (r.trigger_id is not null and t.tenant_id is distinct from r.tenant_id)
                               or v.tenant_id is distinct from r.tenant_id) as foreign
       from runs r
       left join triggers t on t.id = r.trigger_id
       left join playbook_versions v on v.id = r.playbook_version_id
      where r.tenant_id = ? and r.created_at >= ?::timestamptz and r.created_at < ?::timestamptz`,
    [scope.tenant, scope.from, scope.to],
  );
  const foreign = toCount(row?.foreign);
  return {
    name: 'Runs reference only this tenant’s triggers and playbooks',
    passed: foreign === 0,
    detail: `${plural(toCount(row?.runs), 'run')}, ${plural(foreign, 'foreign reference')}`,
  };
}

/** Approval tickets of the week are for this tenant's runs, and every vote on them is its own. */
async function approvalReferences(scope: ReportScope): Promise<Check> {
  const [row] = await select<{ tickets: unknown; foreign: unknown; votes: unknown }>(
    scope,
    `select count(*) as tickets,
            count(*) filter (where r.tenant_id is distinct from a.tenant_id) as foreign,
            coalesce(sum((select count(*) from approval_votes v
                           where v.approval_id = a.id and v.tenant_id <> a.tenant_id)), 0) as votes
       from approvals a
       left join runs r on r.id = a.run_id
      where a.tenant_id = ? and a.status in ${ticketStatuses}
        and a.created_at >= ?::timestamptz and a.created_at < ?::timestamptz`,
    [scope.tenant, scope.from, scope.to],
  );
  const foreign = toCount(row?.foreign) + toCount(row?.votes);
  return {
    name: 'Approvals reference only this tenant’s runs and votes',
    passed: foreign === 0,
    detail: `${plural(toCount(row?.tickets), 'ticket')}, ${plural(foreign, 'foreign reference')}`,
  };
}

/** Live (not revoked) API tokens of the tenant, per scope, every scope listed. */
async function tokens(scope: ReportScope): Promise<Isolation['tokens']> {
  const rows = await select<{ scope: string; n: unknown }>(
    scope,
    `select scope, count(*) as n from api_tokens
      where tenant_id = ? and revoked_at is null group by scope`,
    [scope.tenant],
  );
  const byScope = new Map(rows.map((r) => [r.scope, toCount(r.n)]));
  return tokenScopes.map((s) => ({ scope: s, count: byScope.get(s) ?? 0 }));
}

export async function isolationSection(scope: ReportScope, week: WeekReceipts): Promise<Isolation> {
  const [runsOfReceipts, runs, approvals, live] = await Promise.all([
    receiptRuns(scope),
    runReferences(scope),
    approvalReferences(scope),
    tokens(scope),
  ]);
  return {
    checks: [namesTenant(week), gapFree(week), runsOfReceipts, runs, approvals],
    tokens: live,
  };
}
