/** Approval storage: tickets for blocked steps and the votes on them, always scoped by tenant. */
import type { Knex } from 'knex';
import type { JsonValue } from '../ledger/receipt.js';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface Vote {
  actor: string;
  decision: 'approve' | 'reject';
  comment: string | null;
  receiptId: string;
  at: string;
}

export interface Ticket {
  id: string;
  tenant: string;
  runId: string;
  stepId: string;
  playbook: string;
  inputDigest: string;
  outcome: 'approval_required' | 'deny';
  reasons: string[];
  nextSteps: string[];
  evidence: Array<{ label: string; url: string }>;
  rollback: JsonValue;
  approvers: string[];
  minApprovals: number;
  initiator: string;
  status: ApprovalStatus;
  requestReceiptId: string | null;
  expiresAt: string;
  createdAt: string;
  decidedAt: string | null;
  votes: Vote[];
}

interface Row {
  id: string;
  tenant_id: string;
  run_id: string;
  step_id: string;
  playbook_name: string;
  input_digest: string;
  outcome: Ticket['outcome'];
  reasons: string[];
  next_steps: string[];
  evidence: Ticket['evidence'];
  rollback: JsonValue;
  approvers: string[];
  min_approvals: number;
  initiator: string;
  status: ApprovalStatus;
  request_receipt_id: string | null;
  expires_at: Date;
  created_at: Date;
  decided_at: Date | null;
}

interface VoteRow {
  approval_id: string;
  actor: string;
  decision: Vote['decision'];
  comment: string | null;
  receipt_id: string;
  at: Date;
}

const iso = (d: Date | string) => new Date(d).toISOString();

const toTicket = (r: Row, votes: Vote[]): Ticket => ({
  id: r.id,
  tenant: r.tenant_id,
  runId: r.run_id,
  stepId: r.step_id,
  playbook: r.playbook_name,
  inputDigest: r.input_digest,
  outcome: r.outcome,
  reasons: r.reasons,
  nextSteps: r.next_steps,
  evidence: r.evidence,
  rollback: r.rollback ?? null,
  approvers: r.approvers,
  minApprovals: Number(r.min_approvals),
  initiator: r.initiator,
  status: r.status,
  requestReceiptId: r.request_receipt_id,
  expiresAt: iso(r.expires_at),
  createdAt: iso(r.created_at),
  decidedAt: r.decided_at ? iso(r.decided_at) : null,
  votes,
});

export type NewTicket = Omit<Ticket, 'status' | 'createdAt' | 'decidedAt' | 'votes'>;

export async function insertApproval(trx: Knex, t: NewTicket): Promise<void> {
  await trx('approvals').insert({
    id: t.id,
    tenant_id: t.tenant,
    run_id: t.runId,
    step_id: t.stepId,
    playbook_name: t.playbook,
    input_digest: t.inputDigest,
    outcome: t.outcome,
    reasons: JSON.stringify(t.reasons),
    next_steps: JSON.stringify(t.nextSteps),
    evidence: JSON.stringify(t.evidence),
    rollback: JSON.stringify(t.rollback),
    approvers: JSON.stringify(t.approvers),
    min_approvals: t.minApprovals,
    initiator: t.initiator,
    status: 'pending',
    request_receipt_id: t.requestReceiptId,
    expires_at: t.expiresAt,
  });
}

async function withVotes(knex: Knex, tenant: string, rows: Row[]): Promise<Ticket[]> {
  if (rows.length === 0) return [];
  const votes: VoteRow[] = await knex('approval_votes')
    .where('tenant_id', tenant)
    .whereIn(
      'approval_id',
      rows.map((r) => r.id),
    )
    .orderBy('at')
    .select('approval_id', 'actor', 'decision', 'comment', 'receipt_id', 'at');
  const byTicket = new Map<string, Vote[]>();
  for (const v of votes) {
    const list = byTicket.get(v.approval_id) ?? [];
    list.push({
      actor: v.actor,
      decision: v.decision,
      comment: v.comment,
      receiptId: v.receipt_id,
      at: iso(v.at),
    });
    byTicket.set(v.approval_id, list);
  }
  return rows.map((r) => toTicket(r, byTicket.get(r.id) ?? []));
}

/** One ticket of the tenant; with `lock`, row-locked until the transaction ends. */
export async function getApproval(
  knex: Knex,
  tenant: string,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<Ticket | undefined> {
  const q = knex('approvals').where({ tenant_id: tenant, id });
  const row: Row | undefined = await (opts.lock ? q.forUpdate() : q).first();
  return row ? (await withVotes(knex, tenant, [row]))[0] : undefined;
}

export async function listApprovals(
  knex: Knex,
  tenant: string,
  q: { status?: ApprovalStatus; runId?: string; limit: number },
): Promise<Ticket[]> {
  const rows: Row[] = await knex('approvals')
    .where('tenant_id', tenant)
    .modify((b) => {
      if (q.status) b.where('status', q.status);
      if (q.runId) b.where('run_id', q.runId);
    })
    .orderBy('created_at', 'desc')
    .limit(q.limit);
  return withVotes(knex, tenant, rows);
}

/** Every ticket for a step of a run, newest first. */
export async function stepApprovals(
  knex: Knex,
  tenant: string,
  runId: string,
  stepId: string,
): Promise<Ticket[]> {
  const rows: Row[] = await knex('approvals')
    .where({ tenant_id: tenant, run_id: runId, step_id: stepId })
    .orderBy('created_at', 'desc');
  return withVotes(knex, tenant, rows);
}

/** Records a vote; false when this actor already voted on the ticket. */
export async function insertVote(
  trx: Knex,
  v: {
    approvalId: string;
    tenant: string;
    actor: string;
    decision: Vote['decision'];
    comment: string | null;
    receiptId: string;
  },
): Promise<boolean> {
  const { rows } = await trx.raw<{ rows: unknown[] }>(
    `insert into approval_votes (approval_id, tenant_id, actor, decision, comment, receipt_id)
     values (?, ?, ?, ?, ?, ?) on conflict (approval_id, actor) do nothing returning actor`,
    [v.approvalId, v.tenant, v.actor, v.decision, v.comment, v.receiptId],
  );
  return rows.length === 1;
}

/** Moves a pending ticket to its outcome; false if it was no longer pending. */
export async function settleApproval(
  trx: Knex,
  tenant: string,
  id: string,
  status: Exclude<ApprovalStatus, 'pending'>,
): Promise<boolean> {
  const n = await trx('approvals')
    .where({ tenant_id: tenant, id, status: 'pending' })
    .update({ status, decided_at: trx.fn.now() });
  return n === 1;
}

/** Pending tickets past their expiry, across tenants (for the expiry sweep). */
export async function overdueApprovals(
  knex: Knex,
  limit = 100,
): Promise<Array<{ tenant: string; id: string }>> {
  const rows: Array<{ tenant_id: string; id: string }> = await knex('approvals')
    .where('status', 'pending')
    .where('expires_at', '<', knex.fn.now())
    .orderBy('expires_at')
    .limit(limit)
    .select('tenant_id', 'id');
  return rows.map((r) => ({ tenant: r.tenant_id, id: r.id }));
}
