/** Canonical JSON: RFC 8785 (JCS) bytes through the `canonicalize` package. */
import canonicalize from 'canonicalize';
import { WardenError } from '../errors.js';

/**
 * The RFC 8785 canonical UTF-8 bytes of a JSON value. Rejects what JSON cannot carry faithfully
 * (undefined at the top, NaN, Infinity, BigInt).
 * @example
 * canonicalBytes({ b: 1, a: 'x' }).toString() // '{"a":"x","b":1}'
 */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalText(value), 'utf8');
}

export function canonicalText(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (err) {
    throw new WardenError('invalid', `Value cannot be canonicalised as JSON: ${String(err)}`, {
      cause: err,
    });
  }
  if (text === undefined)
    throw new WardenError('invalid', 'Value cannot be canonicalised as JSON.');
  return text;
}
