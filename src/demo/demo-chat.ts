/**
 * Demo chat: the demo target's chat sink stands in for acme's Teams channel. This module reads what
 * Warden posted there (run threads, approval cards) and plays the on-call engineer who clicks
 * Approve on a card — an `adaptiveCard/action` invoke posted to Warden's `/teams/messages`, exactly
 * as Teams sends it. Without TEAMS_APP_ID Warden takes such activities on loopback only, which is
 * where the demo runs.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WardenError } from '../errors.js';

/** The demo config's Teams tenant, channel and the on-call in groups oncall-ingest/-billing. */
export const demoTeams = {
  tenantId: 'demo-teams-tenant',
  channel: '19:acme-ops@thread.tacv2',
  oncall: 'aad-demo-oncall',
} as const;

export interface SinkMessage {
  seq: number;
  id: string;
  call: 'send' | 'reply' | 'update';
  conversationId: string;
  activityId: string | null;
  text: string;
  actions: Array<{ verb: string; title: string; data: unknown }>;
}

export interface DemoChat {
  /** The sink's page a person can open. */
  url: string;
  messages(): Promise<SinkMessage[]>;
  /** The approval card of `ticket` once Warden has posted it (waits up to 15 s). */
  cardOf(ticket: string): Promise<SinkMessage>;
  /**
   * Clicks `verb` on the card as the on-call; resolves to the message Warden answered the click
   * with (a refusal is a sentence starting "Not allowed").
   */
  click(card: SinkMessage, verb: 'approve' | 'reject'): Promise<string>;
}

const ticketOf = (data: unknown) =>
  typeof data === 'object' && data !== null ? (data as { ticket?: unknown }).ticket : undefined;

export function createDemoChat(opts: { targetUrl: string; wardenUrl: string }): DemoChat {
  const serviceUrl = `${opts.targetUrl}/chat/`;
  let sequence = 0;
  async function messages(): Promise<SinkMessage[]> {
    const res = await fetch(`${opts.targetUrl}/chat/messages`);
    if (!res.ok) throw new WardenError('not_ready', `The chat sink answered ${res.status}.`);
    return ((await res.json()) as { messages: SinkMessage[] }).messages;
  }
  return {
    url: `${opts.targetUrl}/chat`,
    messages,
    async cardOf(ticket) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = (await messages()).find(
          (m) => m.call !== 'update' && m.actions.some((a) => ticketOf(a.data) === ticket),
        );
        if (found) return found;
        if (Date.now() > deadline) {
          throw new WardenError(
            'not_ready',
            `No approval card for ticket ${ticket} reached the chat sink within 15 s. Is acme's chat.teams pointing at ${serviceUrl}?`,
          );
        }
        await sleep(200);
      }
    },
    async click(card, verb) {
      const action = card.actions.find((a) => a.verb === verb);
      if (!action) throw new WardenError('invalid', `The card has no ${verb} button.`);
      const activity = {
        type: 'invoke',
        name: 'adaptiveCard/action',
        id: `demo-${Date.now()}-${++sequence}-${randomBytes(3).toString('hex')}`,
        timestamp: new Date().toISOString(),
        channelId: 'msteams',
        serviceUrl,
        from: { id: `29:${demoTeams.oncall}`, aadObjectId: demoTeams.oncall, name: 'Demo On-call' },
        conversation: {
          id: card.conversationId,
          conversationType: 'channel',
          isGroup: true,
          tenantId: demoTeams.tenantId,
        },
        recipient: { id: '28:warden-bot', name: 'Warden' },
        channelData: { tenant: { id: demoTeams.tenantId }, channel: { id: demoTeams.channel } },
        replyToId: card.id,
        value: { action: { type: 'Action.Execute', verb, data: action.data }, trigger: 'manual' },
      };
      const res = await fetch(`${opts.wardenUrl}/teams/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity),
      });
      const text = await res.text();
      if (res.status === 404) {
        throw new WardenError(
          'not_ready',
          'Warden does not serve /teams/messages: chat.teams is not configured for acme, or Warden listens on a non-loopback address without TEAMS_APP_ID.',
        );
      }
      if (!res.ok) throw new WardenError('invalid', `The click answered ${res.status}: ${text}`);
      const answer = JSON.parse(text) as { type?: string; value?: unknown };
      return typeof answer.value === 'string' ? answer.value : `${verb}d`;
    },
  };
}
