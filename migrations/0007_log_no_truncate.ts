/** The Merkle log refuses TRUNCATE too, as the receipts do (0006 refused only UPDATE and DELETE). */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  for (const table of ['merkle_nodes', 'checkpoints']) {
    await knex.raw(`
      create trigger ${table}_no_truncate before truncate on ${table}
      for each statement execute function warden_refuse_log_change()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['merkle_nodes', 'checkpoints']) {
    await knex.raw(`drop trigger ${table}_no_truncate on ${table}`);
  }
}
