/**
 * Retention: when each trigger's and run's content was purged (so a purge never lists a row twice),
 * and the id lists behind every signed purge manifest, kept append-only so that an auditor can
 * recompute the manifest's `idsDigest` values.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  for (const table of ['triggers', 'runs']) {
    await knex.schema.alterTable(table, (t) => {
      t.timestamp('purged_at', { useTz: true });
    });
  }
  await knex.schema.createTable('purge_manifests', (t) => {
    /** The `retention.purged` receipt this manifest is the id list of. */
    t.text('receipt_id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    /** `{ manifest, ids: { <category>: [id, …] } }`. */
    t.jsonb('body').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['tenant_id', 'created_at']);
  });
  // warden_refuse_log_change comes from 0006: the evidence of a deletion is never rewritten.
  await knex.raw(`
    create trigger purge_manifests_append_only before update or delete on purge_manifests
    for each row execute function warden_refuse_log_change()`);
  await knex.raw(`
    create trigger purge_manifests_no_truncate before truncate on purge_manifests
    for each statement execute function warden_refuse_log_change()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('purge_manifests');
  for (const table of ['triggers', 'runs']) {
    await knex.schema.alterTable(table, (t) => t.dropColumn('purged_at'));
  }
}
