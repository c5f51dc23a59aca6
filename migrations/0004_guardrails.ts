/**
 * Guardrails: kill switches, budget consumption (the sliding window and per-run totals), approval
 * tickets with their votes, who started each run, and why a playbook was disabled.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('kill_switches', (t) => {
    // `global:` + target '' for the operator's switch; `<scope>:<tenant>:<target>` otherwise.
    t.text('id').primary();
    t.text('scope')
      .notNullable()
      .checkIn(['global', 'tenant', 'playbook', 'plugin'], 'kill_switches_scope_check');
    t.text('tenant_id').references('tenants.id');
    t.text('target').notNullable();
    t.boolean('engaged').notNullable();
    t.text('actor').notNullable();
    t.text('reason');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('budget_usage', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('run_id').notNullable().references('runs.id');
    t.text('step_id').notNullable();
    t.text('playbook_name').notNullable();
    /** A write or destructive step: counted against actionsPerHour. */
    t.boolean('is_action').notNullable();
    t.jsonb('targets').notNullable();
    t.double('cost').notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['run_id', 'step_id']);
    t.index(['tenant_id', 'playbook_name', 'at']);
  });
  await knex.schema.createTable('approvals', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('run_id').notNullable().references('runs.id');
    t.text('step_id').notNullable();
    t.text('playbook_name').notNullable();
    t.text('input_digest').notNullable();
    /** What the chain said: `approval_required`, or an overridable `deny`. */
    t.text('outcome').notNullable();
    t.jsonb('reasons').notNullable();
    t.jsonb('next_steps').notNullable();
    t.jsonb('evidence').notNullable();
    t.jsonb('rollback');
    t.jsonb('approvers').notNullable();
    t.integer('min_approvals').notNullable();
    t.text('initiator').notNullable();
    t.text('status')
      .notNullable()
      .checkIn(['pending', 'approved', 'rejected', 'expired'], 'approvals_status_check');
    t.text('request_receipt_id');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('decided_at', { useTz: true });
    t.index(['tenant_id', 'status', 'created_at']);
    t.index(['status', 'expires_at']);
    t.index(['tenant_id', 'run_id']);
  });
  await knex.schema.createTable('approval_votes', (t) => {
    t.text('approval_id').notNullable().references('approvals.id');
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('actor').notNullable();
    t.text('decision')
      .notNullable()
      .checkIn(['approve', 'reject'], 'approval_votes_decision_check');
    t.text('comment');
    t.text('receipt_id').notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['approval_id', 'actor']);
  });
  await knex.schema.alterTable('runs', (t) => {
    /** `playbook:<name>` for triggered runs, `api:<token name>`, `slack:<user>` … for manual ones. */
    t.text('initiator');
  });
  await knex.schema.alterTable('playbooks', (t) => {
    t.text('disabled_reason');
    t.timestamp('disabled_at', { useTz: true });
    /** Breakers only count runs since the last re-enable. */
    t.timestamp('enabled_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('playbooks', (t) => {
    t.dropColumn('disabled_reason');
    t.dropColumn('disabled_at');
    t.dropColumn('enabled_at');
  });
  await knex.schema.alterTable('runs', (t) => t.dropColumn('initiator'));
  for (const table of ['approval_votes', 'approvals', 'budget_usage', 'kill_switches']) {
    await knex.schema.dropTable(table);
  }
}
