/** Evidence bundle: the offline-verifiable export of a tenant's receipts (`warden-evidence/v1`). */
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import { disclosuresBetween } from '../storage/disclosures.js';
import { getCheckpoint, type StoredCheckpoint } from '../storage/merkle.js';
import { listReceipts, signingKeysOf } from '../storage/receipts.js';
import { hashesOf, inclusionProofs } from './anchor.js';
import { parseCheckpoint } from './checkpoint.js';
import type { DisclosurePolicy } from './disclosure.js';
import { consistencyProof } from './merkle.js';
import type { Receipt } from './receipt.js';

export const bundleFormat = 'warden-evidence/v1';

export interface BundleKey {
  keyId: string;
  alg: string;
  publicKeyPem: string;
}

export interface InclusionProof {
  receiptId: string;
  leafIndex: number;
  treeSize: number;
  hashes: string[];
}

export interface EvidenceBundle {
  format: typeof bundleFormat;
  tenant: string;
  exportedAt: string;
  /** The requested window (receipt `at`), as given. */
  range: { since: string | null; until: string | null };
  keys: BundleKey[];
  /** A contiguous run of the tenant's chain, in `seq` order. */
  receipts: Receipt[];
  /** Merkle inclusion proofs of the receipts the checkpoint covers (base64 hashes, RFC 9162). */
  proofs: InclusionProof[];
  /** The signed checkpoint (C2SP signed note) the proofs lead to, or null. */
  checkpoint: string | null;
  /**
   * With `--since-checkpoint`: the older checkpoint the reader already held and the RFC 9162
   * consistency proof from it to `checkpoint` — the log only grew in between.
   */
  consistency?: { checkpoint: string; hashes: string[] };
  /**
   * The Disclosures (SD-JWT style, `[salt, name, value]` base64url) of private receipt fields this
   * bundle's reader may see; every other private field stays a digest in its receipt's `_sd`.
   */
  disclosures: BundleDisclosure[];
}

export interface BundleDisclosure {
  receiptId: string;
  disclosure: string;
}

export interface ExportOptions {
  since?: Date | undefined;
  until?: Date | undefined;
  /** Called with the number of receipts read so far. */
  onProgress?: (count: number) => void;
  /** A checkpoint note the reader holds: the bundle proves the log grew consistently from it. */
  sinceCheckpoint?: string | undefined;
  /** Which private fields the bundle discloses. @defaultValue 'none' */
  disclose?: DisclosurePolicy;
}

const page = 5000;

/**
 * Exports a contiguous slice of the tenant's chain: from the first receipt at or after `since` to the
 * last before `until`, including every receipt between them by `seq`.
 */
export async function exportBundle(
  knex: Knex,
  tenant: string,
  options: ExportOptions = {},
): Promise<EvidenceBundle> {
  const { since, until } = options;
  if (since && until && since >= until) {
    throw new WardenError('invalid', '`since` must be earlier than `until`.');
  }
  const bounds = await knex('receipts')
    .where({ tenant_id: tenant })
    .modify((q) => {
      if (since) q.andWhere('at', '>=', since);
      if (until) q.andWhere('at', '<', until);
    })
    .first(knex.raw('min(seq) as lo, max(seq) as hi'));
  const receipts: Receipt[] = [];
  if (bounds?.lo != null) {
    const hi = Number(bounds.hi);
    let after = Number(bounds.lo) - 1;
    while (after < hi) {
      const batch = await listReceipts(knex, tenant, { afterSeq: after, limit: page });
      for (const r of batch) {
        if (r.seq > hi) break;
        const { seq: _seq, ...receipt } = r;
        receipts.push(receipt);
      }
      const last = batch.at(-1);
      if (!last) break;
      after = last.seq;
      options.onProgress?.(receipts.length);
    }
  }
  const checkpoint = await getCheckpoint(knex, tenant);
  const proofs: InclusionProof[] = [];
  const first = receipts[0]?.payload.seq;
  if (checkpoint && first !== undefined) {
    // Leaf index = seq − 1; receipts newer than the checkpoint are not in it yet.
    const covered = receipts.filter((r) => r.payload.seq <= checkpoint.size);
    const paths = await inclusionProofs(
      knex,
      tenant,
      first - 1,
      first - 1 + covered.length,
      checkpoint.size,
    );
    for (const [i, r] of covered.entries()) {
      proofs.push({
        receiptId: r.payload.id,
        leafIndex: r.payload.seq - 1,
        treeSize: checkpoint.size,
        hashes: (paths[i] ?? []).map((h) => h.toString('base64')),
      });
    }
  }
  const disclose = options.disclose ?? 'none';
  const last = receipts.at(-1)?.payload.seq;
  const disclosures =
    disclose === 'none' || first === undefined || last === undefined
      ? []
      : await disclosuresBetween(
          knex,
          tenant,
          first,
          last,
          disclose === 'all' ? undefined : disclose,
        );
  let consistency: EvidenceBundle['consistency'];
  if (options.sinceCheckpoint !== undefined) {
    consistency = await consistencyFrom(knex, tenant, options.sinceCheckpoint, checkpoint);
  }
  return {
    format: bundleFormat,
    tenant,
    exportedAt: new Date().toISOString(),
    range: { since: since?.toISOString() ?? null, until: until?.toISOString() ?? null },
    keys: await signingKeysOf(knex, tenant),
    receipts,
    proofs,
    checkpoint: checkpoint?.note ?? null,
    ...(consistency ? { consistency } : {}),
    disclosures: disclosures.map((d) => ({ receiptId: d.receipt_id, disclosure: d.disclosure })),
  };
}

/** The consistency proof from an older checkpoint (as the reader holds it) to the current one. */
async function consistencyFrom(
  knex: Knex,
  tenant: string,
  note: string,
  current: StoredCheckpoint | undefined,
): Promise<EvidenceBundle['consistency']> {
  const text = note.slice(0, note.indexOf('\n\n') + 1);
  let old: ReturnType<typeof parseCheckpoint>;
  try {
    old = parseCheckpoint(text);
  } catch (err) {
    throw new WardenError('invalid', `--since-checkpoint: ${(err as Error).message}`);
  }
  if (!current) throw new WardenError('not_found', `Tenant ${tenant} has no checkpoint yet.`);
  if (old.size < 1 || old.size > current.size) {
    throw new WardenError(
      'invalid',
      `--since-checkpoint: its size ${old.size} is not between 1 and the current size ${current.size}.`,
    );
  }
  const hashes =
    old.size === current.size
      ? []
      : await consistencyProof(old.size, current.size, hashesOf(knex, tenant));
  return { checkpoint: note, hashes: hashes.map((h) => h.toString('base64')) };
}
