/** Disclosure storage: the private fields of receipts, beside them, tenant-scoped. */
import type { Knex } from 'knex';

export interface DisclosureRow {
  seq: number;
  receipt_id: string;
  name: string;
  disclosure: string;
}

/** Inserts a batch's Disclosures as one JSON parameter (as insertReceipts does). */
export async function insertDisclosures(
  trx: Knex.Transaction,
  tenant: string,
  rows: DisclosureRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await trx.raw(
    `insert into receipt_disclosures (tenant_id, seq, receipt_id, name, disclosure)
     select ?, r.seq, r.receipt_id, r.name, r.disclosure
     from jsonb_to_recordset(?::jsonb) as r(seq bigint, receipt_id text, name text, disclosure text)`,
    [tenant, JSON.stringify(rows)],
  );
}

/** The Disclosures of the tenant's receipts with `seq` in [from, to], limited to `names` if given. */
export async function disclosuresBetween(
  knex: Knex,
  tenant: string,
  from: number,
  to: number,
  names?: readonly string[],
): Promise<DisclosureRow[]> {
  const rows = await knex('receipt_disclosures')
    .where({ tenant_id: tenant })
    .andWhere('seq', '>=', from)
    .andWhere('seq', '<=', to)
    .modify((q) => {
      if (names) q.whereIn('name', [...names]);
    })
    .orderBy([{ column: 'seq' }, { column: 'name' }])
    .select<DisclosureRow[]>('seq', 'receipt_id', 'name', 'disclosure');
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
