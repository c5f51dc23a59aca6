/**
 * What the chat adapters call into: the same guardrail core as the API (approvals with their
 * dual-control and expiry rules; commands over playbooks, runs and kill switches), reached with a
 * verified chat identity. Adapters parse their platform's requests and render the answers; they
 * decide nothing themselves.
 */
import type { ChatIdentity, Platform } from './port.js';
import type { ApprovalCardView, NoticeView, RunSummaryView, SimulationView } from './views.js';

/** A command's answer and who sees it: the caller alone (`ephemeral`) or the channel. */
export type CommandAnswer =
  | { visibility: 'ephemeral' | 'in_channel'; kind: 'notice'; view: NoticeView }
  | { visibility: 'ephemeral' | 'in_channel'; kind: 'simulation'; view: SimulationView }
  | { visibility: 'ephemeral' | 'in_channel'; kind: 'run'; view: RunSummaryView }
  | { visibility: 'ephemeral' | 'in_channel'; kind: 'approvals'; view: ApprovalCardView[] };

export interface ChatCore {
  /** The Warden tenant of a Slack team or Teams tenant; undefined when none is configured. */
  tenantFor(platform: Platform, workspace: string): string | undefined;
  /**
   * A click on Approve or Reject. `groupsOf` answers which of the ticket's `group:<name>` approver
   * entries the identity belongs to (Slack user groups through the Web API; configured groups for
   * Teams). Resolves to the card as it now stands; a refusal is receipted, then thrown as a
   * WardenError (403/404/409) whose message the adapter shows to the clicker.
   */
  decide(
    tenant: string,
    ticketId: string,
    decision: 'approve' | 'reject',
    identity: ChatIdentity,
    groupsOf: (groups: string[]) => Promise<string[]>,
  ): Promise<ApprovalCardView>;
  /** `list | simulate <name> [k=v…] | run <name> | status [run] | approvals | disable <name> | enable <name> | kill on|off` */
  command(tenant: string, identity: ChatIdentity, text: string): Promise<CommandAnswer>;
}
