/** `kubernetes.rolloutRestart`: rolls every pod of a deployment, as `kubectl rollout restart` does. */
import { defineStep, type Json, z } from '../../../sdk/index.js';
import { createKubernetesClient, restartAnnotation } from '../client.js';
import { deploymentRef, deploymentTarget } from '../names.js';
import { readSettings } from '../settings.js';

/**
 * @example
 * // playbook: { uses: kubernetes.rolloutRestart, with: { deployment: ingest, namespace: prod } }
 * await rolloutRestart.execute(ctx, { deployment: 'ingest', namespace: 'prod' });
 * // { restartedAt: '2025-06-01T12:00:00.000Z' }
 */
export const rolloutRestart = defineStep({
  description: 'Restarts the pods of a Kubernetes deployment with a rolling update.',
  input: z.strictObject(deploymentRef),
  risk: 'write',
  reversible: false,
  // Each run stamps a new time and so rolls the pods again.
  idempotent: false,
  targets: (input) => [deploymentTarget(input)],
  cost: () => 1,
  simulate(ctx, input) {
    const { apiUrl, namespace } = readSettings(ctx.settings);
    const ns = input.namespace ?? namespace;
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/${input.deployment}`;
    const effects: Json[] = [
      { request: `GET ${path}`, server: apiUrl },
      { request: `PATCH ${path}`, server: apiUrl, annotation: restartAnnotation },
    ];
    return {
      summary: `would restart the pods of deployment ${ns}/${input.deployment} (rolling update)`,
      effects,
    };
  },
  async execute(ctx, input) {
    const k8s = createKubernetesClient(ctx);
    const ns = input.namespace ?? k8s.namespace;
    const output = await k8s.restart(ns, input.deployment, new Date());
    ctx.logger.info(`restarted deployment ${ns}/${input.deployment}`, output);
    return output;
  },
});
