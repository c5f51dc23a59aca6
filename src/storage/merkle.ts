/**
 * Merkle storage: a tenant's complete-subtree hashes, its anchored size and its checkpoints. Reads
 * are batched (one query for all the hashes a proof or an append needs). Always scoped by tenant.
 */
import type { Knex } from 'knex';

export interface NodeKey {
  level: number;
  index: number;
}

export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  note: string;
  createdAt: string;
}

/** The hashes of the given complete subtrees, in the order asked; throws if one is missing. */
export async function merkleHashes(
  knex: Knex,
  tenant: string,
  keys: readonly NodeKey[],
): Promise<Buffer[]> {
  if (keys.length === 0) return [];
  // The keys as two array parameters, joined. unnest (unlike jsonb_to_recordset) tells the planner
  // how many keys there are, so it probes the primary key instead of scanning the tenant's log.
  const { rows } = await knex.raw<{
    rows: Array<{ level: number; idx: string | number; hash: Buffer }>;
  }>(
    `select n.level, n.idx, n.hash
       from unnest(?::int[], ?::bigint[]) as k(level, idx)
       join merkle_nodes n on n.tenant_id = ? and n.level = k.level and n.idx = k.idx`,
    [keys.map((k) => k.level), keys.map((k) => k.index), tenant],
  );
  const found = new Map(rows.map((r) => [`${r.level}:${Number(r.idx)}`, Buffer.from(r.hash)]));
  return keys.map((k) => {
    const hash = found.get(`${k.level}:${k.index}`);
    if (!hash) throw new Error(`merkle node ${k.level}/${k.index} of ${tenant} is missing`);
    return hash;
  });
}

export async function insertMerkleNodes(
  trx: Knex,
  tenant: string,
  nodes: ReadonlyArray<NodeKey & { hash: Buffer }>,
): Promise<void> {
  for (let i = 0; i < nodes.length; i += 1000) {
    await trx('merkle_nodes').insert(
      nodes.slice(i, i + 1000).map((n) => ({
        tenant_id: tenant,
        level: n.level,
        idx: n.index,
        hash: n.hash,
      })),
    );
  }
}

/** The anchored size, locking the tenant's log head for the rest of the transaction. */
export async function lockMerkleHead(trx: Knex.Transaction, tenant: string): Promise<number> {
  const { rows } = await trx.raw<{ rows: Array<{ size: string | number }> }>(
    `insert into merkle_heads (tenant_id, size) values (?, 0)
     on conflict (tenant_id) do update set size = merkle_heads.size
     returning size`,
    [tenant],
  );
  return Number(rows[0]?.size ?? 0);
}

export async function setMerkleSize(trx: Knex, tenant: string, size: number): Promise<void> {
  await trx('merkle_heads').where('tenant_id', tenant).update({ size, updated_at: trx.fn.now() });
}

export async function merkleSize(knex: Knex, tenant: string): Promise<number> {
  const row = await knex('merkle_heads').where('tenant_id', tenant).first('size');
  return Number(row?.size ?? 0);
}

/** Receipts after `size` (leaf index = seq − 1), in order: their canonical payload bytes. */
export async function unanchoredReceipts(
  knex: Knex,
  tenant: string,
  size: number,
  limit: number,
): Promise<Array<{ seq: number; body: string }>> {
  const rows: Array<{ seq: string | number; body: string }> = await knex('receipts')
    .where('tenant_id', tenant)
    .andWhere('seq', '>', size)
    .orderBy('seq')
    .limit(limit)
    .select('seq', 'body');
  return rows.map((r) => ({ seq: Number(r.seq), body: r.body }));
}

export async function insertCheckpoint(
  trx: Knex,
  tenant: string,
  cp: { size: number; root: Buffer; note: string },
): Promise<void> {
  await trx('checkpoints').insert({
    tenant_id: tenant,
    size: cp.size,
    root: cp.root,
    note: cp.note,
  });
}

/** The newest checkpoint, or the one of exactly `size`. */
export async function getCheckpoint(
  knex: Knex,
  tenant: string,
  size?: number,
): Promise<StoredCheckpoint | undefined> {
  const row = await knex('checkpoints')
    .where('tenant_id', tenant)
    .modify((q) => {
      if (size !== undefined) q.andWhere('size', size);
    })
    .orderBy('size', 'desc')
    .first('size', 'root', 'note', 'created_at');
  if (!row) return undefined;
  return {
    size: Number(row.size),
    root: Buffer.from(row.root),
    note: row.note,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Tenants with receipts not yet in their log (for the anchoring sweep). */
export async function tenantsBehind(
  knex: Knex,
): Promise<Array<{ tenant: string; behind: number }>> {
  const rows: Array<{ tenant_id: string; behind: string | number }> = await knex
    .raw(
      `select h.tenant_id, h.seq - coalesce(m.size, 0) as behind
       from ledger_heads h left join merkle_heads m on m.tenant_id = h.tenant_id
      where h.seq > coalesce(m.size, 0)`,
    )
    .then((r: { rows: Array<{ tenant_id: string; behind: string | number }> }) => r.rows);
  return rows.map((r) => ({ tenant: r.tenant_id, behind: Number(r.behind) }));
}

/**
 * Per tenant with receipts: how long its oldest receipt not yet in the Merkle log has waited, in
 * seconds by the database clock (0 when the log has caught up with the chain).
 */
export async function anchoringLag(
  knex: Knex,
): Promise<Array<{ tenant: string; seconds: number }>> {
  const { rows } = await knex.raw<{ rows: Array<{ tenant_id: string; lag: string | number }> }>(
    `select h.tenant_id,
            coalesce(extract(epoch from (now() - r.at)), 0) as lag
       from ledger_heads h
       left join merkle_heads m on m.tenant_id = h.tenant_id
       left join receipts r on r.tenant_id = h.tenant_id and r.seq = coalesce(m.size, 0) + 1`,
  );
  return rows.map((r) => ({ tenant: r.tenant_id, seconds: Math.max(0, Number(r.lag)) }));
}
