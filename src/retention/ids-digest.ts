/**
 * Ids digest: what a purge manifest commits to for each category — SHA-256 over the ids sorted by
 * their UTF-8 bytes, each followed by "\n". An auditor recomputes it from the stored list with
 * `jq -r '.ids.triggerBodies[]' manifest.json | LC_ALL=C sort | sha256sum`.
 */
import { createHash } from 'node:crypto';

export interface CategorySummary {
  name: string;
  count: number;
  /** `sha256:<hex>`; the digest of no bytes when nothing was purged. */
  idsDigest: string;
  firstId: string | null;
  lastId: string | null;
}

/** Sorts ids by their UTF-8 bytes (what `LC_ALL=C sort` does). */
export function sortIds(ids: readonly string[]): string[] {
  return [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * @example idsDigest(['b', 'a']) // sha256 of "a\nb\n"
 */
export function idsDigest(ids: readonly string[]): string {
  const hash = createHash('sha256');
  for (const id of sortIds(ids)) hash.update(`${id}\n`);
  return `sha256:${hash.digest('hex')}`;
}

export function summarize(name: string, ids: readonly string[]): CategorySummary {
  const sorted = sortIds(ids);
  return {
    name,
    count: sorted.length,
    idsDigest: idsDigest(sorted),
    firstId: sorted[0] ?? null,
    lastId: sorted.at(-1) ?? null,
  };
}
