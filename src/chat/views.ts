/**
 * Views: the neutral chat view models — what an approval card, a run summary, a simulation result,
 * a receipt line and a report link say — rendered twice, as Block Kit (src/chat/slack/blocks.ts) and
 * as Adaptive Cards 1.5 (src/chat/teams/cards.ts). Nothing here knows a chat platform.
 */

export type RunStatusView =
  | 'queued'
  | 'running'
  | 'awaiting_approval'
  | 'succeeded'
  | 'failed'
  | 'denied'
  | 'cancelled';

export interface Link {
  label: string;
  /** Absolute (http…) or relative to the Warden base URL (`/api/v1/runs/…`). */
  url: string;
}

export interface ApprovalCardView {
  ticketId: string;
  tenant: string;
  playbook: string;
  runId: string;
  stepId: string;
  /** plugin.step */
  uses: string;
  /** The plan's one-line summary of what the step would do. */
  summary: string;
  targets: string[];
  inputDigest: string;
  /** `approval_required`, or an overridable `deny` (a budget an approver may override). */
  outcome: 'approval_required' | 'deny';
  /** Each reason with a human sentence: `{ code: 'actions_per_hour_exceeded', text: '…' }`. */
  reasons: Array<{ code: string; text: string }>;
  nextSteps: string[];
  evidence: Link[];
  /** The rollback suggestion, as a sentence (`http.request POST …/undo`, or "irreversible"). */
  rollback: string;
  approvers: string[];
  minApprovals: number;
  /** Approvals so far: who and when (ISO). */
  approvals: Array<{ actor: string; at: string }>;
  expiresAt: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  /** Set once decided: the deciding vote (or expiry), shown when the card is updated in place. */
  decided?: { actor: string | null; decision: 'approve' | 'reject' | 'expired'; at: string };
}

export interface RunSummaryView {
  runId: string;
  tenant: string;
  playbook: string;
  version: number;
  status: RunStatusView;
  /** e.g. `alertmanager: ReceiptLag (shard=7) firing` */
  trigger: string;
  steps: Array<{
    id: string;
    uses: string;
    status: string;
    /** Present once decided: `allow`, `deny`, `approval_required`. */
    decision?: string;
    reasons?: string[];
  }>;
  startedAt: string;
  finishedAt?: string | undefined;
  error?: string | null | undefined;
  links: Link[];
}

export interface SimulationView {
  tenant: string;
  playbook: string;
  version: number;
  /** planned | needs_approval | would_be_denied | denied */
  outcome: string;
  wouldTrigger: boolean | null;
  steps: Array<{
    id: string;
    uses: string;
    summary: string;
    targets: string[];
    cost: number;
    risk: string;
    decision: string;
    reasons: string[];
    /** e.g. `actionsPerHour 2/6, blastRadius 1/2` */
    budgets: string;
  }>;
  /** When the plan itself was denied (invalid input …). */
  denied?: { step: string; reason: string; detail: string } | null;
  receiptId: string;
}

/** One receipt, posted as a reply in the run's thread. */
export interface ReceiptLineView {
  kind: string;
  id: string;
  seq: number;
  digest: string;
  /** e.g. `step restart succeeded in 120 ms` */
  summary: string;
}

export interface ReportLinkView {
  tenant: string;
  week: string;
  url: string;
  expiresAt: string;
  receiptId: string;
}

/** A short text answer (command results, errors), optionally with lines. */
export interface NoticeView {
  title: string;
  lines: string[];
  tone: 'info' | 'success' | 'warning' | 'error';
}
