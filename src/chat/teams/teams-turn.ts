/**
 * Teams turn: one inbound activity handled — a command message answered with a card reply, an
 * Approve/Reject click (Action.Execute invoke, or the Action.Submit fallback message) decided by
 * the core. Teams has no ephemeral messages in channels, so every answer is a normal reply.
 */
import { ActivityTypes, type TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import { isWardenError } from '../../errors.js';
import type { ChatCore, CommandAnswer } from '../core-port.js';
import type { ChatIdentity } from '../port.js';
import type { RenderOptions } from '../render-text.js';
import type { ApprovalCardView } from '../views.js';
import {
  approvalCard,
  approvalsListCard,
  noticeCard,
  runSummaryCard,
  simulationCard,
} from './cards.js';
import {
  type ApprovalClick,
  adaptiveCardType,
  approvalClick,
  callerOf,
  cardMessage,
  commandText,
  isApprovalSubmit,
} from './teams-activity.js';

export interface TurnDeps {
  core: ChatCore;
  logger: Logger;
  /** The tenant's configured groups: name → AAD object ids. */
  groups: (tenant: string) => Readonly<Record<string, readonly string[]>>;
  /** Warden's public base URL, for relative links in cards. */
  baseUrl?: string | undefined;
}

/** The body of an `adaptiveCard/action` invoke response (Universal Actions). */
type ActionResponse =
  | { statusCode: 200; type: typeof adaptiveCardType; value: object }
  | { statusCode: 200; type: 'application/vnd.microsoft.activity.message'; value: string }
  | { statusCode: 400 | 500; type: 'application/vnd.microsoft.error'; value: object };

/** Who the caller is in Warden: the identity and its tenant, or why not. */
type Resolved = { identity: ChatIdentity; tenant: string } | { refused: string };

/**
 * @example
 * const logic = createTurnLogic({ core, logger, groups });
 * await adapter.process(req, res, logic);
 */
export function createTurnLogic(deps: TurnDeps): (context: TurnContext) => Promise<void> {
  const render = { baseUrl: deps.baseUrl };
  const resolve = (context: TurnContext): Resolved => {
    const caller = callerOf(context.activity);
    if ('refused' in caller) return caller;
    const tenant = deps.core.tenantFor('teams', caller.identity.workspace);
    if (!tenant) return { refused: 'This Teams tenant is not connected to Warden.' };
    return { identity: caller.identity, tenant };
  };

  /** `group:<name>` entries the identity belongs to, from the tenant's configured groups. */
  const groupsOf = (tenant: string, identity: ChatIdentity) => async (entries: string[]) => {
    const configured = deps.groups(tenant);
    const objectId = identity.actor.slice('teams:'.length);
    return entries.filter((entry) => {
      const name = entry.startsWith('group:') ? entry.slice('group:'.length) : entry;
      const members = Object.hasOwn(configured, name) ? configured[name] : undefined;
      return members?.some((m) => m === objectId || m === identity.actor) ?? false;
    });
  };

  /** The decided card, or the refusal's sentence (already receipted by the core). */
  const decide = async (
    context: TurnContext,
    click: ApprovalClick,
  ): Promise<{ card: ApprovalCardView } | { refused: string }> => {
    const who = resolve(context);
    if ('refused' in who) return who;
    try {
      const groups = groupsOf(who.tenant, who.identity);
      return {
        card: await deps.core.decide(who.tenant, click.ticket, click.verb, who.identity, groups),
      };
    } catch (err) {
      if (isWardenError(err) && err.status < 500) return { refused: err.message };
      throw err;
    }
  };

  const onExecute = async (context: TurnContext): Promise<ActionResponse> => {
    const click = approvalClick(context.activity);
    if (!click) {
      return {
        statusCode: 400,
        type: 'application/vnd.microsoft.error',
        value: { code: 'BadRequest', message: 'Expected verb approve or reject with a ticket.' },
      };
    }
    const outcome = await decide(context, click);
    if ('refused' in outcome) {
      return {
        statusCode: 200,
        type: 'application/vnd.microsoft.activity.message',
        value: `Not allowed: ${outcome.refused}`,
      };
    }
    return { statusCode: 200, type: adaptiveCardType, value: approvalCard(outcome.card, render) };
  };

  const onSubmit = async (context: TurnContext) => {
    const click = approvalClick(context.activity);
    if (!click) return void (await context.sendActivity('Not allowed: this button is malformed.'));
    const outcome = await decide(context, click);
    if ('refused' in outcome) {
      return void (await context.sendActivity(`Not allowed: ${outcome.refused}`));
    }
    const message = cardMessage(approvalCard(outcome.card, render));
    const cardId = context.activity.replyToId;
    if (cardId) await context.updateActivity({ ...message, id: cardId });
    else await context.sendActivity(message);
  };

  const onCommand = async (context: TurnContext) => {
    const who = resolve(context);
    if ('refused' in who) {
      const view = { title: 'Not allowed', lines: [who.refused], tone: 'error' as const };
      return void (await context.sendActivity(cardMessage(noticeCard(view))));
    }
    const text = commandText(context.activity.text);
    let card: object;
    try {
      card = answerCard(await deps.core.command(who.tenant, who.identity, text), render);
    } catch (err) {
      if (!isWardenError(err) || err.status >= 500) throw err;
      card = noticeCard({ title: 'Not done', lines: [err.message], tone: 'error' });
    }
    await context.sendActivity(cardMessage(card));
  };

  return async (context) => {
    const { activity } = context;
    try {
      if (activity.type === ActivityTypes.Invoke && activity.name === 'adaptiveCard/action') {
        const body = await onExecute(context).catch((err: unknown) => {
          deps.logger.error({ err }, 'teams: approval click failed');
          return internalError;
        });
        await context.sendActivity({
          type: ActivityTypes.InvokeResponse,
          value: { status: 200, body },
        });
      } else if (activity.type === ActivityTypes.Message && isApprovalSubmit(activity)) {
        await onSubmit(context);
      } else if (activity.type === ActivityTypes.Message && activity.text) {
        await onCommand(context);
      }
    } catch (err) {
      deps.logger.error({ err, type: activity.type }, 'teams: turn failed');
      if (activity.type === ActivityTypes.Message) {
        await context
          .sendActivity('Warden could not handle this: an internal error occurred.')
          .catch((e: unknown) => deps.logger.warn({ err: e }, 'teams: could not say so'));
      }
    }
  };
}

const internalError: ActionResponse = {
  statusCode: 500,
  type: 'application/vnd.microsoft.error',
  value: { code: 'InternalError', message: 'An internal error occurred.' },
};

function answerCard(answer: CommandAnswer, render: RenderOptions): object {
  switch (answer.kind) {
    case 'notice':
      return noticeCard(answer.view);
    case 'simulation':
      return simulationCard(answer.view);
    case 'run':
      return runSummaryCard(answer.view, render);
    case 'approvals':
      return approvalsListCard(answer.view);
  }
}
