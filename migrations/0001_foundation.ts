/** Tenants, API tokens, signing keys and the append-only receipt ledger with its per-tenant head. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenants', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('tier').notNullable().checkIn(['free', 'pro', 'enterprise'], 'tenants_tier_check');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('api_tokens', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('name').notNullable();
    t.text('scope').notNullable().checkIn(['ingest', 'read', 'admin'], 'api_tokens_scope_check');
    t.text('token_hash').notNullable().unique();
    t.text('source').notNullable().checkIn(['config', 'cli'], 'api_tokens_source_check');
    t.boolean('loopback_only').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });
  await knex.raw(
    'create unique index api_tokens_live_name on api_tokens (tenant_id, name) where revoked_at is null',
  );

  await knex.schema.createTable('signing_keys', (t) => {
    t.text('key_id').primary();
    t.text('alg').notNullable();
    t.text('public_key_pem').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // One row per tenant: the chain head. Appenders lock it (SELECT … FOR UPDATE), which serialises
  // appends of a tenant across connections and processes.
  await knex.schema.createTable('ledger_heads', (t) => {
    t.text('tenant_id').primary().references('tenants.id');
    t.bigInteger('seq').notNullable();
    t.text('digest');
  });

  await knex.schema.createTable('receipts', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.bigInteger('seq').notNullable();
    t.text('id').notNullable().unique();
    t.text('kind').notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('run_id');
    // The exact RFC 8785 bytes that were digested and signed; never re-serialised.
    t.text('body').notNullable();
    t.text('digest').notNullable();
    t.text('key_id').notNullable().references('signing_keys.key_id');
    t.text('sig').notNullable();
    t.primary(['tenant_id', 'seq']);
    t.index(['tenant_id', 'kind', 'seq']);
    t.index(['tenant_id', 'at']);
    t.index(['tenant_id', 'run_id']);
  });

  await knex.raw(`
    create function warden_refuse_receipt_change() returns trigger language plpgsql as $$
    begin
      raise exception 'receipts are append-only: % refused', tg_op using errcode = 'restrict_violation';
    end $$`);
  await knex.raw(`
    create trigger receipts_append_only before update or delete on receipts
    for each row execute function warden_refuse_receipt_change()`);
  await knex.raw(`
    create trigger receipts_no_truncate before truncate on receipts
    for each statement execute function warden_refuse_receipt_change()`);
}

export async function down(): Promise<void> {
  throw new Error('0001_foundation cannot be rolled back: receipts are append-only');
}
