/**
 * Decide: an Approve / Reject pressed on the dashboard, recorded by `decideApproval` — the same
 * rules and receipts as the API and chat — and the notice the page shows afterwards.
 */
import type { Knex } from 'knex';
import { isWardenError } from '../../errors.js';
import { decideApproval } from '../../guardrails/approvals.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { RunQueue } from '../../queue/run-queue.js';

/** What the page says after a decision, by code (the redirect carries only the code). */
export const notices: Record<string, { text: string; ok: boolean }> = {
  approved: { text: 'Approved: the run continues.', ok: true },
  rejected: { text: 'Rejected: the run stops there.', ok: true },
  vote_recorded: { text: 'Your approval is recorded; another approver is needed.', ok: true },
  unknown_ticket: { text: 'No such approval in this tenant.', ok: false },
  already_decided: { text: 'That approval was already decided.', ok: false },
  expired: { text: 'That approval has expired; the run was cancelled.', ok: false },
  self_approval: { text: 'This token started the run, so it cannot approve it.', ok: false },
  not_an_approver: { text: 'This token is not among the playbook’s approvers.', ok: false },
  duplicate_approver: { text: 'This token already decided; a second person must.', ok: false },
  kill_engaged: { text: 'Global kill switch engaged: every tenant’s steps stop.', ok: true },
  kill_released: { text: 'Global kill switch released.', ok: true },
  kill_unchanged: { text: 'The global kill switch already was in that position.', ok: true },
};

export interface DecideDeps {
  knex: Knex;
  ledger: Ledger;
  queue: RunQueue;
}

/**
 * Records the decision of the session's token and returns the notice code. The actor is
 * `dashboard:<token name>`; `via` is `api:<token name>`, the token's authority, exactly as the API
 * records it — so a token that started a run cannot approve it here either.
 * @example
 * const code = await decide(deps, 'acme', ticketId, 'approve', 'oncall');
 */
export async function decide(
  deps: DecideDeps,
  tenant: string,
  id: string,
  decision: 'approve' | 'reject',
  tokenName: string,
): Promise<string> {
  const core = {
    knex: deps.knex,
    ledger: deps.ledger,
    enqueue: deps.queue.enqueue.bind(deps.queue),
  };
  try {
    const ticket = await decideApproval(core, tenant, id, {
      decision,
      actor: `dashboard:${tokenName}`,
      via: `api:${tokenName}`,
    });
    return ticket.status === 'pending' ? 'vote_recorded' : ticket.status;
  } catch (err) {
    const reason = isWardenError(err) && (err.details as { reason?: unknown } | undefined)?.reason;
    if (typeof reason === 'string' && reason in notices) return reason;
    throw err;
  }
}
