/**
 * Selective disclosure, SD-JWT style (RFC 9901 §4.2): a sensitive receipt field is not written into the
 * signed payload but committed to as the digest of a Disclosure — base64url of the JSON array
 * `[salt, name, value]` — listed in the payload's `_sd`. A bundle carries the Disclosures its reader may
 * see; anyone checks one by hashing it and finding the digest in the signed `_sd`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { JsonValue } from './receipt.js';

/** The payload fields that carry the commitments (as in SD-JWT). */
export const sdField = '_sd';
export const sdAlgField = '_sd_alg';
export const sdAlg = 'sha-256';

/** A field a receipt commits to without showing it. */
export interface Disclosure {
  name: string;
  /** base64url(UTF-8 JSON of `[salt, name, value]`). */
  disclosure: string;
  digest: string;
}

/** base64url(SHA-256(ASCII bytes of the Disclosure string)), as RFC 9901 §4.2.3 computes it. */
export function disclosureDigest(disclosure: string): string {
  return createHash('sha256').update(disclosure, 'ascii').digest('base64url');
}

/**
 * Makes the Disclosure of one field with a fresh 128-bit salt.
 * @example
 * const d = discloseField('actor', 'slack:U012AB3CD'); // d.digest goes into the payload's _sd
 */
export function discloseField(name: string, value: JsonValue, salt = newSalt()): Disclosure {
  const disclosure = Buffer.from(JSON.stringify([salt, name, value]), 'utf8').toString('base64url');
  return { name, disclosure, digest: disclosureDigest(disclosure) };
}

const newSalt = () => randomBytes(16).toString('base64url');

/**
 * Commits each private field: the digests (sorted, so their order reveals nothing) for the payload,
 * and the Disclosures to keep beside the receipt.
 */
export function commitFields(fields: Record<string, JsonValue>): {
  digests: string[];
  disclosures: Disclosure[];
} {
  const disclosures = Object.entries(fields).map(([name, value]) => discloseField(name, value));
  return { digests: disclosures.map((d) => d.digest).sort(), disclosures };
}

export type DecodedDisclosure =
  | { ok: true; salt: string; name: string; value: JsonValue }
  | { ok: false; problem: string };

/** Decodes a Disclosure string into its salt, name and value, or says why it is not one. */
export function decodeDisclosure(disclosure: string): DecodedDisclosure {
  if (!/^[A-Za-z0-9_-]+$/.test(disclosure)) return { ok: false, problem: 'not base64url' };
  let array: unknown;
  try {
    array = JSON.parse(Buffer.from(disclosure, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, problem: 'not base64url of JSON' };
  }
  if (!Array.isArray(array) || array.length !== 3) {
    return { ok: false, problem: 'not a JSON array of [salt, name, value]' };
  }
  const [salt, name, value] = array as [unknown, unknown, JsonValue];
  if (typeof salt !== 'string' || salt.length < 16) {
    return { ok: false, problem: 'its salt is not a string of at least 16 characters' };
  }
  if (typeof name !== 'string' || name === sdField || name === sdAlgField || name === '...') {
    return { ok: false, problem: 'its claim name is missing or reserved' };
  }
  return { ok: true, salt, name, value };
}

/** Which fields an export discloses: every one, none, or those named. */
export type DisclosurePolicy = 'all' | 'none' | readonly string[];

/** Parses `--disclose` / `?disclose=`: `all`, `none`, or a comma-separated list of field names. */
export function parseDisclosurePolicy(value: string | undefined): DisclosurePolicy {
  const v = value?.trim() ?? '';
  if (v === '' || v === 'none') return 'none';
  if (v === 'all') return 'all';
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function isDisclosed(policy: DisclosurePolicy, name: string): boolean {
  return policy === 'all' || (policy !== 'none' && policy.includes(name));
}

/**
 * The payload with its disclosed fields put back, each checked against the payload's `_sd`; a
 * Disclosure that does not match is left out (and never trusted).
 * @example
 * const full = revealFields(receipt.payload, storedDisclosures); // full.actor === 'slack:U012AB3CD'
 */
export function revealFields<T extends Record<string, unknown>>(
  payload: T,
  disclosures: readonly string[],
): T & Record<string, JsonValue> {
  const committed = new Set(Array.isArray(payload[sdField]) ? (payload[sdField] as string[]) : []);
  const revealed: Record<string, JsonValue> = {};
  for (const d of disclosures) {
    const decoded = decodeDisclosure(d);
    if (decoded.ok && committed.has(disclosureDigest(d)) && !(decoded.name in payload)) {
      revealed[decoded.name] = decoded.value;
    }
  }
  return { ...payload, ...revealed };
}
