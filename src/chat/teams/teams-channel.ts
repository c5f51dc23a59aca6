/**
 * Teams channel: the ChatChannel port over the Bot Framework connector, proactively, to the
 * tenant's conversation at its serviceUrl. A run's thread is its summary post: replies go to the
 * threaded conversation id `<conversation>;messageid=<root activity id>` with sendToConversation
 * (POST …/v3/conversations/{id}/activities), the form Teams threads on; replyToActivity is not used
 * for threads because Teams posts it as a new message (botframework-sdk#6626).
 */
import type { Activity, CloudAdapter, ConversationReference } from 'botbuilder';
import { WardenError } from '../../errors.js';
import type { ChatChannel, ChatDestination, MessageRef } from '../port.js';
import { approvalCard, noticeCard, receiptCard, reportLinkCard, runSummaryCard } from './cards.js';
import { cardMessage } from './teams-activity.js';

/** The part of botframework-connector's ConnectorClient this channel uses. */
interface Conversations {
  sendToConversation(conversationId: string, activity: Partial<Activity>): Promise<{ id?: string }>;
  updateActivity(
    conversationId: string,
    activityId: string,
    activity: Partial<Activity>,
  ): Promise<{ id?: string }>;
}

export interface TeamsChannelOptions {
  adapter: CloudAdapter;
  /** Empty or absent: outbound calls carry no Authorization header (local runs, tests). */
  appId?: string | undefined;
  track: <T>(work: Promise<T>) => Promise<T>;
  /** Warden's public base URL, for relative links in cards. */
  baseUrl?: string | undefined;
}

/** The threaded conversation id of a thread root; a ref already in a thread stays in it. */
function threadOf(thread: MessageRef): string {
  return thread.channel.includes(';messageid=')
    ? thread.channel
    : `${thread.channel};messageid=${thread.id}`;
}

function serviceUrlOf(target: MessageRef | ChatDestination): string {
  if (target.platform !== 'teams') {
    throw new WardenError('invalid', `A ${target.platform} destination was given to Teams.`);
  }
  if (!target.serviceUrl) {
    throw new WardenError(
      'invalid',
      'A Teams destination needs its serviceUrl (chat.teams.serviceUrl).',
    );
  }
  return target.serviceUrl;
}

/**
 * @example
 * const channel = createTeamsChannel({ adapter, appId, track });
 * const thread = await channel.postRunSummary({ platform: 'teams', channel: convId, serviceUrl }, view);
 */
export function createTeamsChannel(opts: TeamsChannelOptions): ChatChannel {
  const render = { baseUrl: opts.baseUrl };
  /** Runs `call` with a connector client for serviceUrl, authenticated as the app (if any). */
  const withConnector = async <T>(
    serviceUrl: string,
    conversationId: string,
    call: (conversations: Conversations) => Promise<T>,
  ): Promise<T> => {
    const reference: Partial<ConversationReference> = {
      channelId: 'msteams',
      serviceUrl,
      conversation: { id: conversationId, isGroup: true, conversationType: 'channel', name: '' },
    };
    // Errors are caught inside the turn: an adapter's onTurnError would otherwise swallow them.
    const box: { outcome?: { value: T } | { error: unknown } } = {};
    try {
      await opts.track(
        opts.adapter.continueConversationAsync(opts.appId ?? '', reference, async (ctx) => {
          const client = ctx.turnState.get(ctx.adapter.ConnectorClientKey) as {
            conversations: Conversations;
          };
          box.outcome = await call(client.conversations).then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          );
        }),
      );
    } catch (error) {
      box.outcome = { error };
    }
    const outcome = box.outcome ?? { error: new Error('the proactive turn did not run') };
    if ('value' in outcome) return outcome.value;
    const status = (outcome.error as { statusCode?: unknown }).statusCode;
    throw new WardenError(
      'internal',
      `Teams did not accept the message (${typeof status === 'number' ? `HTTP ${status}` : 'no answer'}).`,
      {
        cause: outcome.error,
        retryable: typeof status !== 'number' || status === 429 || status >= 500,
      },
    );
  };

  const send = async (
    target: MessageRef | ChatDestination,
    conversationId: string,
    card: object,
  ): Promise<MessageRef> => {
    const serviceUrl = serviceUrlOf(target);
    const sent = await withConnector(serviceUrl, conversationId, (c) =>
      c.sendToConversation(conversationId, cardMessage(card)),
    );
    if (!sent.id) throw new WardenError('internal', 'Teams answered without an activity id.');
    return { platform: 'teams', channel: conversationId, id: sent.id, serviceUrl };
  };

  const update = async (ref: MessageRef, card: object): Promise<void> => {
    await withConnector(serviceUrlOf(ref), ref.channel, (c) =>
      c.updateActivity(ref.channel, ref.id, { ...cardMessage(card), id: ref.id }),
    );
  };

  return {
    platform: 'teams',
    postRunSummary: (to, view) => send(to, to.channel, runSummaryCard(view, render)),
    updateRunSummary: (ref, view) => update(ref, runSummaryCard(view, render)),
    postApproval: (thread, view) => send(thread, threadOf(thread), approvalCard(view, render)),
    updateApproval: (ref, view) => update(ref, approvalCard(view, render)),
    postReceipt: async (thread, view) => {
      await send(thread, threadOf(thread), receiptCard(view));
    },
    postReportLink: (to, view) => send(to, to.channel, reportLinkCard(view, render)),
    postNotice: async (target, view) => {
      const conversationId = 'id' in target ? threadOf(target) : target.channel;
      await send(target, conversationId, noticeCard(view));
    },
  };
}
