/** Retention policy: how long each kind of content is kept before a purge removes it. */
import { z } from 'zod';
import { parseDuration } from '../pipeline/duration.js';

/** A duration kept as written ("30d"), so that manifests state the policy as configured. */
const window = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, 'expected a duration such as 90s, 15m, 1h or 7d');

/**
 * A tenant's `retention` config. Receipts and their hashes are kept forever; these windows govern
 * the content beside them.
 * @example retentionSchema.parse({ triggerBodies: '7d' }) // { triggerBodies: '7d', runDetails: '180d', disclosures: '365d' }
 */
export const retentionSchema = z
  .strictObject({
    /** Raw trigger labels, annotations, data, links and delivery facts. @defaultValue '30d' */
    triggerBodies: window.default('30d'),
    /** Run context and error, step inputs, outputs and errors. @defaultValue '180d' */
    runDetails: window.default('180d'),
    /** Disclosures of receipts' private fields. @defaultValue '365d' */
    disclosures: window.default('365d'),
  })
  .prefault({});

export type RetentionPolicy = z.infer<typeof retentionSchema>;

export const purgeCategories = ['triggerBodies', 'runDetails', 'disclosures'] as const;
export type PurgeCategory = (typeof purgeCategories)[number];

/** Per category, the instant before which content is purged. */
export function cutoffsOf(policy: RetentionPolicy, now: Date): Record<PurgeCategory, Date> {
  const at = (text: string) => new Date(now.getTime() - (parseDuration(text) as number));
  return {
    triggerBodies: at(policy.triggerBodies),
    runDetails: at(policy.runDetails),
    disclosures: at(policy.disclosures),
  };
}
