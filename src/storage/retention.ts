/**
 * Retention storage: finds a tenant's content older than a cutoff, purges it in batches (trigger and
 * run content nulled, Disclosures deleted) and keeps the id lists of signed purge manifests.
 * Receipts, their hashes and the Merkle log are never touched.
 */
import type { Knex } from 'knex';

/** Ids read, and rows changed, per statement. */
const batchSize = 1000;

const terminalRuns = ['succeeded', 'failed', 'denied', 'cancelled'];

/** Serialises purges of one tenant (until the transaction ends); appends are not blocked. */
export async function lockPurge(trx: Knex.Transaction, tenant: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`warden:purge:${tenant}`]);
}

/** Ids of the tenant's triggers received before `cutoff` whose content is still stored. */
export async function purgeableTriggers(knex: Knex, tenant: string, cutoff: Date) {
  return pageIds(knex, 'triggers', (q) =>
    q.where({ tenant_id: tenant }).whereNull('purged_at').andWhere('received_at', '<', cutoff),
  );
}

/** Ids of the tenant's finished runs that ended before `cutoff` whose details are still stored. */
export async function purgeableRuns(knex: Knex, tenant: string, cutoff: Date) {
  return pageIds(knex, 'runs', (q) =>
    q
      .where({ tenant_id: tenant })
      .whereNull('purged_at')
      .whereIn('status', terminalRuns)
      .andWhereRaw('coalesce(finished_at, created_at) < ?', [cutoff]),
  );
}

export interface DisclosureKey {
  seq: number;
  receiptId: string;
  name: string;
}

/** The Disclosures of the tenant's receipts made before `cutoff`, in (seq, name) order. */
export async function purgeableDisclosures(
  knex: Knex,
  tenant: string,
  cutoff: Date,
): Promise<DisclosureKey[]> {
  const keys: DisclosureKey[] = [];
  let after: { seq: number; name: string } = { seq: 0, name: '' };
  for (;;) {
    const rows: Array<{ seq: string | number; receipt_id: string; name: string }> = await knex(
      'receipt_disclosures as d',
    )
      .join('receipts as r', function () {
        this.on('r.tenant_id', 'd.tenant_id').andOn('r.seq', 'd.seq');
      })
      .where('d.tenant_id', tenant)
      .andWhere('r.at', '<', cutoff)
      .andWhereRaw('(d.seq, d.name) > (?, ?)', [after.seq, after.name])
      .orderBy([{ column: 'd.seq' }, { column: 'd.name' }])
      .limit(batchSize)
      .select('d.seq', 'd.receipt_id', 'd.name');
    for (const r of rows) keys.push({ seq: Number(r.seq), receiptId: r.receipt_id, name: r.name });
    const last = keys.at(-1);
    if (rows.length < batchSize || !last) return keys;
    after = last;
  }
}

/** Empties the raw content of triggers; id, kind, fingerprint, digests and times stay. */
export async function purgeTriggerContent(
  trx: Knex.Transaction,
  tenant: string,
  ids: readonly string[],
): Promise<void> {
  for (const chunk of chunks(ids)) {
    await trx('triggers').where({ tenant_id: tenant }).whereIn('id', chunk).update({
      labels: '{}',
      annotations: '{}',
      data: null,
      links: '{}',
      delivery: '{}',
      purged_at: trx.fn.now(),
    });
  }
}

/** Empties runs' context and error and their steps' inputs (plans), outputs and errors. */
export async function purgeRunDetails(
  trx: Knex.Transaction,
  tenant: string,
  ids: readonly string[],
): Promise<void> {
  for (const chunk of chunks(ids)) {
    await trx('runs')
      .where({ tenant_id: tenant })
      .whereIn('id', chunk)
      .update({ context: '{}', error: null, purged_at: trx.fn.now() });
    await trx('run_steps')
      .where({ tenant_id: tenant })
      .whereIn('run_id', chunk)
      .update({ plan: null, output: null, error: null });
  }
}

/** Deletes Disclosures; their receipts keep the salted digests and still verify. */
export async function deleteDisclosures(
  trx: Knex.Transaction,
  tenant: string,
  keys: readonly DisclosureKey[],
): Promise<void> {
  for (const chunk of chunks(keys)) {
    await trx.raw(
      `delete from receipt_disclosures d
       using jsonb_to_recordset(?::jsonb) as k(seq bigint, name text)
       where d.tenant_id = ? and d.seq = k.seq and d.name = k.name`,
      [JSON.stringify(chunk.map((k) => ({ seq: k.seq, name: k.name }))), tenant],
    );
  }
}

export async function insertPurgeManifest(
  trx: Knex.Transaction,
  row: { tenant: string; receiptId: string; body: unknown },
): Promise<void> {
  await trx('purge_manifests').insert({
    tenant_id: row.tenant,
    receipt_id: row.receiptId,
    body: JSON.stringify(row.body),
  });
}

/** The stored body of a purge manifest, or undefined (another tenant's receipt is not found). */
export async function getPurgeManifest(
  knex: Knex,
  tenant: string,
  receiptId: string,
): Promise<unknown> {
  const row = await knex('purge_manifests')
    .where({ tenant_id: tenant, receipt_id: receiptId })
    .first('body');
  return row?.body;
}

/** All ids matching `where`, read by keyset pages of `batchSize`, in id order. */
async function pageIds(
  knex: Knex,
  table: string,
  where: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const after = ids.at(-1);
    const rows: Array<{ id: string }> = await where(knex(table))
      .modify((q) => {
        if (after !== undefined) q.andWhere('id', '>', after);
      })
      .orderBy('id')
      .limit(batchSize)
      .select('id');
    ids.push(...rows.map((r) => r.id));
    if (rows.length < batchSize) return ids;
  }
}

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += batchSize) yield items.slice(i, i + batchSize);
}
