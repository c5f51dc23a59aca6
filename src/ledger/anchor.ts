/**
 * Anchor: appends each tenant's receipts, in `seq` order, to its RFC 9162 Merkle log (leaf i = the
 * canonical payload bytes of receipt seq i+1) and signs a C2SP checkpoint for every new size. It
 * runs beside ingest, never in its path: a sweep every couple of seconds (and on demand before an
 * export) anchors whatever is pending, in batches, under a per-tenant lock so that several
 * processes never append twice. Tenants opt in with `anchoring.enabled` (Enterprise by default).
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import {
  anchoringLag,
  getCheckpoint,
  insertCheckpoint,
  insertMerkleNodes,
  lockMerkleHead,
  merkleHashes,
  type NodeKey,
  type StoredCheckpoint,
  setMerkleSize,
  tenantsBehind,
  unanchoredReceipts,
} from '../storage/merkle.js';
import { getTenant } from '../storage/tenants.js';
import { signCheckpoint } from './checkpoint.js';
import type { Signer } from './ed25519.js';
import { appendLeaves, type GetHashes, inclusionProof, leafHash, rootAt } from './merkle.js';

export interface AnchorDeps {
  knex: Knex;
  signer: Pick<Signer, 'publicKey' | 'sign'>;
  /** The log's origin line, `<WARDEN_LOG_ORIGIN>/<tenant>`. */
  origin(tenant: string): string;
  /** Whether the tenant's receipts are anchored. */
  enabled(tenant: string): Promise<boolean>;
  logger: Logger;
  /** Leaves appended per transaction. @defaultValue 5000 */
  batch?: number;
  /** @defaultValue 2000 */
  intervalMs?: number;
  /** Told each new checkpoint (the outside witness push, metrics). */
  onCheckpoint?: (tenant: string, cp: StoredCheckpoint) => void;
}

export interface Anchoring {
  /** Whether the tenant is anchored at all. */
  enabled(tenant: string): Promise<boolean>;
  /** Anchors everything pending for the tenant; resolves to its newest checkpoint, if any. */
  anchor(tenant: string): Promise<StoredCheckpoint | undefined>;
  /**
   * Per anchored tenant: seconds its oldest receipt not yet in the log has waited (0 when caught up).
   * Grows while anchoring is stuck, which is what an alert on it wants.
   */
  lag(): Promise<Array<{ tenant: string; seconds: number }>>;
  /** Starts the periodic sweep over all tenants. */
  start(): void;
  stop(): Promise<void>;
}

/** Reads stored subtree hashes for one tenant. */
export const hashesOf =
  (knex: Knex, tenant: string): GetHashes =>
  (keys) =>
    merkleHashes(knex, tenant, keys as NodeKey[]);

export function createAnchoring(deps: AnchorDeps): Anchoring {
  const { knex } = deps;
  const batch = deps.batch ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;

  /** One batch: true if it appended anything. */
  async function step(tenant: string): Promise<StoredCheckpoint | undefined> {
    return knex.transaction(async (trx) => {
      const size = await lockMerkleHead(trx, tenant);
      const pending = await unanchoredReceipts(trx, tenant, size, batch);
      if (pending.length === 0) return undefined;
      pending.forEach((r, i) => {
        if (r.seq !== size + i + 1)
          throw new Error(`receipt seq ${size + i + 1} of ${tenant} is missing`);
      });
      const leaves = pending.map((r) => leafHash(Buffer.from(r.body, 'utf8')));
      const get = hashesOf(trx, tenant);
      const nodes = await appendLeaves(size, leaves, get);
      await insertMerkleNodes(trx, tenant, nodes);
      const newSize = size + leaves.length;
      const root = await rootAt(newSize, get);
      const note = await signCheckpoint(
        { origin: deps.origin(tenant), size: newSize, rootHash: root },
        deps.signer,
      );
      await setMerkleSize(trx, tenant, newSize);
      await insertCheckpoint(trx, tenant, { size: newSize, root, note });
      return { size: newSize, root, note, createdAt: new Date().toISOString() };
    });
  }

  async function anchor(tenant: string): Promise<StoredCheckpoint | undefined> {
    let last: StoredCheckpoint | undefined;
    for (;;) {
      const cp = await step(tenant);
      if (!cp) break;
      last = cp;
      deps.onCheckpoint?.(tenant, cp);
    }
    return last ?? (await getCheckpoint(knex, tenant));
  }

  async function sweep(): Promise<void> {
    for (const { tenant } of await tenantsBehind(knex)) {
      if (await deps.enabled(tenant)) await anchor(tenant);
    }
  }

  return {
    enabled: deps.enabled,
    anchor,
    async lag() {
      const all = await anchoringLag(knex);
      const on = await Promise.all(all.map((t) => deps.enabled(t.tenant)));
      return all.filter((_, i) => on[i]);
    },
    start() {
      timer ??= setInterval(() => {
        sweeping ??= sweep()
          .catch((err: unknown) =>
            deps.logger.error({ err }, 'anchoring failed; retried next sweep'),
          )
          .finally(() => {
            sweeping = undefined;
          });
      }, deps.intervalMs ?? 2000).unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sweeping;
    },
  };
}

/**
 * Inclusion proofs of leaves [lo, hi) against a tree of `size`, prefetching the subtrees they share
 * (one query per level) instead of one query per proof.
 */
export async function inclusionProofs(
  knex: Knex,
  tenant: string,
  lo: number,
  hi: number,
  size: number,
): Promise<Buffer[][]> {
  const cache = new Map<string, Buffer>();
  const get: GetHashes = async (keys) => {
    const missing = keys.filter((k) => !cache.has(`${k.level}:${k.index}`));
    if (missing.length > 0) {
      const found = await merkleHashes(knex, tenant, missing as NodeKey[]);
      for (const [i, k] of missing.entries())
        cache.set(`${k.level}:${k.index}`, found[i] as Buffer);
    }
    return keys.map((k) => cache.get(`${k.level}:${k.index}`) as Buffer);
  };
  // Prefetch: at each level, the complete subtrees overlapping [lo − 1, hi] (siblings included).
  const prefetch: NodeKey[] = [];
  for (let level = 0; 2 ** level <= size; level++) {
    const width = 2 ** level;
    const complete = Math.floor(size / width);
    const first = Math.max(0, Math.floor(Math.max(0, lo - width) / width));
    const last = Math.min(complete - 1, Math.floor((hi + width) / width));
    for (let i = first; i <= last; i++) prefetch.push({ level, index: i });
  }
  for (let i = 0; i < prefetch.length; i += 5000) await get(prefetch.slice(i, i + 5000));
  const proofs: Buffer[][] = [];
  for (let index = lo; index < hi; index++) proofs.push(await inclusionProof(index, size, get));
  return proofs;
}

/**
 * Whether a tenant is anchored: its `anchoring.enabled`, else on for Enterprise (tiers of tenants
 * made with the CLI come from the database).
 */
export function anchoringEnabled(
  knex: Knex,
  tenants: ReadonlyMap<string, { tier: string; anchoring: { enabled?: boolean | undefined } }>,
): (tenant: string) => Promise<boolean> {
  return async (tenant) => {
    const configured = tenants.get(tenant);
    if (configured) return configured.anchoring.enabled ?? configured.tier === 'enterprise';
    return (await getTenant(knex, tenant))?.tier === 'enterprise';
  };
}
