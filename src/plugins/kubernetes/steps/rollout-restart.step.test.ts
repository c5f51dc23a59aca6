import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKubernetes, startFakeKubernetes } from '../../../../test/fakes/kubernetes.js';
import { testStepContext } from '../../../../test/fakes/step-context.js';
import { rolloutRestart } from './rollout-restart.step.js';

const annotation = 'kubectl.kubernetes.io/restartedAt';

describe('kubernetes.rolloutRestart', () => {
  let k8s: FakeKubernetes;
  beforeAll(async () => {
    k8s = await startFakeKubernetes();
    k8s.addDeployment('prod', 'ingest', { replicas: 3 });
  });
  afterAll(() => k8s.close());
  const ctx = (token = k8s.token) =>
    testStepContext({ settings: { apiUrl: k8s.url }, secrets: { token } });

  it('stamps the pod template with restartedAt, as kubectl rollout restart does', async () => {
    const d = k8s.deployment('prod', 'ingest');
    const generation = d?.generation ?? 0;
    const before = k8s.requests.length;
    const output = await rolloutRestart.execute(
      ctx(),
      rolloutRestart.input.parse({ deployment: 'ingest', namespace: 'prod' }),
    );
    expect(output.restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(output.restartedAt) - Date.now())).toBeLessThan(5000);
    expect(d?.templateAnnotations[annotation]).toBe(output.restartedAt);
    expect(d?.generation).toBe(generation + 1);
    const patch = k8s.requests.at(-1);
    expect(k8s.requests.slice(before).map((r) => r.method)).toEqual(['GET', 'PATCH']);
    expect(patch?.headers['content-type']).toBe('application/strategic-merge-patch+json');
    expect(patch?.body).toEqual({
      spec: { template: { metadata: { annotations: { [annotation]: output.restartedAt } } } },
    });
    expect(d?.replicas).toBe(3);
  });

  it('stamps a new time on a second restart, so the pods roll again', async () => {
    const d = k8s.deployment('prod', 'ingest');
    const first = d?.templateAnnotations[annotation];
    const output = await rolloutRestart.execute(ctx(), { deployment: 'ingest', namespace: 'prod' });
    expect(output.restartedAt).not.toBe(first);
    expect(d?.templateAnnotations[annotation]).toBe(output.restartedAt);
  });

  it('restarts in the namespace setting when the input names none', async () => {
    const d = k8s.deployment('default', 'ingest');
    const output = await rolloutRestart.execute(ctx(), { deployment: 'ingest' });
    expect(d?.templateAnnotations[annotation]).toBe(output.restartedAt);
  });

  it('refuses a paused deployment, which would not roll, and changes nothing', async () => {
    const d = k8s.addDeployment('prod', 'frozen', { paused: true });
    const before = k8s.requests.length;
    await expect(
      rolloutRestart.execute(ctx(), { deployment: 'frozen', namespace: 'prod' }),
    ).rejects.toThrow(
      'deployment prod/frozen is paused, so a restart would not roll out; resume it first (kubectl rollout resume deployment/frozen -n prod)',
    );
    expect(k8s.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
    expect(d.templateAnnotations).toEqual({});
  });

  it('fails with the API server message when the deployment does not exist', async () => {
    await expect(
      rolloutRestart.execute(ctx(), { deployment: 'ghost', namespace: 'prod' }),
    ).rejects.toThrow(
      'Kubernetes refused GET /apis/apps/v1/namespaces/prod/deployments/ghost: HTTP 404 NotFound: deployments.apps "ghost" not found',
    );
  });

  it('fails clearly when the token is refused', async () => {
    const err = await rolloutRestart
      .execute(ctx('wrong'), { deployment: 'ingest', namespace: 'prod' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'KubernetesError', status: 401, retryable: false });
    expect((err as Error).message).toMatch(/HTTP 401 Unauthorized — check the kubernetes "token"/);
  });

  it('refuses names that could alter the request path', () => {
    for (const deployment of ['../../etc', '"; rm -rf /', 'ingest/scale', 'INGEST', '']) {
      expect(rolloutRestart.input.safeParse({ deployment }).success, deployment).toBe(false);
    }
    expect(
      rolloutRestart.input.safeParse({ deployment: 'ingest', namespace: 'kube-system/..' }).success,
    ).toBe(false);
  });

  it('simulates without sending any request', async () => {
    const before = k8s.requests.length;
    const plan = await rolloutRestart.simulate(ctx(), { deployment: 'ingest', namespace: 'prod' });
    expect(plan.summary).toBe('would restart the pods of deployment prod/ingest (rolling update)');
    expect(k8s.requests.length).toBe(before);
  });

  it('stops when the run is aborted, before it patches anything', async () => {
    const c = ctx();
    const d = k8s.deployment('prod', 'ingest');
    const stamp = d?.templateAnnotations[annotation];
    k8s.onRequest(() => c.abort.abort());
    try {
      await expect(
        rolloutRestart.execute(c, { deployment: 'ingest', namespace: 'prod' }),
      ).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      k8s.onRequest(null);
    }
    expect(k8s.requests.at(-1)?.method).toBe('GET');
    expect(d?.templateAnnotations[annotation]).toBe(stamp);
  });

  it('declares one deployment target, cost 1, a write that is neither undone nor repeated', () => {
    expect(rolloutRestart.targets({ deployment: 'ingest', namespace: 'prod' })).toEqual([
      'deployment/prod/ingest',
    ]);
    expect(rolloutRestart.cost?.({ deployment: 'ingest' })).toBe(1);
    expect(rolloutRestart).toMatchObject({ risk: 'write', reversible: false, idempotent: false });
    expect(rolloutRestart.rollback).toBeUndefined();
  });
});
