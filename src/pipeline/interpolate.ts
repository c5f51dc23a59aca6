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

/** Escapes a value placed inside a longer string; may throw to refuse it. */
export type Escape = (value: string) => string;

function fill(text: string, context: unknown, escaper?: Escape): JsonValue {
  const whole = /^\{\{\s*([^{}]*?)\s*\}\}$/.exec(text);
  if (whole) return lookup(context, whole[1] as string) as JsonValue;
  return text.replace(placeholder, (_m, path: string) => {
    const value = lookup(context, path);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      if (!escaper) return String(value);
      try {
        return escaper(String(value));
      } catch (err) {
        throw new InterpolationError(`"{{ ${path} }}": ${(err as Error).message}`);
      }
    }
    throw new InterpolationError(
      `"{{ ${path} }}" is not text and cannot be placed inside a string`,
    );
  });
}

/**
 * Replaces placeholders in every string of `template` (objects and arrays walked; keys left as
 * they are). `escapes` names top-level fields whose embedded values go through an escaper (a
 * step's `escapes`). Throws InterpolationError for a malformed or missing reference, or a value an
 * escaper refused.
 * @example
 * interpolate({ shard: '{{ alert.labels.shard }}' }, { alert: { labels: { shard: '7' } } });
 * // { shard: '7' }
 */
export function interpolate(
  template: unknown,
  context: unknown,
  escapes?: Readonly<Record<string, Escape>>,
): JsonValue {
  if (escapes && template !== null && typeof template === 'object' && !Array.isArray(template)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(template)) {
      const escaper = Object.hasOwn(escapes, k) ? escapes[k] : undefined;
      out[k] = walk(v, context, escaper);
    }
    return out;
  }
  return walk(template, context, undefined);
}

function walk(template: unknown, context: unknown, escaper: Escape | undefined): JsonValue {
  if (typeof template === 'string') return fill(template, context, escaper);
  if (Array.isArray(template)) return template.map((v) => walk(v, context, escaper));
  if (template !== null && typeof template === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(template)) out[k] = walk(v, context, escaper);
    return out;
  }
  return template as JsonValue;
}
