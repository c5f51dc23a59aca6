/**
 * Purge: removes a tenant's content older than its retention policy and proves what went. In one
 * transaction it lists what is due (ids per category), empties or deletes it, appends the signed
 * manifest as a `retention.purged` receipt and keeps the id lists beside it. Receipts and the
 * Merkle log are untouched, so every receipt and every earlier proof still verifies.
 */
import type { Knex } from 'knex';
import type { Ledger } from '../ledger/ledger.js';
import type { JsonValue, Receipt } from '../ledger/receipt.js';
import {
  type DisclosureKey,
  deleteDisclosures,
  insertPurgeManifest,
  lockPurge,
  purgeableDisclosures,
  purgeableRuns,
  purgeableTriggers,
  purgeRunDetails,
  purgeTriggerContent,
} from '../storage/retention.js';
import { type CategorySummary, sortIds, summarize } from './ids-digest.js';
import { cutoffsOf, type PurgeCategory, type RetentionPolicy } from './policy.js';

export interface PurgeManifest {
  policy: RetentionPolicy;
  cutoffs: Record<PurgeCategory, string>;
  categories: CategorySummary[];
  dryRun: boolean;
}

export interface PurgeResult {
  manifest: PurgeManifest;
  /** Per category, the purged ids, sorted as their digest covers them. */
  ids: Record<PurgeCategory, string[]>;
  /** The `retention.purged` receipt; absent on a dry run. */
  receipt?: Receipt;
}

export interface PurgeOptions {
  tenant: string;
  policy: RetentionPolicy;
  /** @defaultValue new Date() */
  now?: Date;
  /** Computes the manifest without deleting anything or appending a receipt. */
  dryRun?: boolean;
}

/** How a Disclosure is named in a manifest: `<receipt id>/<field name>`. */
export const disclosureId = (k: DisclosureKey) => `${k.receiptId}/${k.name}`;

/**
 * @example
 * const { manifest, receipt } = await purge({ knex, ledger }, { tenant: 'acme', policy });
 */
export async function purge(
  deps: { knex: Knex; ledger: Ledger },
  options: PurgeOptions,
): Promise<PurgeResult> {
  const { tenant, policy } = options;
  const cutoffs = cutoffsOf(policy, options.now ?? new Date());
  return deps.knex.transaction(async (trx) => {
    if (!options.dryRun) await lockPurge(trx, tenant);
    const triggers = await purgeableTriggers(trx, tenant, cutoffs.triggerBodies);
    const runs = await purgeableRuns(trx, tenant, cutoffs.runDetails);
    const disclosures = await purgeableDisclosures(trx, tenant, cutoffs.disclosures);
    const ids: PurgeResult['ids'] = {
      triggerBodies: sortIds(triggers),
      runDetails: sortIds(runs),
      disclosures: sortIds(disclosures.map(disclosureId)),
    };
    const manifest: PurgeManifest = {
      policy,
      cutoffs: {
        triggerBodies: cutoffs.triggerBodies.toISOString(),
        runDetails: cutoffs.runDetails.toISOString(),
        disclosures: cutoffs.disclosures.toISOString(),
      },
      categories: Object.entries(ids).map(([name, list]) => summarize(name, list)),
      dryRun: options.dryRun === true,
    };
    if (options.dryRun) return { manifest, ids };

    await purgeTriggerContent(trx, tenant, triggers);
    await purgeRunDetails(trx, tenant, runs);
    await deleteDisclosures(trx, tenant, disclosures);
    const [receipt] = await deps.ledger.appendIn(trx, tenant, [
      { kind: 'retention.purged', data: manifest as unknown as Record<string, JsonValue> },
    ]);
    if (!receipt) throw new Error('the ledger appended no purge receipt');
    await insertPurgeManifest(trx, {
      tenant,
      receiptId: receipt.payload.id,
      body: { manifest, ids },
    });
    return { manifest, ids, receipt };
  });
}
