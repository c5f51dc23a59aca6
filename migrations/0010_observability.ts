/**
 * Observability: each tenant's MTTM baseline (the incidents it was computed from, imported from a CSV
 * or taken from resolved alerts before playbooks ran) and the state of its internal alert rules.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('mttm_baselines', (t) => {
    t.text('tenant_id').primary().references('tenants.id');
    t.text('source').notNullable().checkIn(['import', 'compute'], 'mttm_baselines_source_check');
    /** Hex SHA-256 of the imported file; null for a computed baseline. */
    t.text('sha256');
    t.text('file_name');
    t.integer('incidents').notNullable();
    t.timestamp('window_from', { useTz: true }).notNullable();
    t.timestamp('window_to', { useTz: true }).notNullable();
    t.text('receipt_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('baseline_incidents', (t) => {
    t.text('tenant_id').notNullable().references('mttm_baselines.tenant_id').onDelete('CASCADE');
    t.integer('position').notNullable();
    /** The CSV line the incident came from; null for a computed baseline. */
    t.integer('line');
    t.text('alertname').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('mitigated_at', { useTz: true }).notNullable();
    t.primary(['tenant_id', 'position']);
    t.index(['tenant_id', 'alertname']);
  });
  await knex.schema.createTable('internal_alerts', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('rule').notNullable();
    t.text('state').notNullable().checkIn(['firing', 'clear'], 'internal_alerts_state_check');
    /** When the rule entered its state. */
    t.timestamp('since', { useTz: true }).notNullable();
    /** The value at the last evaluation. */
    t.double('value').notNullable();
    t.double('threshold').notNullable();
    /** While firing: since when the value has been below the clear threshold (null: it is not). */
    t.timestamp('below_since', { useTz: true });
    /** The `alert.fired` / `alert.cleared` receipt of the last transition. */
    t.text('receipt_id');
    t.timestamp('last_evaluated', { useTz: true }).notNullable();
    t.primary(['tenant_id', 'rule']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['internal_alerts', 'baseline_incidents', 'mttm_baselines']) {
    await knex.schema.dropTable(table);
  }
}
