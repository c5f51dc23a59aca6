/**
 * Teams activity: what Warden reads from an inbound Bot Framework activity (the verified identity, a
 * command's text, an Approve/Reject click) and the shape of an outbound card message.
 */
import type { Activity } from 'botbuilder';
import type { ChatIdentity } from '../port.js';

export const adaptiveCardType = 'application/vnd.microsoft.card.adaptive';

/** An identity Warden can act for, or the sentence saying why not. */
type TeamsCaller = { identity: ChatIdentity } | { refused: string };

/**
 * The caller of an activity: the AAD object id (never the display name or the text) and the AAD
 * tenant. Guests without an object id and activities without a tenant are refused.
 * @example
 * const caller = callerOf(context.activity);
 * if ('refused' in caller) return reply(caller.refused);
 */
export function callerOf(activity: Partial<Activity>): TeamsCaller {
  const aadObjectId = activity.from?.aadObjectId;
  if (!aadObjectId) {
    return {
      refused: 'Your Teams account has no Entra ID object id, so Warden cannot identify you.',
    };
  }
  const channelData = activity.channelData as { tenant?: { id?: unknown } } | undefined;
  const tenantId = activity.conversation?.tenantId ?? channelData?.tenant?.id;
  if (typeof tenantId !== 'string' || tenantId === '') {
    return { refused: 'This Teams activity names no tenant, so Warden cannot tell whose it is.' };
  }
  return {
    identity: {
      platform: 'teams',
      actor: `teams:${aadObjectId}`,
      workspace: tenantId,
      name: activity.from?.name,
    },
  };
}

/**
 * The command in a message: `<at>…</at>` mentions and an optional `playbook` prefix removed.
 * @example
 * commandText('<at>Warden</at> playbook simulate restart-ingest shard=7'); // 'simulate restart-ingest shard=7'
 */
export function commandText(text: string | undefined): string {
  return (text ?? '')
    .replace(/<at>.*?<\/at>/gis, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\/?playbook(\s+|$)/i, '');
}

export type ApprovalClick = { verb: 'approve' | 'reject'; ticket: string };

/**
 * An Approve/Reject click: an `adaptiveCard/action` invoke (Action.Execute) or the Action.Submit
 * fallback (a message whose value is `{ warden: 'approval', verb, ticket }`). Undefined otherwise.
 */
export function approvalClick(activity: Partial<Activity>): ApprovalClick | undefined {
  const value = activity.value as Record<string, unknown> | undefined;
  if (activity.type === 'invoke' && activity.name === 'adaptiveCard/action') {
    const action = value?.action as { verb?: unknown; data?: { ticket?: unknown } } | undefined;
    return click(action?.verb, action?.data?.ticket);
  }
  if (activity.type === 'message' && value?.warden === 'approval') {
    return click(value.verb, value.ticket);
  }
  return undefined;
}

function click(verb: unknown, ticket: unknown): ApprovalClick | undefined {
  if (verb !== 'approve' && verb !== 'reject') return undefined;
  if (typeof ticket !== 'string' || ticket === '' || ticket.length > 200) return undefined;
  return { verb, ticket };
}

/** Is the activity an Action.Submit fallback aimed at Warden (whether or not it is well formed)? */
export function isApprovalSubmit(activity: Partial<Activity>): boolean {
  const value = activity.value as { warden?: unknown } | undefined;
  return activity.type === 'message' && value?.warden === 'approval';
}

/** A message carrying one Adaptive Card. */
export function cardMessage(card: object): Partial<Activity> {
  return { type: 'message', attachments: [{ contentType: adaptiveCardType, content: card }] };
}
