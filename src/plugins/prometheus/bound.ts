/** Bounds for `prometheus.expect`: whether every sample is strictly below / above, and the worst one. */
import type { Sample } from './client.js';

/** At least one side is set; both are exclusive. */
export type Bound = { below?: number; above?: number };

export type Verdict = {
  /** True when there is at least one sample and every sample is inside the bound. */
  satisfied: boolean;
  /** The sample nearest to (or furthest past) the bound; undefined when there are none. */
  worst: Sample | undefined;
  /** How many samples are outside the bound (NaN is always outside). */
  failing: number;
};

/**
 * Judges a query result against a bound. No samples is never satisfied: a metric that vanished
 * (scrape target down, typo in the query) must not pass for a recovered one.
 * @example
 * judge([{ metric: {}, value: 12 }], { below: 30 }).satisfied // true
 */
export function judge(samples: Sample[], bound: Bound): Verdict {
  let worst: Sample | undefined;
  let worstMargin = Number.POSITIVE_INFINITY;
  let failing = 0;
  for (const sample of samples) {
    const m = margin(sample.value, bound);
    if (m <= 0) failing += 1;
    if (worst === undefined || m < worstMargin) {
      worst = sample;
      worstMargin = m;
    }
  }
  return { satisfied: samples.length > 0 && failing === 0, worst, failing };
}

/** How far inside the bound a value sits; zero or less is outside. */
function margin(value: number, bound: Bound): number {
  if (Number.isNaN(value)) return Number.NEGATIVE_INFINITY;
  let m = Number.POSITIVE_INFINITY;
  if (bound.below !== undefined) m = Math.min(m, bound.below - value);
  if (bound.above !== undefined) m = Math.min(m, value - bound.above);
  return m;
}

/**
 * @example
 * describeBound({ above: 1, below: 30 }) // 'above 1 and below 30'
 */
export function describeBound(bound: Bound): string {
  const parts: string[] = [];
  if (bound.above !== undefined) parts.push(`above ${bound.above}`);
  if (bound.below !== undefined) parts.push(`below ${bound.below}`);
  return parts.join(' and ');
}

/**
 * A sample as PromQL users read it.
 * @example
 * describeSample({ metric: { job: 'api' }, value: 42 }) // '42 {job="api"}'
 */
export function describeSample(sample: Sample): string {
  const labels = Object.entries(sample.metric).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return labels.length === 0 ? String(sample.value) : `${sample.value} {${labels.join(', ')}}`;
}
