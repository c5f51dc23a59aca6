/** The http plugin: calls endpoints on the hosts a tenant allowed in `plugins.http.allowedHosts`. */
import { definePlugin } from '../../sdk/index.js';
import { request } from './steps/request.step.js';

/**
 * @example
 * // warden.yaml: plugins: { http: { allowedHosts: [ingest.internal] } }
 * // playbook:    uses: http.request
 */
export const httpPlugin = definePlugin({
  name: 'http',
  version: '1.0.0',
  description: 'Generic HTTP calls to hosts the tenant allowed.',
  steps: { request },
});
