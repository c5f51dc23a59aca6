/**
 * Anchoring: each tenant's RFC 9162 Merkle log over its receipts (leaf i = receipt seq i+1). Only
 * the hashes of complete subtrees are stored (level L, index i covers leaves [i·2^L, (i+1)·2^L)),
 * so any proof needs O(log n) rows; plus the anchored size and every signed checkpoint.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('merkle_nodes', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.integer('level').notNullable();
    t.bigInteger('idx').notNullable();
    t.binary('hash').notNullable();
    t.primary(['tenant_id', 'level', 'idx']);
  });
  await knex.schema.createTable('merkle_heads', (t) => {
    t.text('tenant_id').primary().references('tenants.id');
    t.bigInteger('size').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('checkpoints', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.bigInteger('size').notNullable();
    t.binary('root').notNullable();
    t.text('note').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'size']);
  });
  // The log is append-only: stored subtree hashes and checkpoints are never rewritten.
  await knex.raw(`
    create function warden_refuse_log_change() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only: % refused', tg_table_name, tg_op
        using errcode = 'restrict_violation';
    end $$`);
  for (const table of ['merkle_nodes', 'checkpoints']) {
    await knex.raw(`
      create trigger ${table}_append_only before update or delete on ${table}
      for each row execute function warden_refuse_log_change()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['checkpoints', 'merkle_heads', 'merkle_nodes']) {
    await knex.schema.dropTable(table);
  }
  await knex.raw('drop function warden_refuse_log_change()');
}
