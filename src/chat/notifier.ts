/**
 * Notifier: tells each tenant's chat about its runs, from the receipts this process commits. The
 * first receipt of a run starts its thread with the run summary; every receipt is a reply in it;
 * an approval request posts the card in the thread, a decision or expiry updates it in place, and
 * the run's end updates the summary. Work is serialised per run (replies stay in order); a
 * platform's failure is logged and never touches the run.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import { WardenError } from '../errors.js';
import type { ReceiptListener } from '../ledger/ledger.js';
import type { Receipt } from '../ledger/receipt.js';
import { getApproval } from '../storage/approvals.js';
import { findChatMessage, saveChatMessage } from '../storage/chat-messages.js';
import type { ChatChannel, ChatDestination, MessageRef, Platform } from './port.js';
import { approvalView, receiptLine, runSummaryView } from './view-builders.js';
import type { NoticeView, ReportLinkView } from './views.js';

export interface ChatNotifier {
  /** Subscribe it to the ledger: `ledger.subscribe(notifier.onReceipts)`. */
  onReceipts: ReceiptListener;
  /** Resolves when everything told so far has been posted (tests, shutdown). */
  drain(): Promise<void>;
  /**
   * Posts a Trust Report's secure link into each of the tenant's channels; the platforms posted to.
   * Throws when the tenant has no channel, or a platform refuses (its error says if retrying helps).
   */
  postReportLink(tenant: string, view: ReportLinkView): Promise<Platform[]>;
  /** Posts a notice (an internal alert) into each of the tenant's channels; none configured: no-op. */
  postNotice(tenant: string, view: NoticeView): Promise<Platform[]>;
  /**
   * Posts a playbook's message (`chat.notify`) into the run's thread — or, with `channel`, into
   * that channel of the tenant's workspace — in order with the run's other posts; the platforms it
   * reached (none when the tenant has no chat).
   */
  postRunMessage(
    tenant: string,
    runId: string,
    message: { text: string; channel?: string | undefined },
  ): Promise<Platform[]>;
}

export function createChatNotifier(deps: {
  knex: Knex;
  tenants: readonly TenantConfig[];
  channels: Partial<Record<Platform, ChatChannel>>;
  logger: Logger;
}): ChatNotifier {
  const { knex } = deps;
  const destinations = new Map<string, Array<{ channel: ChatChannel; to: ChatDestination }>>();
  for (const t of deps.tenants) {
    const list: Array<{ channel: ChatChannel; to: ChatDestination }> = [];
    if (t.chat.slack && deps.channels.slack) {
      list.push({
        channel: deps.channels.slack,
        to: { platform: 'slack', channel: t.chat.slack.channel },
      });
    }
    if (t.chat.teams && deps.channels.teams) {
      list.push({
        channel: deps.channels.teams,
        to: {
          platform: 'teams',
          channel: t.chat.teams.conversationId,
          serviceUrl: t.chat.teams.serviceUrl,
        },
      });
    }
    if (list.length > 0) destinations.set(t.id, list);
  }
  const chains = new Map<string, Promise<void>>();
  /** Runs `work` after everything already queued for the run, so its posts stay in order. */
  function serial<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const result = (chains.get(runId) ?? Promise.resolve()).then(work);
    const next = result.then(
      () => undefined,
      () => undefined,
    );
    chains.set(runId, next);
    void next.then(() => {
      if (chains.get(runId) === next) chains.delete(runId);
    });
    return result;
  }

  async function thread(
    tenant: string,
    runId: string,
    d: { channel: ChatChannel; to: ChatDestination },
  ): Promise<MessageRef | undefined> {
    const key = { tenant, runId, platform: d.to.platform, kind: 'thread' as const, key: '' };
    const known = await findChatMessage(knex, key);
    if (known) return known;
    const view = await runSummaryView(knex, tenant, runId);
    if (!view) return undefined;
    const ref = await d.channel.postRunSummary(d.to, view);
    await saveChatMessage(knex, key, ref);
    return ref;
  }

  async function tell(
    tenant: string,
    receipt: Receipt,
    d: { channel: ChatChannel; to: ChatDestination },
  ): Promise<void> {
    const p = receipt.payload;
    const runId = p.run as string;
    const root = await thread(tenant, runId, d);
    if (!root) return;
    const approvalKey = (id: string) => ({
      tenant,
      runId,
      platform: d.to.platform,
      kind: 'approval' as const,
      key: id,
    });
    if (p.kind === 'approval.requested') {
      const ticket = await getApproval(knex, tenant, p.approval as string);
      if (ticket) {
        const ref = await d.channel.postApproval(root, await approvalView(knex, ticket));
        await saveChatMessage(knex, approvalKey(ticket.id), ref);
      }
      const view = await runSummaryView(knex, tenant, runId); // now awaiting approval
      if (view) await d.channel.updateRunSummary(root, view);
    } else if (p.kind === 'approval.decided' || p.kind === 'approval.expired') {
      const ticket = await getApproval(knex, tenant, p.approval as string);
      const ref = ticket ? await findChatMessage(knex, approvalKey(ticket.id)) : undefined;
      if (ticket && ref) await d.channel.updateApproval(ref, await approvalView(knex, ticket));
    } else if (p.kind === 'run.finished') {
      const view = await runSummaryView(knex, tenant, runId);
      if (view) await d.channel.updateRunSummary(root, view);
    }
    await d.channel.postReceipt(root, receiptLine(p, receipt.digest));
  }

  return {
    async postReportLink(tenant, view) {
      const list = destinations.get(tenant) ?? [];
      if (list.length === 0) {
        throw new WardenError(
          'config_invalid',
          `Tenant ${tenant} has no chat channel to post the report link to. Fix: set chat.slack or chat.teams, and the platform's credentials.`,
          { retryable: false },
        );
      }
      for (const d of list) await d.channel.postReportLink(d.to, view);
      return list.map((d) => d.to.platform);
    },
    async postNotice(tenant, view) {
      const list = destinations.get(tenant) ?? [];
      for (const d of list) await d.channel.postNotice(d.to, view);
      return list.map((d) => d.to.platform);
    },
    postRunMessage(tenant, runId, message) {
      const list = destinations.get(tenant) ?? [];
      const view: NoticeView = { title: 'From the playbook', lines: [message.text], tone: 'info' };
      return serial(runId, async () => {
        const reached: Platform[] = [];
        for (const d of list) {
          const to = message.channel
            ? { ...d.to, channel: message.channel }
            : await thread(tenant, runId, d);
          if (!to) continue;
          await d.channel.postNotice(to, view);
          reached.push(d.to.platform);
        }
        return reached;
      });
    },
    onReceipts(tenant, receipts) {
      const list = destinations.get(tenant);
      if (!list) return;
      for (const receipt of receipts) {
        const runId = receipt.payload.run;
        if (typeof runId !== 'string') continue;
        void serial(runId, async () => {
          for (const d of list) {
            await tell(tenant, receipt, d).catch((err: unknown) =>
              deps.logger.error(
                { err, tenant, run: runId, platform: d.to.platform, receipt: receipt.payload.id },
                'chat notification failed',
              ),
            );
          }
        });
      }
    },
    async drain() {
      while (chains.size > 0) await Promise.all(chains.values());
    },
  };
}
