/** Prometheus plugin settings: where the tenant's Prometheus HTTP API lives. */
import { z } from '../../sdk/index.js';

/**
 * The tenant's `plugins.prometheus` settings. `url` is the server root (a path prefix such as
 * `https://example.org/prometheus` is kept); the step context must allow its host.
 * @example
 * prometheusSettings.parse({ url: 'http://prometheus.internal:9090' });
 */
export const prometheusSettings = z.strictObject({
  url: z.url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL such as http://prometheus:9090',
  }),
});

export type PrometheusSettings = z.output<typeof prometheusSettings>;

/**
 * Validates a step context's settings, with a message that names the plugin.
 * @example
 * const { url } = readSettings(ctx.settings);
 */
export function readSettings(settings: unknown): PrometheusSettings {
  const parsed = prometheusSettings.safeParse(settings);
  if (!parsed.success) {
    throw new Error(`prometheus settings are invalid: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
