/** Receipt storage: the ledger's SQL — chain heads, append-only rows, tenant-scoped reads. */
import type { Knex } from 'knex';
import type { Receipt, ReceiptPayload } from '../ledger/receipt.js';
import type { DisclosureRow } from './disclosures.js';

export interface ReceiptRow {
  tenant_id: string;
  seq: number;
  id: string;
  kind: string;
  at: string;
  run_id: string | null;
  body: string;
  digest: string;
  key_id: string;
  sig: string;
}

export interface ChainHead {
  seq: number;
  digest: string | null;
}

/**
 * Locks the tenant's chain head for the rest of the transaction (serialises appends across
 * processes), creating it on first use. Outside a transaction it only reads (and creates) it.
 */
export async function lockChainHead(
  trx: Knex | Knex.Transaction,
  tenant: string,
): Promise<ChainHead> {
  // One round trip: the upsert creates the head on first use and, as an update, row-locks it.
  const { rows } = await trx.raw<{ rows: Array<{ seq: string | number; digest: string | null }> }>(
    `insert into ledger_heads (tenant_id, seq, digest) values (?, 0, null)
     on conflict (tenant_id) do update set seq = ledger_heads.seq
     returning seq, digest`,
    [tenant],
  );
  const row = rows[0];
  if (!row) throw new Error(`ledger head for tenant ${tenant} vanished`);
  return { seq: Number(row.seq), digest: row.digest };
}

/**
 * A data-modifying statement that commits only with the receipts it is appended with, in the same
 * statement (`insertChained`). Its SQL must read from `chained`, a one-row relation present only
 * when the receipts are appended (`update runs as r set … from chained, jsonb_to_recordset(?) …`),
 * so that it changes nothing otherwise. With `returns`, it ends in `returning …` and its rows come
 * back.
 */
export interface ChainedChange {
  sql: string;
  bindings: readonly Knex.RawBinding[];
  returns?: boolean;
}

export interface Chained {
  /** The head after the statement; undefined when the tenant has no head yet (use `lockChainHead`). */
  head: ChainHead | undefined;
  /** Per change with `returns`, in order, the rows it returned (none unless appended). */
  returned: Array<Array<Record<string, unknown>>>;
}

/**
 * Appends a sealed batch in one statement if the tenant's chain head is still `base`: the head moves
 * to the batch's last receipt, the receipts and their Disclosures are inserted, each batch as one
 * JSON parameter expanded by `jsonb_to_recordset`, and the `changes` are made. The head row is
 * updated (so row-locked until the transaction ends) whether or not it moved: a writer that finds
 * it locked waits, and READ COMMITTED then evaluates the condition on the committed row — the head
 * it would have sealed against had it waited first. Resolves to the head after the statement: the
 * batch's last receipt when it was appended; otherwise the current head (locked, in a transaction)
 * and nothing was written — seal again against it and retry. Outside a transaction the statement
 * is its own: the receipts and the changes commit together, or none of them.
 */
export async function insertChained(
  trx: Knex | Knex.Transaction,
  tenant: string,
  base: ChainHead,
  rows: ReceiptRow[],
  disclosures: DisclosureRow[],
  changes: readonly ChainedChange[] = [],
): Promise<Chained> {
  const last = rows.at(-1);
  if (!last) return { head: base, returned: [] };
  const records = rows.map(({ tenant_id: _t, ...r }) => r);
  const onBase = 'seq = ? and digest is not distinct from ?';
  const set = (column: string) => `${column} = case when ${onBase} then ? else ${column} end`;
  const ctes = changes.map((c, i) => `, c${i} as (${c.sql})`).join('');
  const returning = changes.flatMap((c, i) =>
    c.returns ? [`(select coalesce(json_agg(c${i}), '[]') from c${i}) as r${i}`] : [],
  );
  const { rows: result } = await trx.raw<{ rows: Array<Record<string, unknown>> }>(
    `with head as (
       update ledger_heads set ${set('seq')}, ${set('digest')}
       where tenant_id = ?
       returning tenant_id, seq, digest
     ), chained as (
       select tenant_id from head where seq = ? and digest = ?
     ), receipt as (
       insert into receipts (tenant_id, seq, id, kind, at, run_id, body, digest, key_id, sig)
       select chained.tenant_id, r.seq, r.id, r.kind, r.at, r.run_id, r.body, r.digest, r.key_id, r.sig
       from chained, jsonb_to_recordset(cast(? as jsonb)) as r(seq bigint, id text, kind text,
         at timestamptz, run_id text, body text, digest text, key_id text, sig text)
     ), disclosure as (
       insert into receipt_disclosures (tenant_id, seq, receipt_id, name, disclosure)
       select chained.tenant_id, d.seq, d.receipt_id, d.name, d.disclosure
       from chained, jsonb_to_recordset(cast(? as jsonb)) as d(seq bigint, receipt_id text,
         name text, disclosure text)
     )${ctes}
     select seq, digest${returning.map((r) => `, ${r}`).join('')} from head`,
    [
      base.seq,
      base.digest,
      last.seq,
      base.seq,
      base.digest,
      last.digest,
      tenant,
      last.seq,
      last.digest,
      JSON.stringify(records),
      JSON.stringify(disclosures),
      ...changes.flatMap((c) => c.bindings),
    ],
  );
  const row = result[0];
  const returned = changes.flatMap((c, i) => (c.returns ? [parseRows(row?.[`r${i}`])] : []));
  return {
    head: row ? { seq: Number(row.seq), digest: row.digest as string } : undefined,
    returned,
  };
}

/** json_agg arrives parsed from PostgreSQL and as text from some drivers. */
function parseRows(value: unknown): Array<Record<string, unknown>> {
  if (value === undefined || value === null) return [];
  return (typeof value === 'string' ? JSON.parse(value) : value) as Array<Record<string, unknown>>;
}

export async function saveSigningKey(
  knex: Knex,
  key: { keyId: string; publicKeyPem: string },
): Promise<void> {
  await knex('signing_keys')
    .insert({ key_id: key.keyId, alg: 'Ed25519', public_key_pem: key.publicKeyPem })
    .onConflict('key_id')
    .ignore();
}

export function rowToReceipt(row: Pick<ReceiptRow, 'body' | 'digest' | 'key_id' | 'sig'>): Receipt {
  return {
    payload: JSON.parse(row.body) as ReceiptPayload,
    digest: row.digest,
    signature: { alg: 'Ed25519', keyId: row.key_id, sig: row.sig },
  };
}

export interface ReceiptQuery {
  run?: string | undefined;
  kind?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Return receipts with seq greater than this (keyset pagination). */
  afterSeq?: number | undefined;
  limit: number;
}

const columns = ['seq', 'body', 'digest', 'key_id', 'sig'] as const;

export async function listReceipts(
  knex: Knex,
  tenant: string,
  q: ReceiptQuery,
): Promise<Array<Receipt & { seq: number }>> {
  const query = knex('receipts').where({ tenant_id: tenant }).orderBy('seq', 'asc').limit(q.limit);
  if (q.run !== undefined) query.andWhere({ run_id: q.run });
  if (q.kind !== undefined) query.andWhere({ kind: q.kind });
  if (q.since !== undefined) query.andWhere('at', '>=', q.since);
  if (q.until !== undefined) query.andWhere('at', '<', q.until);
  if (q.afterSeq !== undefined) query.andWhere('seq', '>', q.afterSeq);
  const rows = await query.select(columns);
  return rows.map((r: ReceiptRow) => ({ ...rowToReceipt(r), seq: Number(r.seq) }));
}

export async function getReceipt(
  knex: Knex,
  tenant: string,
  id: string,
): Promise<Receipt | undefined> {
  const row = await knex('receipts').where({ tenant_id: tenant, id }).first(columns);
  return row ? rowToReceipt(row as ReceiptRow) : undefined;
}

/** Public keys of every key that signed one of the tenant's receipts. */
export async function signingKeysOf(
  knex: Knex,
  tenant: string,
): Promise<Array<{ keyId: string; alg: string; publicKeyPem: string }>> {
  const rows = await knex('signing_keys as k')
    .whereExists(
      knex('receipts as r')
        .select(knex.raw('1'))
        .where('r.tenant_id', tenant)
        .whereRaw('r.key_id = k.key_id'),
    )
    .orderBy('k.created_at')
    .select('k.key_id', 'k.alg', 'k.public_key_pem');
  return rows.map((r: { key_id: string; alg: string; public_key_pem: string }) => ({
    keyId: r.key_id,
    alg: r.alg,
    publicKeyPem: r.public_key_pem,
  }));
}
