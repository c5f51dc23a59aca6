/** Input fields shared by the Prometheus steps: a PromQL expression and a numeric threshold. */
import { z } from '../../sdk/index.js';

/**
 * One PromQL expression, at most 4000 characters.
 * @example
 * z.object({ query: promql }).parse({ query: 'max(receipt_lag_seconds)' });
 */
export const promql = z.string().trim().min(1, 'expected a PromQL query').max(4000);

/**
 * Escapes a value interpolated into a PromQL query for a double- or single-quoted string literal:
 * backslash, both quotes and line breaks are backslash-escaped, so a label such as
 * `3"} or vector(1) #` stays inside its `"…"` instead of rewriting the query. Outside a string an
 * escaped quote is a syntax error, so the query fails loudly rather than changing meaning. A
 * backtick is refused: PromQL's raw strings have no escapes.
 * @example
 * escapePromqlString('a"b') // 'a\\"b'
 */
export function escapePromqlString(value: string): string {
  if (value.includes('`')) throw new Error('a backtick cannot be placed in a PromQL query safely');
  return value.replace(/[\\"'\n\r]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
}

/** The escapers of the Prometheus steps: the query is PromQL. */
export const promqlEscapes = { query: escapePromqlString } as const;

/**
 * A finite number, or its decimal text (what `{{ alert.labels.threshold }}` interpolates to).
 * @example
 * threshold.parse('30') // 30
 */
export const threshold = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'expected a number')
    .transform(Number),
]);
