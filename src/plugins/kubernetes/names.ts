/** Kubernetes object names as the API server validates them (DNS-1123), shared by the steps. */
import { z } from '../../sdk/index.js';

const label = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

/**
 * A namespace: a DNS-1123 label (lowercase letters, digits and "-", at most 63 characters).
 * @example
 * namespaceName.parse('payments-prod');
 */
export const namespaceName = z
  .string()
  .max(63, 'a namespace is at most 63 characters')
  .regex(
    new RegExp(`^${label}$`),
    'expected a namespace: lowercase letters, digits and "-", starting and ending with a letter or digit',
  );

/**
 * A deployment name: a DNS-1123 subdomain (DNS labels joined by ".", at most 253 characters).
 * Nothing that could change the request path (`/`, `..`, `%`, spaces) gets through.
 * @example
 * deploymentName.parse('receipts-ingest');
 */
export const deploymentName = z
  .string()
  .max(253, 'a deployment name is at most 253 characters')
  .regex(
    new RegExp(`^${label}(\\.${label})*$`),
    'expected a deployment name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
  );

/** `deployment` and `namespace` inputs; the namespace defaults to the plugin setting. */
export const deploymentRef = { deployment: deploymentName, namespace: namespaceName.optional() };

/**
 * The blast-radius target of a deployment. `targets()` does not see the settings, so a step
 * without `namespace` names the plugin's default namespace as `(default)`.
 * @example
 * deploymentTarget({ deployment: 'ingest', namespace: 'prod' }); // 'deployment/prod/ingest'
 */
export function deploymentTarget(input: { deployment: string; namespace?: string }): string {
  return `deployment/${input.namespace ?? '(default)'}/${input.deployment}`;
}
