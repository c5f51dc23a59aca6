/**
 * ChatChannel for Slack: a run's thread is its summary message; approval cards, receipts and notices
 * are replies (`thread_ts`); cards and summaries are updated in place with `chat.update`.
 */
import type { App } from '@slack/bolt';
import { WardenError } from '../../errors.js';
import type { ChatChannel, ChatDestination, MessageRef } from '../port.js';
import type { SlackMessage } from './blocks.js';
import { slackCall } from './slack-call.js';
import type { SlackRender } from './slack-render.js';

type SlackClient = App['client'];

/**
 * @example
 * const channel = createSlackChannel({ client: app.client, render: createSlackRender(baseUrl) });
 * const thread = await channel.postRunSummary({ platform: 'slack', channel: 'C0OPS' }, summary);
 * await channel.postApproval(thread, card);
 */
export function createSlackChannel(deps: {
  client: SlackClient;
  render: SlackRender;
}): ChatChannel {
  const { client, render } = deps;

  async function post(
    channel: string,
    message: SlackMessage,
    threadTs?: string,
  ): Promise<MessageRef> {
    const res = await slackCall('chat.postMessage', () =>
      client.chat.postMessage({
        channel,
        ...message,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        unfurl_links: false,
      }),
    );
    if (!res.ts) {
      throw new WardenError('internal', 'Slack chat.postMessage answered without a ts.', {
        retryable: true,
      });
    }
    return { platform: 'slack', channel: res.channel ?? channel, id: res.ts };
  }

  async function update(ref: MessageRef, message: SlackMessage) {
    await slackCall('chat.update', () =>
      client.chat.update({ channel: ref.channel, ts: ref.id, ...message }),
    );
  }

  return {
    platform: 'slack',
    postRunSummary: (to, view) => post(to.channel, render.runSummary(view)),
    updateRunSummary: (ref, view) => update(ref, render.runSummary(view)),
    postApproval: (thread, view) => post(thread.channel, render.approval(view), thread.id),
    updateApproval: (ref, view) => update(ref, render.approval(view)),
    postReceipt: async (thread, view) => {
      await post(thread.channel, render.receipt(view), thread.id);
    },
    postReportLink: (to, view) => post(to.channel, render.reportLink(view)),
    postNotice: async (where, view) => {
      await post(where.channel, render.notice(view), isMessageRef(where) ? where.id : undefined);
    },
  };
}

function isMessageRef(where: MessageRef | ChatDestination): where is MessageRef {
  return typeof (where as MessageRef).id === 'string';
}
