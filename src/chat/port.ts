/**
 * Chat port: what Warden needs from a chat platform, so that Slack (Bolt) and Teams (botbuilder) are
 * adapters and the rest of Warden never imports either. A thread is one run's (or incident's)
 * conversation: the run summary first, then the approval card and the receipts as replies.
 */
import type {
  ApprovalCardView,
  NoticeView,
  ReceiptLineView,
  ReportLinkView,
  RunSummaryView,
} from './views.js';

export type Platform = 'slack' | 'teams';

/** Where a message lives, as the platform names it (stored, so updates survive restarts). */
export interface MessageRef {
  platform: Platform;
  /** Slack channel id; Teams conversation id. */
  channel: string;
  /** Slack message ts; Teams activity id. */
  id: string;
  /** Teams: the service URL to reach the conversation. */
  serviceUrl?: string;
}

/** A tenant's destination on one platform (from config `chat.slack` / `chat.teams`). */
export interface ChatDestination {
  platform: Platform;
  channel: string;
  serviceUrl?: string;
}

export interface ChatChannel {
  readonly platform: Platform;
  /** Starts a thread with the run summary; its ref is the thread. */
  postRunSummary(to: ChatDestination, view: RunSummaryView): Promise<MessageRef>;
  updateRunSummary(ref: MessageRef, view: RunSummaryView): Promise<void>;
  postApproval(thread: MessageRef, view: ApprovalCardView): Promise<MessageRef>;
  /** Replaces the card in place (the decision, who and when). */
  updateApproval(ref: MessageRef, view: ApprovalCardView): Promise<void>;
  postReceipt(thread: MessageRef, view: ReceiptLineView): Promise<void>;
  postReportLink(to: ChatDestination, view: ReportLinkView): Promise<MessageRef>;
  postNotice(thread: MessageRef | ChatDestination, view: NoticeView): Promise<void>;
}

/**
 * The identity a platform verified for a click or a command: never taken from the payload's free
 * text, only from the signed request (Slack) or the authenticated activity (Teams).
 */
export interface ChatIdentity {
  platform: Platform;
  /** `slack:U012AB3CD` or `teams:<aad object id>` — the form playbooks list in approval.approvers. */
  actor: string;
  /** Slack team id or Teams (AAD) tenant id: decides the Warden tenant. */
  workspace: string;
  /** Display name, for cards only. */
  name?: string | undefined;
}
