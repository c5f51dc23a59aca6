/**
 * Backup-engine: the DR drill's port — take a consistent backup of the live database and restore one
 * into a scratch database — with one adapter per storage engine (pg-backup.ts, pglite-backup.ts).
 */
import type { Database } from '../storage/database.js';

/** One tenant's chain as the live database held it in the backup's snapshot. */
export interface SourceChain {
  tenant: string;
  /** Receipt rows of the tenant. */
  receipts: number;
  /** Digest of the chain head (`ledger_heads`), null for an empty chain. */
  headDigest: string | null;
}

export interface BackupTaken {
  /** Every tenant's chain in the same snapshot as the backup. */
  chains: SourceChain[];
}

/** A restored copy, open read-only by convention; `discard()` closes and removes it. */
export interface RestoredCopy {
  db: Database;
  /** Where the copy lives, for messages (a database name or a directory). */
  where: string;
  discard(): Promise<void>;
}

export interface BackupEngine {
  /** Writes a consistent backup of the live database to `file`, and the chains it holds. */
  backup(file: string): Promise<BackupTaken>;
  /**
   * Restores `file` into a scratch database and opens it without migrating (the copy is verified as
   * it was backed up). Throws `invalid` with the engine's own words when the backup does not restore.
   */
  restore(file: string, workDir: string): Promise<RestoredCopy>;
}

/** Rows of the source-chains query, whatever runs it. */
type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

/** Reads every tenant's receipt count and chain head; call it inside the backup's snapshot. */
export async function sourceChains(query: Query): Promise<SourceChain[]> {
  const rows = await query(
    `select t.id as tenant, h.digest as head_digest,
       (select count(*) from receipts r where r.tenant_id = t.id) as receipts
     from tenants t left join ledger_heads h on h.tenant_id = t.id
     order by t.id`,
  );
  return rows.map((r) => ({
    tenant: String(r.tenant),
    receipts: Number(r.receipts),
    headDigest: typeof r.head_digest === 'string' ? r.head_digest : null,
  }));
}
