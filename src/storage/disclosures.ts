/**
 * Disclosure storage: the private fields of receipts, beside them, tenant-scoped. They are
 * written with their receipts by `insertChained` (receipts.ts).
 */
import type { Knex } from 'knex';

export interface DisclosureRow {
  seq: number;
  receipt_id: string;
  name: string;
  disclosure: string;
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
