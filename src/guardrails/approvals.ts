/**
 * Approvals: the votes on a ticket and its outcome. Every vote and every refused attempt is a
 * receipt. A ticket is approved when `minApprovals` distinct approvers said yes — never the run's
 * initiator, never the same approver twice, only those the playbook names (anyone with an admin
 * token of the tenant when it names none) — rejected by one no, and expired after its time. Any
 * outcome wakes the run: the engine then executes the step (approved), or ends the run as denied
 * (rejected) or cancelled (expired).
 */
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { newReceiptId, type ReceiptDraft } from '../ledger/receipt.js';
import {
  getApproval,
  insertVote,
  overdueApprovals,
  settleApproval,
  stepApprovals,
  type Ticket,
} from '../storage/approvals.js';
import { wakeRun } from '../storage/runs.js';

export interface ApprovalDeps {
  knex: Knex;
  ledger: Ledger;
  /** Hands a woken run to a worker (after commit). */
  enqueue(tenant: string, runId: string): Promise<void>;
}

export interface DecisionRequest {
  decision: 'approve' | 'reject';
  /** The verified identity of the person deciding: `slack:U…`, `teams:…`, `web:…`. */
  actor: string;
  comment?: string | undefined;
  /** The channel it came through, e.g. `api:<token name>`; never counts as a second person. */
  via: string;
  /**
   * The ticket's `group:<name>` approver entries the actor was verified to belong to (by the chat
   * platform: Slack user groups, configured Teams groups). The API passes none.
   */
  groups?: readonly string[];
  /**
   * Whether this actor may approve when the playbook names no approvers. The API says yes (the
   * admin token is the authority); chat says yes only for the tenant's `chat.operators`.
   * @defaultValue true
   */
  mayApproveUnlisted?: boolean;
}

type Refusal = {
  reason:
    | 'unknown_ticket'
    | 'already_decided'
    | 'expired'
    | 'self_approval'
    | 'not_an_approver'
    | 'duplicate_approver';
  message: string;
};

const refusalStatus: Record<Refusal['reason'], 'not_found' | 'conflict' | 'forbidden'> = {
  unknown_ticket: 'not_found',
  already_decided: 'conflict',
  expired: 'conflict',
  self_approval: 'forbidden',
  not_an_approver: 'forbidden',
  duplicate_approver: 'conflict',
};

/** Why this actor may not vote on this ticket now, if they may not. */
function refusalOf(
  t: Ticket,
  req: DecisionRequest,
  now: Date,
  earlier: readonly Ticket[],
): Refusal | undefined {
  if (t.status === 'expired' || (t.status === 'pending' && new Date(t.expiresAt) <= now)) {
    return { reason: 'expired', message: `Approval ${t.id} expired at ${t.expiresAt}.` };
  }
  if (t.status !== 'pending') {
    return { reason: 'already_decided', message: `Approval ${t.id} is already ${t.status}.` };
  }
  // Stopping one's own run is always allowed; approving it never is.
  if (req.decision === 'approve' && (req.actor === t.initiator || req.via === t.initiator)) {
    const who = req.actor === t.initiator ? req.actor : `the token ${req.via}`;
    return {
      reason: 'self_approval',
      message: `${who} started this run and cannot approve its own step.`,
    };
  }
  const stopsOwnRun =
    req.decision === 'reject' && (req.actor === t.initiator || req.via === t.initiator);
  const listed =
    t.approvers.includes(req.actor) || (req.groups ?? []).some((g) => t.approvers.includes(g));
  if (!stopsOwnRun && t.approvers.length === 0 && req.mayApproveUnlisted === false) {
    return {
      reason: 'not_an_approver',
      message: `Playbook ${t.playbook} names no approvers, so only the tenant's operators may decide from chat; ${req.actor} is not one.`,
    };
  }
  if (!stopsOwnRun && t.approvers.length > 0 && !listed) {
    return {
      reason: 'not_an_approver',
      message: `${req.actor} is not an approver of playbook ${t.playbook} (approvers: ${t.approvers.join(', ')}).`,
    };
  }
  // One person counts once per step, across its tickets (a budget ticket, then a policy one).
  const voted = [t, ...earlier].some((x) => x.votes.some((v) => v.actor === req.actor));
  if (voted && (req.decision === 'approve' || t.votes.some((v) => v.actor === req.actor))) {
    return {
      reason: 'duplicate_approver',
      message: `${req.actor} already decided on approval ${t.id}; a second person must approve.`,
    };
  }
  return undefined;
}

/**
 * Records one person's decision. Resolves to the ticket as it now stands; a refused attempt is
 * receipted, then thrown as a WardenError (404, 403 or 409) whose details name the reason.
 *
 * @example
 * await decideApproval(deps, 'acme', ticketId, { decision: 'approve', actor: 'slack:U1', via: 'api:bot' });
 */
export async function decideApproval(
  deps: ApprovalDeps,
  tenant: string,
  id: string,
  req: DecisionRequest,
  now = new Date(),
): Promise<Ticket> {
  // Rows first, receipts last (one append): the tenant's chain head is locked only while the
  // transaction commits, and after its rows, as every other writer takes them.
  const outcome = await deps.knex.transaction(async (trx) => {
    const ticket = await getApproval(trx, tenant, id, { lock: true });
    const earlier = ticket
      ? (await stepApprovals(trx, tenant, ticket.runId, ticket.stepId)).filter(
          (x) => x.id !== ticket.id && x.status === 'approved',
        )
      : [];
    const refusal: Refusal | undefined = ticket
      ? refusalOf(ticket, req, now, earlier)
      : { reason: 'unknown_ticket', message: `No approval with id ${id} in this tenant.` };
    if (refusal) {
      const refused: ReceiptDraft = {
        kind: 'approval.refused',
        ...(ticket ? { run: ticket.runId } : {}),
        data: { approval: id, via: req.via, decision: req.decision, reason: refusal.reason },
        private: { actor: req.actor },
      };
      const expiring = ticket && refusal.reason === 'expired' && ticket.status === 'pending';
      const expired = expiring ? await expire(trx, ticket) : undefined;
      await deps.ledger.appendIn(trx, tenant, expired ? [refused, expired] : [refused]);
      return { refusal, wake: expired ? ticket?.runId : undefined };
    }
    const t = ticket as Ticket;
    const approvals =
      t.votes.filter((v) => v.decision === 'approve').length + (req.decision === 'approve' ? 1 : 0);
    const settles =
      req.decision === 'reject' ? 'rejected' : approvals >= t.minApprovals ? 'approved' : undefined;
    const receiptId = newReceiptId(); // the vote names its receipt, appended last
    await insertVote(trx, {
      approvalId: t.id,
      tenant,
      actor: req.actor,
      decision: req.decision,
      comment: req.comment ?? null,
      receiptId,
    });
    if (settles) {
      await settleApproval(trx, tenant, t.id, settles);
      await wakeRun(trx, tenant, t.runId);
    }
    await deps.ledger.appendIn(trx, tenant, [
      {
        id: receiptId,
        kind: 'approval.decided',
        run: t.runId,
        data: {
          approval: t.id,
          step: t.stepId,
          playbook: t.playbook,
          inputDigest: t.inputDigest,
          via: req.via,
          decision: req.decision,
          approvals,
          minApprovals: t.minApprovals,
          outcome: settles ?? 'pending',
          requestedAt: t.createdAt,
        },
        // The approver's chat identity and comment are personal data: committed, disclosed on export.
        private: { actor: req.actor, comment: req.comment ?? null },
      },
    ]);
    return { refusal: undefined, wake: settles ? t.runId : undefined };
  });
  if (outcome.wake) await deps.enqueue(tenant, outcome.wake);
  if (outcome.refusal) {
    const { reason, message } = outcome.refusal;
    throw new WardenError(refusalStatus[reason], message, { details: { reason } });
  }
  const ticket = await getApproval(deps.knex, tenant, id);
  if (!ticket) throw new Error(`approval ${id} vanished`);
  return ticket;
}

/**
 * Marks a pending ticket expired and wakes its run, inside the caller's transaction; returns the
 * `approval.expired` receipt for the caller to append (last), or undefined if it was not pending.
 */
async function expire(trx: Knex.Transaction, t: Ticket): Promise<ReceiptDraft | undefined> {
  if (!(await settleApproval(trx, t.tenant, t.id, 'expired'))) return undefined;
  await wakeRun(trx, t.tenant, t.runId);
  return {
    kind: 'approval.expired',
    run: t.runId,
    data: {
      approval: t.id,
      step: t.stepId,
      playbook: t.playbook,
      expiresAt: t.expiresAt,
      requestedAt: t.createdAt,
    },
  };
}

/** Expires every overdue ticket (across tenants); returns how many. Safe on several processes. */
export async function expireOverdue(deps: ApprovalDeps): Promise<number> {
  let n = 0;
  for (const { tenant, id } of await overdueApprovals(deps.knex)) {
    const runId = await deps.knex.transaction(async (trx) => {
      const t = await getApproval(trx, tenant, id, { lock: true });
      const expired = t?.status === 'pending' ? await expire(trx, t) : undefined;
      if (!t || !expired) return undefined;
      await deps.ledger.appendIn(trx, tenant, [expired]);
      return t.runId;
    });
    if (runId) {
      n++;
      await deps.enqueue(tenant, runId);
    }
  }
  return n;
}
