/**
 * Step-approval: the engine's side of approval tickets — opening one for a blocked step (the step
 * keeps its decision, the run waits, the ticket is stored with its `approval.requested` receipt in
 * one commit) and reading what a step's approved tickets let through.
 */
import { buildTicket } from '../guardrails/approval-ticket.js';
import { type ApprovalGrant, type Decision, decisionJson } from '../guardrails/decision.js';
import { insertApproval, type Ticket } from '../storage/approvals.js';
import type { PlaybookVersion } from '../storage/playbooks.js';
import type { RunStatus } from '../storage/runs.js';
import type { RunRecorder } from './run-recorder.js';
import type { StepPlan } from './simulate-run.js';
import type { StepCatalog } from './step-context.js';

/** Opens a ticket for the blocked step; the run waits for humans (or the ticket's expiry). */
export function requestApproval(opts: {
  tenant: string;
  runId: string;
  version: PlaybookVersion;
  context: unknown;
  initiator: string;
  recorder: RunRecorder;
  catalog: StepCatalog;
  stepId: string;
  plan: StepPlan;
  decision: Decision;
  grant: ApprovalGrant | undefined;
}): Promise<RunStatus> {
  const { plan, decision, recorder } = opts;
  const ticket = buildTicket({ ...opts, granted: opts.grant?.approvals ?? 0 });
  return recorder.awaitApproval(
    opts.stepId,
    { decision: decisionJson(decision) },
    {
      kind: 'approval.requested',
      data: {
        approval: ticket.id,
        playbook: recorder.ref,
        step: opts.stepId,
        uses: plan.uses,
        inputDigest: plan.inputDigest,
        decision: decisionJson(decision),
        approvers: ticket.approvers,
        minApprovals: ticket.minApprovals,
        initiator: ticket.initiator,
        expiresAt: ticket.expiresAt,
        rollback: ticket.rollback,
      },
    },
    (trx, receiptId) => insertApproval(trx, { ...ticket, requestReceiptId: receiptId }),
  );
}

/**
 * What the step's approved tickets (for this very input) let through together: a budget ticket and
 * then a policy ticket for the same step both count, so neither asks again for what the other
 * granted. Approvals are distinct people across the tickets.
 */
export function grantOf(
  tickets: readonly Ticket[],
  inputDigest: string,
): ApprovalGrant | undefined {
  const approved = tickets.filter((t) => t.status === 'approved' && t.inputDigest === inputDigest);
  if (approved.length === 0) return undefined;
  const votes = approved.flatMap((t) => t.votes.filter((v) => v.decision === 'approve'));
  return {
    ticket: (approved[0] as Ticket).id,
    approvals: new Set(votes.map((v) => v.actor)).size,
    overrides: [...new Set(approved.filter((t) => t.outcome === 'deny').flatMap((t) => t.reasons))],
    receipts: votes.map((v) => v.receiptId),
  };
}
