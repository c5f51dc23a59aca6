/** Canonical JSON: RFC 8785 (JCS) bytes, held byte for byte to the `canonicalize` package by tests. */
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
  try {
    return serialize(value);
  } catch (err) {
    assertJson(value, '$'); // names the offending path, if the value is not JSON
    throw new WardenError('invalid', `Value cannot be canonicalised as JSON: ${String(err)}`, {
      cause: err,
    });
  }
}

/** No lone surrogate (Node 20 has String.prototype.isWellFormed; the ES2023 lib types do not). */
const isWellFormed = (s: string): boolean =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * RFC 8785, ~2× faster than the `canonicalize` package (every receipt is canonicalised when it is
 * made and again when it is verified): a copy of the value with every object's keys in UTF-16
 * code-unit order (the default sort), written by JSON.stringify, whose strings and numbers are
 * exactly RFC 8785's (§3.2.2). JSON.stringify writes integer-like keys ("7", "10") first whatever
 * the insertion order, so an object holding one goes to `canonicalize` instead. A test holds the
 * result byte for byte to `canonicalize` on the RFC 8785 vectors and on generated values. Throws on
 * anything that is not plain JSON (the caller names where).
 */
function serialize(value: unknown): string {
  try {
    return JSON.stringify(sortedCopy(value));
  } catch (err) {
    if (!(err instanceof IntegerKey)) throw err;
    const text = canonicalize(value);
    if (text === undefined) throw new Error('not JSON');
    return text;
  }
}

class IntegerKey extends Error {}

/** An array index as JSON.stringify orders it: a canonical integer below 2^32 − 1. */
const indexLike = /^(?:0|[1-9]\d{0,9})$/;

function sortedCopy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) throw new Error('lone surrogate');
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new Error('not a finite number');
      return value;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map(sortedCopy);
      if (!isPlainObject(value)) throw new Error('not a plain object');
      const keys = Object.keys(value).sort();
      // No prototype, so a "__proto__" key is an own property here as JSON.parse made it.
      const out: Record<string, unknown> = Object.create(null);
      for (const key of keys) {
        if (!isWellFormed(key)) throw new Error('lone surrogate in a key');
        if (indexLike.test(key) && Number(key) < 4_294_967_295) throw new IntegerKey();
        out[key] = sortedCopy((value as Record<string, unknown>)[key]);
      }
      return out;
    }
    default:
      throw new Error(`not JSON: ${typeof value}`);
  }
}

const isPlainObject = (value: object) => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** Throws naming the first thing `canonicalize` would silently drop or mangle, and where it is. */
function assertJson(value: unknown, path: string): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw notJson(path, String(value));
      return;
    case 'object':
      if (value === null) return;
      if (Array.isArray(value)) {
        for (const [i, v] of value.entries()) assertJson(v, `${path}[${i}]`);
        return;
      }
      if (!isPlainObject(value)) throw notJson(path, value.constructor?.name ?? 'object');
      for (const [k, v] of Object.entries(value)) assertJson(v, `${path}.${k}`);
      return;
    default:
      throw notJson(path, typeof value);
  }
}

function notJson(path: string, what: string): WardenError {
  return new WardenError('invalid', `Value cannot be canonicalised as JSON: ${what} at ${path}.`);
}
