/**
 * Approve / Reject clicks on approval cards. The click is acked at once; then the core decides for
 * the signed payload's user and team, and the card is updated in place, or (on a refusal, which the
 * core has already receipted) only the clicker is told why.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Logger } from 'pino';
import { isWardenError } from '../../errors.js';
import type { ChatCore } from '../core-port.js';
import type { ChatChannel, ChatIdentity } from '../port.js';
import type { ApprovalCardView } from '../views.js';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID, TICKET_BLOCK_ID, ticketOfValue } from './blocks.js';
import { notConnected } from './slack-command.js';
import type { SlackGroups } from './slack-groups.js';
import type { SlackRender } from './slack-render.js';

export interface ApprovalActionDeps {
  core: ChatCore;
  render: SlackRender;
  groups: SlackGroups;
  /** Updates the card in place. */
  cards: Pick<ChatChannel, 'updateApproval'>;
  logger: Logger;
}

const approveOrReject = new RegExp(`^(${APPROVE_ACTION_ID}|${REJECT_ACTION_ID})$`);

/**
 * @example
 * registerApprovalActions(app, { core, render, groups, cards: channel, logger });
 */
export function registerApprovalActions(app: App, deps: ApprovalActionDeps): void {
  const { core, render, groups, cards, logger } = deps;

  /** Decides one click; answers what only the clicker should be told, if anything. */
  async function decide(body: BlockAction<ButtonAction>, action: ButtonAction) {
    const teamId = body.team?.id ?? body.user.team_id;
    const tenant = teamId === undefined ? undefined : core.tenantFor('slack', teamId);
    if (teamId === undefined || tenant === undefined) return notConnected;
    const ticketId = ticketOfValue(action.value);
    if (ticketId === undefined) {
      logger.warn({ tenant, actionId: action.action_id }, 'slack approval click without a ticket');
      return 'This button does not name an approval ticket.';
    }
    const identity: ChatIdentity = {
      platform: 'slack',
      actor: `slack:${body.user.id}`,
      workspace: teamId,
      name: body.user.name ?? body.user.username,
    };
    const decision = action.action_id === APPROVE_ACTION_ID ? 'approve' : 'reject';

    let view: ApprovalCardView;
    try {
      view = await core.decide(tenant, ticketId, decision, identity, (wanted) =>
        groups.groupsOf(teamId, body.user.id, wanted),
      );
    } catch (err) {
      // A refusal: the core has receipted it; the card stays as it is for everyone else.
      if (isWardenError(err) && err.code !== 'internal' && err.code !== 'config_invalid') {
        return `Not allowed: ${err.message}`;
      }
      logger.error({ err, tenant, ticketId }, 'slack approval failed');
      return 'Warden could not record that decision; try again.';
    }

    const channel = stringField(body.container, 'channel_id') ?? body.channel?.id;
    const ts = stringField(body.container, 'message_ts') ?? body.message?.ts;
    if (!channel || !ts) return undefined;
    try {
      await cards.updateApproval({ platform: 'slack', channel, id: ts }, view);
      return undefined;
    } catch (err) {
      logger.error({ err, tenant, ticketId }, 'slack approval card not updated');
      return 'Your decision was recorded, but the card could not be updated.';
    }
  }

  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', block_id: TICKET_BLOCK_ID, action_id: approveOrReject },
    async ({ ack, body, action, respond }) => {
      await ack();
      const problem = await decide(body, action);
      if (problem === undefined) return;
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        ...render.notice({ title: problem, lines: [], tone: 'error' }),
      });
    },
  );
}

function stringField(record: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = record?.[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
