/** `prometheus.expect`: polls a query until every sample is inside a bound, or fails when time is up. */
import { setTimeout as sleep } from 'node:timers/promises';
import { defineStep, z } from '../../../sdk/index.js';
import { type Bound, describeBound, describeSample, judge } from '../bound.js';
import { createPrometheusClient, jsonValue, PrometheusError } from '../client.js';
import { durationMs, formatDuration } from '../duration.js';
import { promql, promqlEscapes, threshold } from '../promql.js';
import { readSettings } from '../settings.js';

const input = z
  .strictObject({
    query: promql,
    below: threshold.optional(),
    above: threshold.optional(),
    /** How long to keep trying; 0 checks once. @defaultValue '0s' */
    within: durationMs({ max: 86_400_000 }).default(0),
    /** Pause between checks. @defaultValue '10s' */
    every: durationMs({ min: 1000, max: 3_600_000 }).default(10_000),
  })
  .refine((i) => i.below !== undefined || i.above !== undefined, {
    message: 'set below, above or both',
    path: ['below'],
  })
  .refine((i) => i.below === undefined || i.above === undefined || i.above < i.below, {
    message: 'above must be less than below',
    path: ['above'],
  });

/**
 * @example
 * // playbook: { uses: prometheus.expect, with: { query: 'max(receipt_lag_seconds)', below: 30, within: 5m } }
 * await expectStep.execute(ctx, input.parse({ query: 'max(lag)', below: 30, within: '5m' }));
 * // { satisfied: true, value: 12, after_ms: 20034 }
 */
export const expectStep = defineStep({
  description: 'Waits until every sample of a PromQL query is below and/or above a threshold.',
  input,
  risk: 'read',
  escapes: promqlEscapes,
  reversible: false,
  idempotent: true,
  targets: () => [],
  simulate(ctx, i) {
    const { url } = readSettings(ctx.settings);
    const bound = describeBound(i);
    const when =
      i.within === 0
        ? 'once'
        : `within ${formatDuration(i.within)}, every ${formatDuration(i.every)}`;
    return {
      summary: `would check that ${i.query} is ${bound} (${when}) on Prometheus at ${url}`,
      effects: [{ request: 'POST /api/v1/query', server: url, query: i.query, bound }],
    };
  },
  async execute(ctx, i) {
    const prometheus = createPrometheusClient(ctx.http, readSettings(ctx.settings), ctx.signal);
    const bound: Bound = { below: i.below, above: i.above };
    const started = Date.now();
    let last = 'no answer';
    for (;;) {
      ctx.signal.throwIfAborted();
      try {
        const { samples } = await prometheus.query(i.query);
        const verdict = judge(samples, bound);
        if (verdict.satisfied && verdict.worst) {
          return {
            satisfied: true,
            value: jsonValue(verdict.worst.value),
            after_ms: Date.now() - started,
          };
        }
        last = verdict.worst
          ? describeSample(verdict.worst) +
            (verdict.failing > 1 ? ` (${verdict.failing} of ${samples.length} series outside)` : '')
          : 'no samples (the query matched no series)';
      } catch (err) {
        // Transient trouble (Prometheus restarting, 503) is retried; a bad query is not.
        if (!(err instanceof PrometheusError) || !err.retryable) throw err;
        last = `query failed: ${err.message}`;
      }
      const left = started + i.within - Date.now();
      if (left <= 0) break;
      ctx.logger.info('prometheus.expect: not yet', { query: i.query, last, remaining_ms: left });
      await sleep(Math.min(i.every, left), undefined, { signal: ctx.signal });
    }
    const window = i.within === 0 ? '' : ` within ${formatDuration(i.within)}`;
    throw new Error(
      `prometheus.expect: ${i.query} was not ${describeBound(bound)}${window}; last value: ${last}`,
    );
  },
});
