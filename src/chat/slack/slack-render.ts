/**
 * The Slack adapter's renderer: blocks.ts bound to Warden's base URL (Slack refuses relative links),
 * and command answers as slash-command responses.
 */
import type { CommandAnswer } from '../core-port.js';
import type {
  ApprovalCardView,
  NoticeView,
  ReceiptLineView,
  ReportLinkView,
  RunSummaryView,
} from '../views.js';
import {
  approvalMessage,
  approvalsListMessage,
  noticeMessage,
  receiptMessage,
  reportLinkMessage,
  runSummaryMessage,
  type SlackMessage,
  simulationMessage,
} from './blocks.js';

export interface SlackRender {
  approval(view: ApprovalCardView): SlackMessage;
  runSummary(view: RunSummaryView): SlackMessage;
  receipt(view: ReceiptLineView): SlackMessage;
  reportLink(view: ReportLinkView): SlackMessage;
  notice(view: NoticeView): SlackMessage;
  /** A command's answer as the body of an ack or a `respond()`. */
  command(answer: CommandAnswer): SlackMessage & { response_type: 'ephemeral' | 'in_channel' };
}

/**
 * @param baseUrl Warden's public URL; relative links in views are made absolute with it.
 * @example
 * const render = createSlackRender('https://warden.example.com');
 * await client.chat.update({ channel, ts, ...render.approval(card) });
 */
export function createSlackRender(baseUrl?: string): SlackRender {
  const opts = { baseUrl };
  const message = (answer: CommandAnswer): SlackMessage => {
    switch (answer.kind) {
      case 'notice':
        return noticeMessage(answer.view);
      case 'simulation':
        return simulationMessage(answer.view);
      case 'run':
        return runSummaryMessage(answer.view, opts);
      case 'approvals':
        return approvalsListMessage(answer.view);
    }
  };
  return {
    approval: (view) => approvalMessage(view, opts),
    runSummary: (view) => runSummaryMessage(view, opts),
    receipt: receiptMessage,
    reportLink: (view) => reportLinkMessage(view, opts),
    notice: noticeMessage,
    command: (answer) => ({ response_type: answer.visibility, ...message(answer) }),
  };
}
