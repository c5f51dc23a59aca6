/** Claim: one statement of the posture one-pager and the pack artifacts that back it. */
import type { JsonValue, Receipt } from '../ledger/receipt.js';

export interface PackLink {
  /** Relative to the pack folder. */
  href: string;
  label: string;
}

export interface Claim {
  id: string;
  title: string;
  /** False when the live system has nothing to show yet (e.g. no purge has run): said plainly. */
  evidenced: boolean;
  summary: string;
  links: PackLink[];
}

/** Fields the ledger owns; the rest of a payload is the receipt's own data. */
const ledgerFields = new Set(['v', 'id', 'tenant', 'seq', 'kind', 'at', 'prev', '_sd', '_sd_alg']);

/** `name: value` for the scalar data fields of a receipt, for a claim's summary. */
export function receiptFacts(receipt: Receipt, max = 6): string {
  const scalar = (v: JsonValue) => v === null || typeof v !== 'object';
  return Object.entries(receipt.payload)
    .filter(([k, v]) => !ledgerFields.has(k) && scalar(v))
    .slice(0, max)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

/** `kind #seq at <time>` */
export const receiptLabel = (r: Receipt) =>
  `${r.payload.kind} #${r.payload.seq} at ${r.payload.at}`;
