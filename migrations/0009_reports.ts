/**
 * Trust Reports and their delivery: the rendered artifacts (kept, so a secure link can serve them),
 * the delivery outbox (one row per report and target, retried with back-off), secure links, and the
 * key that signs them.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reports', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('week').notNullable();
    t.text('format').notNullable();
    t.text('content_type').notNullable();
    t.text('sha256').notNullable();
    t.integer('size').notNullable();
    t.binary('body').notNullable();
    t.text('audience').notNullable();
    /** `schedule` or `manual`: a scheduled week is generated once across replicas. */
    t.text('origin').notNullable();
    t.text('receipt_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['tenant_id', 'week']);
  });
  await knex.raw(
    `create unique index reports_scheduled_once on reports (tenant_id, week) where origin = 'schedule'`,
  );
  await knex.schema.createTable('report_deliveries', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('report_id').notNullable().references('reports.id');
    /** Which configured target: `deliver[0]`, `alternate`. */
    t.text('target').notNullable();
    t.text('status').notNullable(); // pending | delivered | failed
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    t.text('last_error');
    t.text('location');
    t.integer('latency_ms');
    t.text('alternate_for');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['status', 'next_attempt_at']);
    t.index(['tenant_id', 'report_id']);
  });
  await knex.schema.createTable('report_links', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('report_id').notNullable().references('reports.id');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('link_keys', (t) => {
    t.text('id').primary();
    t.text('key').notNullable(); // base64, 32 random bytes; HMAC-SHA256 of secure links
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['link_keys', 'report_links', 'report_deliveries', 'reports']) {
    await knex.schema.dropTable(table);
  }
}
