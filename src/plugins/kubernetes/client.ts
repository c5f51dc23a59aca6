/** Kubernetes API client: apps/v1 deployments and their scale subresource through the step's fetch. */
import { type StepContext, z } from '../../sdk/index.js';
import { readSettings } from './settings.js';

/** A refused or failed request; `reason` is the Kubernetes Status reason when the body carried one. */
export class KubernetesError extends Error {
  override readonly name = 'KubernetesError';
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly retryable: boolean;

  constructor(
    message: string,
    options: { status?: number; reason?: string; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.reason = options.reason;
    const s = options.status ?? 0;
    this.retryable = options.retryable ?? (s >= 500 || s === 429 || s === 408 || s === 409);
  }
}

export type ScaleChange = { previousReplicas: number; replicas: number };

export interface KubernetesClient {
  /** The namespace of steps that name none (the `namespace` setting). */
  readonly namespace: string;
  /** Sets a deployment's replica count and returns the count it had (read and written atomically). */
  scale(namespace: string, deployment: string, replicas: number): Promise<ScaleChange>;
  /** Restarts a deployment's pods the way `kubectl rollout restart` does; returns the stamp. */
  restart(namespace: string, deployment: string, at: Date): Promise<{ restartedAt: string }>;
}

const requestTimeoutMs = 30_000;
/** Read-then-write attempts of `scale` when someone else changes the deployment in between. */
const scaleAttempts = 3;
export const restartAnnotation = 'kubectl.kubernetes.io/restartedAt';

// autoscaling/v1 ScaleSpec.replicas is `omitempty`: a deployment at 0 replicas has `spec: {}`.
const scaleSchema = z.object({
  kind: z.literal('Scale'),
  metadata: z.object({ resourceVersion: z.string() }),
  spec: z.object({ replicas: z.number().int().nonnegative().optional() }).optional(),
});
const deploymentSchema = z.object({
  kind: z.literal('Deployment'),
  spec: z.object({ paused: z.boolean().optional() }),
});

/**
 * A client for the tenant's API server, authenticated with its `token` secret (required).
 * @example
 * const k8s = createKubernetesClient(ctx);
 * await k8s.scale('prod', 'ingest', 4); // { previousReplicas: 2, replicas: 4 }
 */
export function createKubernetesClient(
  ctx: Pick<StepContext, 'http' | 'settings' | 'secrets' | 'signal'>,
): KubernetesClient {
  const { apiUrl, namespace } = readSettings(ctx.settings);
  const token = ctx.secrets.token;
  if (!token) {
    throw new Error(
      'kubernetes needs the secret "token" (plugins.kubernetes.secrets.token): a service account token allowed to update deployments',
    );
  }
  const base = apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;

  async function call(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<unknown> {
    const url = new URL(path, base);
    const request = `${method} /${path}`;
    let response: Response;
    let text: string;
    try {
      response = await ctx.http(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': contentType }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(requestTimeoutMs)]),
      });
      text = await response.text();
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw unreachable(url, err);
    }
    if (!response.ok) throw refusal(request, response, text);
    try {
      return JSON.parse(text);
    } catch {
      throw new KubernetesError(`Kubernetes answered ${request} with a body that is not JSON`, {
        status: response.status,
      });
    }
  }

  const deploymentPath = (ns: string, name: string) =>
    `apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments/${encodeURIComponent(name)}`;

  function parse<T>(schema: z.ZodType<T>, body: unknown, request: string): T {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const text = JSON.stringify(body).slice(0, 200);
    throw new KubernetesError(`Kubernetes answered ${request} with an unexpected body: ${text}`);
  }

  return {
    namespace,
    async scale(ns, name, replicas) {
      const path = `${deploymentPath(ns, name)}/scale`;
      for (let attempt = 1; ; attempt++) {
        const current = parse(scaleSchema, await call('GET', path), `GET /${path}`);
        const previousReplicas = current.spec?.replicas ?? 0;
        if (previousReplicas === replicas) return { previousReplicas, replicas };
        // PUT with the resourceVersion just read: the write fails (409) if the count moved since,
        // so `previousReplicas` is exactly the count this write replaced.
        const scale = {
          apiVersion: 'autoscaling/v1',
          kind: 'Scale',
          metadata: { name, namespace: ns, resourceVersion: current.metadata.resourceVersion },
          spec: { replicas },
        };
        try {
          await call('PUT', path, scale);
          return { previousReplicas, replicas };
        } catch (err) {
          if (!(err instanceof KubernetesError && err.status === 409) || attempt >= scaleAttempts) {
            throw err;
          }
        }
      }
    },
    async restart(ns, name, at) {
      const path = deploymentPath(ns, name);
      const deployment = parse(deploymentSchema, await call('GET', path), `GET /${path}`);
      if (deployment.spec.paused) {
        throw new KubernetesError(
          `deployment ${ns}/${name} is paused, so a restart would not roll out; resume it first (kubectl rollout resume deployment/${name} -n ${ns})`,
          { retryable: false },
        );
      }
      // What kubectl does: a new pod-template annotation makes the controller roll every pod.
      // Milliseconds (still RFC 3339) keep two restarts within one second distinct.
      const restartedAt = at.toISOString();
      const patch = {
        spec: { template: { metadata: { annotations: { [restartAnnotation]: restartedAt } } } },
      };
      await call('PATCH', path, patch, 'application/strategic-merge-patch+json');
      return { restartedAt };
    },
  };
}

/** A request that got no answer: network trouble and timeouts may pass, a bad certificate will not. */
function unreachable(url: URL, err: unknown): KubernetesError {
  const causes: { name?: unknown; code?: unknown; message?: unknown }[] = [];
  for (let e = err as { cause?: unknown } | undefined; e && causes.length < 4; ) {
    causes.push(e as (typeof causes)[number]);
    e = (e as { cause?: unknown }).cause as typeof e;
  }
  const certificate = causes.some((c) => /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(String(c.code)));
  const transient =
    !certificate && (err instanceof TypeError || causes.some((c) => c.name === 'TimeoutError'));
  const why = causes
    .map((c) => String(c.message ?? c))
    .filter((m, i, all) => m !== '' && all.indexOf(m) === i)
    .join(': ');
  const hint = certificate
    ? " — the API server's certificate is not trusted; give the Warden host the cluster CA (NODE_EXTRA_CA_CERTS)"
    : '';
  const message = `Kubernetes API at ${url.origin} could not be reached: ${why}${hint}`;
  return new KubernetesError(message, { retryable: transient, cause: err });
}

const hints: Record<number, string> = {
  401: ' — check the kubernetes "token" secret',
  403: " — the token's service account lacks this permission (RBAC; see the kubernetes plugin README)",
  404: ' — check the deployment name and namespace',
  409: ' — the deployment kept changing while Warden wrote it; try again',
};

/** Turns an error response into a sentence from its Kubernetes Status: code, reason, message. */
function refusal(request: string, response: Response, text: string): KubernetesError {
  let reason: string | undefined;
  let detail = text.slice(0, 200).trim();
  try {
    const status = JSON.parse(text) as { kind?: unknown; reason?: unknown; message?: unknown };
    if (status.kind === 'Status') {
      reason = typeof status.reason === 'string' && status.reason ? status.reason : undefined;
      detail = typeof status.message === 'string' ? status.message : '';
    }
  } catch {
    // Not a Status (a proxy's page, say): the raw text is the best we have.
  }
  let hint = hints[response.status] ?? '';
  if (response.status === 429) {
    hint = ` — rate limited, retry after ${response.headers.get('retry-after') ?? 'a while'}`;
  }
  const said = detail && detail !== reason ? `: ${detail}` : '';
  const message = `Kubernetes refused ${request}: HTTP ${response.status}${reason ? ` ${reason}` : ''}${said}${hint}`;
  return new KubernetesError(message, { status: response.status, reason });
}
