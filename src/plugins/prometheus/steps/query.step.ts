/** `prometheus.query`: runs one instant query and returns its samples. */
import { defineStep, z } from '../../../sdk/index.js';
import { createPrometheusClient, jsonValue } from '../client.js';
import { promql, promqlEscapes } from '../promql.js';
import { readSettings } from '../settings.js';

/** Receipts stay small: at most this many samples are returned (`total` says how many there were). */
const maxSamples = 1000;

/**
 * @example
 * // playbook: { uses: prometheus.query, with: { query: 'sum by (job) (up)' } }
 * await query.execute(ctx, { query: 'up' }); // { resultType: 'vector', total: 1, samples: [...] }
 */
export const query = defineStep({
  description: 'Runs a PromQL instant query and returns its samples.',
  input: z.strictObject({ query: promql }),
  risk: 'read',
  escapes: promqlEscapes,
  reversible: false,
  idempotent: true,
  targets: () => [],
  simulate(ctx, input) {
    const { url } = readSettings(ctx.settings);
    return {
      summary: `would query Prometheus at ${url}: ${input.query}`,
      effects: [{ request: 'POST /api/v1/query', server: url, query: input.query }],
    };
  },
  async execute(ctx, input) {
    const prometheus = createPrometheusClient(ctx.http, readSettings(ctx.settings), ctx.signal);
    const result = await prometheus.query(input.query);
    for (const warning of result.warnings) ctx.logger.warn('prometheus warning', { warning });
    return {
      resultType: result.resultType,
      total: result.samples.length,
      samples: result.samples
        .slice(0, maxSamples)
        .map((s) => ({ metric: s.metric, value: jsonValue(s.value) })),
    };
  },
});
