import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKubernetes, startFakeKubernetes } from '../../../../test/fakes/kubernetes.js';
import { testStepContext } from '../../../../test/fakes/step-context.js';
import { scale } from './scale.step.js';

describe('kubernetes.scale', () => {
  let k8s: FakeKubernetes;
  beforeAll(async () => {
    k8s = await startFakeKubernetes();
    k8s.addDeployment('prod', 'ingest', { replicas: 3 });
  });
  afterAll(() => k8s.close());
  const ctx = (over: { token?: string; namespace?: string } = {}) =>
    testStepContext({
      settings: { apiUrl: k8s.url, ...(over.namespace ? { namespace: over.namespace } : {}) },
      secrets: { token: over.token ?? k8s.token },
    });
  const replicas = (ns: string, name: string) => k8s.deployment(ns, name)?.replicas;

  it('scales up and returns the count it replaced', async () => {
    const input = scale.input.parse({ deployment: 'ingest', namespace: 'prod', replicas: 6 });
    expect(await scale.execute(ctx(), input)).toEqual({ previousReplicas: 3, replicas: 6 });
    expect(replicas('prod', 'ingest')).toBe(6);
  });

  it('scales down, to zero and back up', async () => {
    const c = ctx();
    const down = await scale.execute(c, { deployment: 'ingest', namespace: 'prod', replicas: 0 });
    expect(down).toEqual({ previousReplicas: 6, replicas: 0 });
    expect(replicas('prod', 'ingest')).toBe(0);
    const up = await scale.execute(c, { deployment: 'ingest', namespace: 'prod', replicas: 3 });
    expect(up).toEqual({ previousReplicas: 0, replicas: 3 });
  });

  it('uses the namespace setting when the input names none', async () => {
    k8s.addDeployment('payments', 'ledger', { replicas: 2 });
    const output = await scale.execute(ctx({ namespace: 'payments' }), {
      deployment: 'ledger',
      replicas: 4,
    });
    expect(output).toEqual({ previousReplicas: 2, replicas: 4 });
    expect(replicas('payments', 'ledger')).toBe(4);
    // Without the setting, the namespace is "default".
    await scale.execute(ctx(), { deployment: 'ingest', replicas: 5 });
    expect(replicas('default', 'ingest')).toBe(5);
  });

  it('writes nothing when the deployment already has that many replicas', async () => {
    const before = k8s.requests.length;
    const output = await scale.execute(ctx(), {
      deployment: 'ingest',
      namespace: 'prod',
      replicas: 3,
    });
    expect(output).toEqual({ previousReplicas: 3, replicas: 3 });
    expect(k8s.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
  });

  it('rolls back to the count the step replaced', async () => {
    const d = k8s.addDeployment('prod', 'worker', { replicas: 2 });
    const input = { deployment: 'worker', namespace: 'prod', replicas: 10 };
    const output = await scale.execute(ctx(), input);
    expect(d.replicas).toBe(10);
    await scale.rollback?.(ctx(), input, output);
    expect(d.replicas).toBe(2);
  });

  it('rolls back even when the count moved since, and warns about it', async () => {
    const d = k8s.addDeployment('prod', 'hpa', { replicas: 2 });
    const input = { deployment: 'hpa', namespace: 'prod', replicas: 4 };
    const output = await scale.execute(ctx(), input);
    k8s.update(d, { replicas: 8 }); // an autoscaler moved it
    const c = ctx();
    await scale.rollback?.(c, input, output);
    expect(d.replicas).toBe(2);
    expect(c.logs).toContainEqual({
      level: 'warn',
      message: 'deployment prod/hpa had 8 replicas, not the 4 the step set; restored 2',
      fields: undefined,
    });
  });

  it('fails with the API server message when the deployment does not exist', async () => {
    const err = await scale
      .execute(ctx(), { deployment: 'nope', namespace: 'prod', replicas: 1 })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'Kubernetes refused GET /apis/apps/v1/namespaces/prod/deployments/nope/scale: HTTP 404 NotFound: deployments.apps "nope" not found — check the deployment name and namespace',
    );
    expect(err).toMatchObject({ status: 404, reason: 'NotFound', retryable: false });
  });

  it('fails clearly when the token is refused, and changes nothing', async () => {
    await expect(
      scale.execute(ctx({ token: 'revoked' }), {
        deployment: 'ingest',
        namespace: 'prod',
        replicas: 1,
      }),
    ).rejects.toThrow('HTTP 401 Unauthorized — check the kubernetes "token" secret');
    expect(replicas('prod', 'ingest')).toBe(3);
  });

  it('accepts a count as a number or its digits, from 0 to 1000', () => {
    const ok = (replicas: unknown) =>
      scale.input.safeParse({ deployment: 'ingest', replicas }).success;
    expect(scale.input.parse({ deployment: 'ingest', replicas: '12' }).replicas).toBe(12);
    expect([0, 1000, '0', '1000'].every(ok)).toBe(true);
    for (const bad of [-1, 1001, 1.5, '1001', '-1', '3a', ' 3', '', null, true]) {
      expect(ok(bad), String(bad)).toBe(false);
    }
  });

  it('refuses names that are not DNS-1123, so nothing can alter the request path', () => {
    const ok = (deployment: unknown, namespace?: unknown) =>
      scale.input.safeParse({ deployment, namespace, replicas: 1 }).success;
    expect(ok('receipts-ingest')).toBe(true);
    expect(ok('ingest.v2', 'prod-1')).toBe(true);
    expect(ok('a'.repeat(253))).toBe(true);
    for (const bad of [
      '../../etc',
      '"; rm -rf /',
      'ingest/scale',
      'ingest?dryRun=All',
      'in%2Fgest',
      'Ingest',
      'ingest ',
      '-ingest',
      'ingest-',
      'a..b',
      '.',
      '',
      '{{constructor}}',
      'a'.repeat(254),
      42,
    ]) {
      expect(ok(bad), String(bad)).toBe(false);
    }
    for (const bad of ['prod.eu', '../kube-system', 'Prod', 'a'.repeat(64), '']) {
      expect(ok('ingest', bad), bad).toBe(false);
    }
    expect(scale.input.safeParse({ deployment: 'ingest', replicas: 1, force: true }).success).toBe(
      false,
    );
  });

  it('simulates without sending any request', async () => {
    const before = k8s.requests.length;
    const plan = await scale.simulate(ctx({ namespace: 'payments' }), {
      deployment: 'ledger',
      replicas: 0,
    });
    expect(plan.summary).toBe('would scale deployment payments/ledger to 0 replicas');
    expect(plan.effects).toContainEqual({
      request: 'PUT /apis/apps/v1/namespaces/payments/deployments/ledger/scale',
      server: k8s.url,
      replicas: 0,
    });
    expect(k8s.requests.length).toBe(before);
  });

  it('stops when the run is aborted, before it writes anything', async () => {
    const c = ctx();
    k8s.onRequest(() => c.abort.abort());
    try {
      const before = k8s.requests.length;
      await expect(
        scale.execute(c, { deployment: 'ingest', namespace: 'prod', replicas: 9 }),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(k8s.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
      expect(replicas('prod', 'ingest')).toBe(3);
    } finally {
      k8s.onRequest(null);
    }
    // Aborted before it starts: no request at all.
    const before = k8s.requests.length;
    await expect(
      scale.execute(c, { deployment: 'ingest', namespace: 'prod', replicas: 9 }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(k8s.requests.length).toBe(before);
  });

  it('declares one deployment target, cost 1, a reversible idempotent write', () => {
    expect(scale.targets({ deployment: 'ingest', namespace: 'prod', replicas: 1 })).toEqual([
      'deployment/prod/ingest',
    ]);
    expect(scale.targets({ deployment: 'ingest', replicas: 1 })).toEqual([
      'deployment/(default)/ingest',
    ]);
    expect(scale.cost?.({ deployment: 'ingest', replicas: 1 })).toBe(1);
    expect(scale).toMatchObject({ risk: 'write', reversible: true, idempotent: true });
  });
});
