/** `kubernetes.scale`: sets a deployment's replica count; rollback puts the previous count back. */
import { defineStep, type Json, z } from '../../../sdk/index.js';
import { createKubernetesClient } from '../client.js';
import { deploymentRef, deploymentTarget } from '../names.js';
import { readSettings } from '../settings.js';

/** 0–1000, as a number or its digits (what `{{ alert.labels.replicas }}` interpolates to). */
const replicaCount = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d{1,4}$/, 'expected a whole number of replicas')
      .transform(Number),
  ])
  .pipe(z.number().int('expected a whole number of replicas').min(0).max(1000));

/**
 * @example
 * // playbook: { uses: kubernetes.scale, with: { deployment: ingest, namespace: prod, replicas: 6 } }
 * await scale.execute(ctx, { deployment: 'ingest', namespace: 'prod', replicas: 6 });
 * // { previousReplicas: 3, replicas: 6 }
 */
export const scale = defineStep({
  description: "Sets a Kubernetes deployment's replica count.",
  input: z.strictObject({ ...deploymentRef, replicas: replicaCount }),
  risk: 'write',
  reversible: true,
  // Setting an absolute count twice is the same as once.
  idempotent: true,
  targets: (input) => [deploymentTarget(input)],
  cost: () => 1,
  simulate(ctx, input) {
    const { apiUrl, namespace } = readSettings(ctx.settings);
    const ns = input.namespace ?? namespace;
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/${input.deployment}/scale`;
    const effects: Json[] = [
      { request: `GET ${path}`, server: apiUrl },
      { request: `PUT ${path}`, server: apiUrl, replicas: input.replicas },
    ];
    return {
      summary: `would scale deployment ${ns}/${input.deployment} to ${input.replicas} replicas`,
      effects,
    };
  },
  async execute(ctx, input) {
    const k8s = createKubernetesClient(ctx);
    const ns = input.namespace ?? k8s.namespace;
    const change = await k8s.scale(ns, input.deployment, input.replicas);
    ctx.logger.info(`scaled deployment ${ns}/${input.deployment}`, change);
    return change;
  },
  async rollback(ctx, input, output) {
    const { previousReplicas, replicas } = output;
    if (!Number.isInteger(previousReplicas) || previousReplicas < 0) {
      throw new Error(`kubernetes.scale rollback: no previous replica count in the step output`);
    }
    const k8s = createKubernetesClient(ctx);
    const ns = input.namespace ?? k8s.namespace;
    const undo = await k8s.scale(ns, input.deployment, previousReplicas);
    if (undo.previousReplicas !== replicas) {
      // Someone (an autoscaler, a person) changed it after the step: say so, then restore anyway.
      ctx.logger.warn(
        `deployment ${ns}/${input.deployment} had ${undo.previousReplicas} replicas, not the ${replicas} the step set; restored ${previousReplicas}`,
      );
    }
  },
});
