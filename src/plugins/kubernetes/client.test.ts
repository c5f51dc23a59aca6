import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKubernetes, startFakeKubernetes } from '../../../test/fakes/kubernetes.js';
import { testStepContext } from '../../../test/fakes/step-context.js';
import { createKubernetesClient, KubernetesError } from './client.js';
import { kubernetesSettings } from './settings.js';

describe('createKubernetesClient', () => {
  let k8s: FakeKubernetes;
  beforeAll(async () => {
    k8s = await startFakeKubernetes();
    k8s.addDeployment('prod', 'api', { replicas: 3 });
  });
  afterAll(() => k8s.close());
  const ctx = (secrets: Record<string, string> = { token: k8s.token }) =>
    testStepContext({ settings: { apiUrl: k8s.url }, secrets });
  const since = (before: number) => k8s.requests.slice(before).map((r) => `${r.method} ${r.path}`);

  it('reads the scale, then writes it with the resourceVersion it read and the bearer token', async () => {
    const d = k8s.addDeployment('prod', 'web', { replicas: 2 });
    const version = d.resourceVersion;
    const before = k8s.requests.length;
    const change = await createKubernetesClient(ctx()).scale('prod', 'web', 4);
    expect(change).toEqual({ previousReplicas: 2, replicas: 4 });
    expect(since(before)).toEqual([
      'GET /apis/apps/v1/namespaces/prod/deployments/web/scale',
      'PUT /apis/apps/v1/namespaces/prod/deployments/web/scale',
    ]);
    const put = k8s.requests.at(-1);
    expect(put?.body).toEqual({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', namespace: 'prod', resourceVersion: version },
      spec: { replicas: 4 },
    });
    expect(put?.headers).toMatchObject({
      authorization: `Bearer ${k8s.token}`,
      accept: 'application/json',
      'content-type': 'application/json',
    });
  });

  it('reads a deployment at zero replicas, whose Scale omits the count', async () => {
    k8s.addDeployment('prod', 'idle', { replicas: 0 });
    const change = await createKubernetesClient(ctx()).scale('prod', 'idle', 1);
    expect(change).toEqual({ previousReplicas: 0, replicas: 1 });
  });

  it('reads again when someone else changed the count between its read and its write', async () => {
    const d = k8s.addDeployment('prod', 'busy', { replicas: 2 });
    let raced = false;
    k8s.onRequest((r) => {
      if (r.method === 'PUT' && !raced) {
        raced = true;
        k8s.update(d, { replicas: 7 }); // an autoscaler, say
      }
    });
    try {
      const before = k8s.requests.length;
      const change = await createKubernetesClient(ctx()).scale('prod', 'busy', 3);
      // The count it replaced is the autoscaler's 7, not the stale 2.
      expect(change).toEqual({ previousReplicas: 7, replicas: 3 });
      expect(since(before).map((r) => r.split(' ')[0])).toEqual(['GET', 'PUT', 'GET', 'PUT']);
      expect(d.replicas).toBe(3);
    } finally {
      k8s.onRequest(null);
    }
  });

  it('gives up with a retryable conflict when the deployment keeps changing', async () => {
    const d = k8s.addDeployment('prod', 'churn', { replicas: 2 });
    k8s.onRequest((r) => {
      if (r.method === 'PUT') k8s.update(d, { replicas: d.replicas + 1 });
    });
    try {
      const err = await createKubernetesClient(ctx())
        .scale('prod', 'churn', 1)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'KubernetesError', status: 409, reason: 'Conflict' });
      expect((err as KubernetesError).retryable).toBe(true);
      expect((err as Error).message).toMatch(/the object has been modified.*kept changing/);
      expect(k8s.requests.filter((r) => r.path.endsWith('/churn/scale'))).toHaveLength(6);
    } finally {
      k8s.onRequest(null);
    }
  });

  it('throws a clear error and sends nothing when the token secret is missing', () => {
    const before = k8s.requests.length;
    expect(() => createKubernetesClient(ctx({}))).toThrow('kubernetes needs the secret "token"');
    expect(k8s.requests.length).toBe(before);
  });

  it('reports a rejected token with a hint and does not retry it', async () => {
    const err = await createKubernetesClient(ctx({ token: 'expired' }))
      .scale('prod', 'api', 9)
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'Kubernetes refused GET /apis/apps/v1/namespaces/prod/deployments/api/scale: HTTP 401 Unauthorized — check the kubernetes "token" secret',
    );
    expect(err).toMatchObject({ status: 401, reason: 'Unauthorized', retryable: false });
    expect(k8s.deployment('prod', 'api')?.replicas).toBe(3);
  });

  it('reports an RBAC refusal with the message the API server gave', async () => {
    k8s.failNext(403, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'deployments.apps "api" is forbidden: User "system:serviceaccount:warden:warden" cannot get resource "deployments/scale" in API group "apps" in the namespace "prod"',
      reason: 'Forbidden',
      details: { name: 'api', group: 'apps', kind: 'deployments' },
      code: 403,
    });
    await expect(createKubernetesClient(ctx()).scale('prod', 'api', 9)).rejects.toThrow(
      /HTTP 403 Forbidden: deployments\.apps "api" is forbidden: User .* cannot get resource "deployments\/scale".* — the token's service account lacks this permission/,
    );
  });

  it('marks server errors and rate limits as retryable and says when to retry', async () => {
    k8s.failNext(503, {
      kind: 'Status',
      status: 'Failure',
      reason: 'ServiceUnavailable',
      code: 503,
      message: 'etcdserver: leader changed',
    });
    const unavailable = await createKubernetesClient(ctx())
      .scale('prod', 'api', 9)
      .catch((e: unknown) => e);
    expect(unavailable).toMatchObject({ status: 503, retryable: true });
    expect((unavailable as Error).message).toMatch(
      /HTTP 503 ServiceUnavailable: etcdserver: leader changed$/,
    );

    k8s.failNext(
      429,
      {
        kind: 'Status',
        status: 'Failure',
        reason: 'TooManyRequests',
        code: 429,
        message: 'Too many requests, please try again later.',
      },
      { 'retry-after': '1' },
    );
    await expect(createKubernetesClient(ctx()).restart('prod', 'api', new Date())).rejects.toThrow(
      'HTTP 429 TooManyRequests: Too many requests, please try again later. — rate limited, retry after 1',
    );
  });

  it('keeps the text of an error body that is not a Status', async () => {
    k8s.failNext(502, '<html><h1>502 Bad Gateway</h1></html>');
    const err = await createKubernetesClient(ctx())
      .scale('prod', 'api', 9)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubernetesError);
    expect((err as Error).message).toBe(
      'Kubernetes refused GET /apis/apps/v1/namespaces/prod/deployments/api/scale: HTTP 502: <html><h1>502 Bad Gateway</h1></html>',
    );
  });

  it('keeps a path prefix of the API URL, as behind a Rancher proxy', async () => {
    const c = testStepContext({
      settings: { apiUrl: `${k8s.url}/k8s/clusters/c-1` },
      secrets: { token: k8s.token },
    });
    // The fake serves no prefix, so the request lands on its 404: the prefix was kept.
    await expect(createKubernetesClient(c).scale('prod', 'api', 9)).rejects.toThrow(
      'HTTP 404 NotFound: the server could not find the requested resource',
    );
    expect(k8s.requests.at(-1)?.path).toBe(
      '/k8s/clusters/c-1/apis/apps/v1/namespaces/prod/deployments/api/scale',
    );
  });

  it('marks an unreachable API server as retryable and says why', async () => {
    const port = await closedPort();
    const c = testStepContext({
      settings: { apiUrl: `http://127.0.0.1:${port}` },
      secrets: { token: k8s.token },
    });
    const err = await createKubernetesClient(c)
      .scale('prod', 'api', 9)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'KubernetesError', retryable: true });
    expect((err as Error).message).toMatch(
      new RegExp(
        `^Kubernetes API at http://127.0.0.1:${port} could not be reached: fetch failed: .*ECONNREFUSED`,
      ),
    );
  });

  it('does not retry a certificate the Warden host does not trust, and says how to fix it', async () => {
    const bad = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const http = async () => {
      throw new TypeError('fetch failed', { cause: bad });
    };
    const c = { ...ctx(), http, settings: { apiUrl: 'https://10.0.0.1:6443' } };
    const err = await createKubernetesClient(c)
      .scale('prod', 'api', 9)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toBe(
      "Kubernetes API at https://10.0.0.1:6443 could not be reached: fetch failed: self-signed certificate in certificate chain — the API server's certificate is not trusted; give the Warden host the cluster CA (NODE_EXTRA_CA_CERTS)",
    );
  });

  it('refuses an API host the tenant did not allow, without retrying or sending anything', async () => {
    const c = testStepContext({
      settings: { apiUrl: 'https://kubernetes.default.svc' },
      secrets: { token: k8s.token },
    });
    const before = k8s.requests.length;
    const err = await createKubernetesClient(c)
      .scale('prod', 'api', 9)
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'Kubernetes API at https://kubernetes.default.svc could not be reached: host kubernetes.default.svc is not allowed for this plugin',
    );
    expect(err).toMatchObject({ retryable: false });
    expect(k8s.requests.length).toBe(before);
  });
});

describe('kubernetesSettings', () => {
  it('defaults the namespace and requires an http(s) API URL', () => {
    expect(kubernetesSettings.parse({ apiUrl: 'https://10.0.0.1:6443' })).toEqual({
      apiUrl: 'https://10.0.0.1:6443',
      namespace: 'default',
    });
    expect(kubernetesSettings.safeParse({}).success).toBe(false);
    expect(kubernetesSettings.safeParse({ apiUrl: 'ftp://10.0.0.1' }).success).toBe(false);
    expect(
      kubernetesSettings.safeParse({ apiUrl: 'https://k8s', namespace: 'Prod_1' }).success,
    ).toBe(false);
  });

  it('accepts insecureSkipTlsVerify only as false, saying what to do instead', () => {
    const ok = { apiUrl: 'https://k8s.internal', insecureSkipTlsVerify: false };
    expect(kubernetesSettings.safeParse(ok).success).toBe(true);
    const result = kubernetesSettings.safeParse({ ...ok, insecureSkipTlsVerify: true });
    expect(result.error?.issues[0]?.message).toMatch(/not supported.*NODE_EXTRA_CA_CERTS/);
  });

  it('refuses unknown keys, so a misspelt setting cannot pass unnoticed', () => {
    const typo = { apiUrl: 'https://k8s.internal', namepsace: 'prod' };
    expect(kubernetesSettings.safeParse(typo).success).toBe(false);
  });
});

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
