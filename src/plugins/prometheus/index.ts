/** The Prometheus plugin: query a tenant's Prometheus and verify that a mitigation worked. */
import { definePlugin, hostOf } from '../../sdk/index.js';
import { prometheusSettings } from './settings.js';
import { expectStep } from './steps/expect.step.js';
import { query } from './steps/query.step.js';

/**
 * @example
 * // warden.yaml: plugins: { prometheus: { url: "http://prometheus.internal:9090" } }
 * // playbook:   - { id: verify, uses: prometheus.expect, with: { query: "max(lag)", below: 30, within: 5m } }
 */
export const prometheusPlugin = definePlugin({
  name: 'prometheus',
  version: '1.0.0',
  description: 'Runs PromQL instant queries and waits for a metric to come back within bounds.',
  settings: prometheusSettings,
  hosts: (settings) => hostOf(settings.url),
  steps: { query, expect: expectStep },
});
