/** Newest receipts of a tenant, optionally of one kind (the pack's samples and latest evidence). */
import type { Knex } from 'knex';
import type { Receipt } from '../ledger/receipt.js';
import { rowToReceipt } from '../storage/receipts.js';

/**
 * @example
 * const [denial] = await latestReceipts(knex, 'acme', { kind: 'step.denied', limit: 1 });
 */
export async function latestReceipts(
  knex: Knex,
  tenant: string,
  q: { kind?: string; limit: number },
): Promise<Receipt[]> {
  const rows = await knex('receipts')
    .where({ tenant_id: tenant })
    .modify((query) => {
      if (q.kind !== undefined) query.andWhere({ kind: q.kind });
    })
    .orderBy('seq', 'desc')
    .limit(q.limit)
    .select('body', 'digest', 'key_id', 'sig');
  return rows.map(rowToReceipt);
}

/** The PEM of one signing key, from `signing_keys`. */
export async function publicKeyPem(knex: Knex, keyId: string): Promise<string | undefined> {
  const row = await knex('signing_keys').where({ key_id: keyId }).first('public_key_pem');
  return row?.public_key_pem;
}
