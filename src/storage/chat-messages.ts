/** Chat-message storage: the platform's reference of each run's thread and approval cards. */
import type { Knex } from 'knex';
import type { MessageRef, Platform } from '../chat/port.js';

export interface ChatKey {
  tenant: string;
  runId: string;
  platform: Platform;
  kind: 'thread' | 'approval';
  /** The ticket id for an approval card; '' for the thread. */
  key: string;
}

const where = (k: ChatKey) => ({
  tenant_id: k.tenant,
  run_id: k.runId,
  platform: k.platform,
  kind: k.kind,
  key: k.key,
});

export async function findChatMessage(knex: Knex, k: ChatKey): Promise<MessageRef | undefined> {
  const row = await knex('chat_messages')
    .where(where(k))
    .first('channel', 'message_id', 'service_url');
  if (!row) return undefined;
  return {
    platform: k.platform,
    channel: row.channel,
    id: row.message_id,
    ...(row.service_url ? { serviceUrl: row.service_url } : {}),
  };
}

/** Records where a message went; false if one was already recorded (another process posted). */
export async function saveChatMessage(knex: Knex, k: ChatKey, ref: MessageRef): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: unknown[] }>(
    `insert into chat_messages (tenant_id, run_id, platform, kind, key, channel, message_id, service_url)
     values (?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing returning key`,
    [k.tenant, k.runId, k.platform, k.kind, k.key, ref.channel, ref.id, ref.serviceUrl ?? null],
  );
  return rows.length === 1;
}
