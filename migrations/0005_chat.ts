/** Chat: where each run's thread and each approval card live on each platform, for updates. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('chat_messages', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('run_id').notNullable().references('runs.id');
    t.text('platform').notNullable().checkIn(['slack', 'teams'], 'chat_messages_platform_check');
    /** `thread` (the run summary that starts the thread) or `approval` (a card, by ticket id). */
    t.text('kind').notNullable().checkIn(['thread', 'approval'], 'chat_messages_kind_check');
    t.text('key').notNullable().defaultTo('');
    t.text('channel').notNullable();
    t.text('message_id').notNullable();
    t.text('service_url');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'run_id', 'platform', 'kind', 'key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('chat_messages');
}
