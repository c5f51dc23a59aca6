/** The Kubernetes plugin: scale and rollout-restart deployments through the API server's REST API. */
import { definePlugin, hostOf } from '../../sdk/index.js';
import { kubernetesSettings } from './settings.js';
import { rolloutRestart } from './steps/rollout-restart.step.js';
import { scale } from './steps/scale.step.js';

/**
 * @example
 * // warden.yaml: plugins: { kubernetes: { apiUrl: "https://kubernetes.default.svc", namespace: prod,
 * //                                       secrets: { token: env:ACME_K8S_TOKEN } } }
 * // playbook:   - { id: restart, uses: kubernetes.rolloutRestart, with: { deployment: ingest } }
 */
export const kubernetesPlugin = definePlugin({
  name: 'kubernetes',
  version: '1.0.0',
  description: 'Scales and restarts Kubernetes deployments.',
  settings: kubernetesSettings,
  hosts: (settings) => hostOf(settings.apiUrl),
  secrets: ['token'],
  steps: { scale, rolloutRestart },
});
