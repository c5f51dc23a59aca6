/** Triggers: every alert, event and schedule tick that reached Warden, deduplicated per tenant. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('triggers', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('source').notNullable();
    t.text('kind').notNullable().checkIn(['alert', 'event', 'cron'], 'triggers_kind_check');
    t.text('status')
      .notNullable()
      .checkIn(['firing', 'resolved', 'received', 'fired'], 'triggers_status_check');
    t.text('fingerprint');
    t.text('dedup_key').notNullable();
    t.jsonb('labels').notNullable();
    t.jsonb('annotations').notNullable();
    t.timestamp('starts_at', { useTz: true });
    t.timestamp('ends_at', { useTz: true });
    t.text('event_type');
    t.jsonb('data');
    t.jsonb('links').notNullable();
    t.jsonb('delivery').notNullable();
    t.text('body_digest').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.text('resolves').references('triggers.id');
    t.text('receipt_id').notNullable();
    t.unique(['tenant_id', 'dedup_key']);
    t.index(['tenant_id', 'received_at']);
  });
  // A resolved notification finds the firing trigger it ends through this index.
  await knex.raw(
    `create index triggers_firing on triggers (tenant_id, source, fingerprint, starts_at)
     where status = 'firing'`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('triggers');
}
