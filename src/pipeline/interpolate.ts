/**
 * Interpolate: `{{ path.to.field }}` in step inputs, lookup only — no helpers, no code, no partials.
 * A string that is exactly one placeholder takes the value as data (any JSON type); a placeholder
 * inside a longer string takes a string, number or boolean as text. Values are inserted once and
 * never read as templates again, so a label like `{{constructor}}` or `"; rm -rf /` stays inert
 * data for the step's input schema to accept or refuse. Lookups see own properties only.
 */
import type { JsonValue } from '../ledger/receipt.js';

export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
}

const placeholder = /\{\{\s*([^{}]*?)\s*\}\}/g;
const segment = /^(?:[A-Za-z_][A-Za-z0-9_-]*|\d+)$/;

function lookup(context: unknown, path: string): unknown {
  const parts = path.split('.');
  if (parts.length === 0 || parts.length > 16 || !parts.every((p) => segment.test(p))) {
    throw new InterpolationError(
      `"{{ ${path} }}" is not a field path (letters, digits, _ and - joined by .)`,
    );
  }
  let value: unknown = context;
  for (const part of parts) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) {
      throw new InterpolationError(`"{{ ${path} }}" names nothing in the trigger`);
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function fill(text: string, context: unknown): JsonValue {
  const whole = /^\{\{\s*([^{}]*?)\s*\}\}$/.exec(text);
  if (whole) return lookup(context, whole[1] as string) as JsonValue;
  return text.replace(placeholder, (_m, path: string) => {
    const value = lookup(context, path);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return String(value);
    }
    throw new InterpolationError(
      `"{{ ${path} }}" is not text and cannot be placed inside a string`,
    );
  });
}

/**
 * Replaces placeholders in every string of `template` (objects and arrays walked; keys left as
 * they are). Throws InterpolationError for a malformed or missing reference.
 * @example
 * interpolate({ shard: '{{ alert.labels.shard }}' }, { alert: { labels: { shard: '7' } } });
 * // { shard: '7' }
 */
export function interpolate(template: unknown, context: unknown): JsonValue {
  if (typeof template === 'string') return fill(template, context);
  if (Array.isArray(template)) return template.map((v) => interpolate(v, context));
  if (template !== null && typeof template === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(template)) out[k] = interpolate(v, context);
    return out;
  }
  return template as JsonValue;
}
