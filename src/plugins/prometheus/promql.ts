/** Input fields shared by the Prometheus steps: a PromQL expression and a numeric threshold. */
import { z } from '../../sdk/index.js';

/**
 * One PromQL expression, at most 4000 characters.
 * @example
 * z.object({ query: promql }).parse({ query: 'max(receipt_lag_seconds)' });
 */
export const promql = z.string().trim().min(1, 'expected a PromQL query').max(4000);

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
