/**
 * Proof status of receipts: each receipt the tenant's newest checkpoint covers gets its RFC 9162
 * inclusion proof, verified here against the checkpoint's root; the others are not yet anchored.
 */
import type { Knex } from 'knex';
import { inclusionProofs } from '../../ledger/anchor.js';
import { leafHash, verifyInclusion } from '../../ledger/merkle.js';
import { getCheckpoint } from '../../storage/merkle.js';

export type ProofStatus =
  | { state: 'proven'; size: number }
  | { state: 'pending' }
  | { state: 'invalid'; size: number };

/** Receipts further apart than this get proofs of their own instead of one shared range. */
const maxGap = 32;

/**
 * @param receipts receipts of one tenant in `seq` order, with their canonical bytes.
 * @example
 * const status = await proofStatuses(knex, 'acme', await runReceipts(knex, 'acme', runId));
 */
export async function proofStatuses(
  knex: Knex,
  tenant: string,
  receipts: ReadonlyArray<{ seq: number; body: string }>,
): Promise<Map<number, ProofStatus>> {
  const out = new Map<number, ProofStatus>(receipts.map((r) => [r.seq, { state: 'pending' }]));
  const checkpoint = await getCheckpoint(knex, tenant);
  if (!checkpoint) return out;
  const size = checkpoint.size;
  const covered = receipts.filter((r) => r.seq >= 1 && r.seq <= size);
  // Contiguous clusters of leaf indexes share the subtrees of their proofs: one fetch each.
  const clusters: Array<typeof covered> = [];
  for (const r of covered) {
    const last = clusters.at(-1);
    const prev = last?.at(-1);
    if (last && prev && r.seq - prev.seq <= maxGap) last.push(r);
    else clusters.push([r]);
  }
  for (const cluster of clusters) {
    const lo = (cluster[0]?.seq ?? 1) - 1;
    const hi = cluster.at(-1)?.seq ?? lo + 1;
    const proofs = await inclusionProofs(knex, tenant, lo, hi, size);
    for (const r of cluster) {
      const leaf = leafHash(Buffer.from(r.body, 'utf8'));
      const proof = proofs[r.seq - 1 - lo] ?? [];
      const ok = verifyInclusion(leaf, r.seq - 1, size, proof, checkpoint.root);
      out.set(r.seq, { state: ok ? 'proven' : 'invalid', size });
    }
  }
  return out;
}
