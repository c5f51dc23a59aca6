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
  if (!isJson(value)) assertJson(value, '$'); // the slow walk only to name the offending path
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

const isPlainObject = (value: object) => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** Whether `canonicalize` can carry the value faithfully (no path strings: this runs per receipt). */
function isJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (const v of value) if (!isJson(v)) return false;
        return true;
      }
      if (!isPlainObject(value)) return false;
      for (const key in value) {
        if (Object.hasOwn(value, key) && !isJson((value as Record<string, unknown>)[key])) {
          return false;
        }
      }
      return true;
    }
    default:
      return false;
  }
}

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
