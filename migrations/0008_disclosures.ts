/**
 * Disclosures of receipts' private fields (SD-JWT style, src/ledger/disclosure.ts). Unlike receipts they
 * may be deleted (erasure): the receipt keeps only the salted digest, so it still verifies.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('receipt_disclosures', (t) => {
    t.text('tenant_id').notNullable();
    t.bigInteger('seq').notNullable();
    t.text('receipt_id').notNullable();
    t.text('name').notNullable();
    t.text('disclosure').notNullable();
    t.primary(['tenant_id', 'seq', 'name']);
    t.foreign(['tenant_id', 'seq']).references(['tenant_id', 'seq']).inTable('receipts');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('receipt_disclosures');
}
