/** Kubernetes plugin settings: the API server, the default namespace, and TLS left on. */
import { z } from '../../sdk/index.js';
import { namespaceName } from './names.js';

/**
 * The tenant's `plugins.kubernetes` settings; the `token` secret is read separately.
 * @example
 * kubernetesSettings.parse({ apiUrl: 'https://kubernetes.default.svc' });
 * // { apiUrl: 'https://kubernetes.default.svc', namespace: 'default' }
 */
export const kubernetesSettings = z.strictObject({
  /** API server root (a path prefix, as behind Rancher, is kept); the step context must allow its host. */
  apiUrl: z.url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL such as https://kubernetes.default.svc',
  }),
  /** Namespace of the steps that name none. @defaultValue 'default' */
  namespace: namespaceName.default('default'),
  /**
   * Accepted only as `false`: the step HTTP client always verifies TLS. Trust a private cluster CA
   * on the Warden host instead (NODE_EXTRA_CA_CERTS).
   */
  insecureSkipTlsVerify: z
    .literal(false, {
      error:
        'skipping TLS verification is not supported; make the Warden host trust the cluster CA (NODE_EXTRA_CA_CERTS)',
    })
    .optional(),
});

export type KubernetesSettings = z.output<typeof kubernetesSettings>;

/**
 * Validates a step context's settings, with a message that names the plugin.
 * @example
 * const { apiUrl, namespace } = readSettings(ctx.settings);
 */
export function readSettings(settings: unknown): KubernetesSettings {
  const parsed = kubernetesSettings.safeParse(settings);
  if (!parsed.success) {
    throw new Error(`kubernetes settings are invalid: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
