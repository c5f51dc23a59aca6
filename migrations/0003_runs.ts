/** Playbook versions (immutable, by digest), the current version per playbook, runs and steps. */
import type { Knex } from 'knex';

const runStatuses = [
  'queued',
  'running',
  'awaiting_approval',
  'succeeded',
  'failed',
  'denied',
  'cancelled',
];
const stepStatuses = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'denied',
  'unknown',
  'rolled_back',
  'skipped',
];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('playbook_versions', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('name').notNullable();
    t.integer('version').notNullable();
    t.text('digest').notNullable();
    t.jsonb('definition').notNullable();
    t.text('source_file');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'name', 'version']);
    t.unique(['tenant_id', 'name', 'digest']);
  });
  await knex.schema.createTable('playbooks', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('name').notNullable();
    t.text('current_version_id').notNullable().references('playbook_versions.id');
    t.boolean('disabled').notNullable().defaultTo(false);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'name']);
  });
  await knex.schema.createTable('runs', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('playbook_version_id').notNullable().references('playbook_versions.id');
    t.text('playbook_name').notNullable();
    t.text('trigger_id').references('triggers.id');
    t.text('status').notNullable().checkIn(runStatuses, 'runs_status_check');
    t.jsonb('context').notNullable();
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['tenant_id', 'created_at']);
    t.index(['tenant_id', 'status']);
  });
  await knex.schema.createTable('run_steps', (t) => {
    t.text('run_id').notNullable().references('runs.id');
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('step_id').notNullable();
    t.integer('position').notNullable();
    t.text('uses').notNullable();
    t.text('status').notNullable().checkIn(stepStatuses, 'run_steps_status_check');
    t.jsonb('decision');
    t.jsonb('plan');
    t.text('input_digest');
    t.jsonb('output');
    t.text('output_digest');
    t.text('error');
    t.timestamp('claimed_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.integer('duration_ms');
    t.text('receipt_id');
    t.primary(['run_id', 'step_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['run_steps', 'runs', 'playbooks', 'playbook_versions']) {
    await knex.schema.dropTable(table);
  }
}
