/**
 * A fake Kubernetes API server on 127.0.0.1 speaking enough of apps/v1: deployments (GET, merge and
 * strategic-merge PATCH) and their autoscaling/v1 scale subresource (GET, PUT with resourceVersion
 * checks, merge PATCH). Checks the bearer token, answers errors as `Status` objects, records requests.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeDeployment = {
  namespace: string;
  name: string;
  uid: string;
  replicas: number;
  paused: boolean;
  /** `spec.template.metadata.annotations`: a change here rolls the pods. */
  templateAnnotations: Record<string, string>;
  resourceVersion: string;
  /** Bumped on every spec change, as the API server does. */
  generation: number;
};

export type RecordedRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
};

export interface FakeKubernetes {
  /** Base URL to use as `apiUrl`, e.g. `http://127.0.0.1:41236`. */
  url: string;
  token: string;
  requests: RecordedRequest[];
  addDeployment(
    namespace: string,
    name: string,
    spec?: { replicas?: number; paused?: boolean },
  ): FakeDeployment;
  deployment(namespace: string, name: string): FakeDeployment | undefined;
  /** Changes a deployment as another client would (new resourceVersion). */
  update(deployment: FakeDeployment, change: Partial<Pick<FakeDeployment, 'replicas'>>): void;
  /** Runs before each request is answered (after it is recorded); null removes it. */
  onRequest(hook: ((request: RecordedRequest) => void) | null): void;
  /** Answers the next request with this status and body (and headers), whatever it is. */
  failNext(status: number, body: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

const mergePatch = 'application/merge-patch+json';
const strategicPatch = 'application/strategic-merge-patch+json';
const route = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)(\/scale)?$/;

/**
 * Starts the fake with a token and, by default, `default/ingest` at 2 replicas.
 * @example
 * const k8s = await startFakeKubernetes();
 * k8s.addDeployment('prod', 'api', { replicas: 3 });
 * // settings: { apiUrl: k8s.url }, secrets: { token: k8s.token }
 */
export async function startFakeKubernetes(
  options: { token?: string } = {},
): Promise<FakeKubernetes> {
  const token = options.token ?? 'k8s-test-token';
  const deployments = new Map<string, FakeDeployment>();
  const requests: RecordedRequest[] = [];
  const failures: { status: number; body: unknown; headers: Record<string, string> }[] = [];
  let hook: ((request: RecordedRequest) => void) | null = null;
  let revision = 1000;

  const touch = (d: FakeDeployment) => {
    d.resourceVersion = String(++revision);
    d.generation += 1;
  };
  const addDeployment: FakeKubernetes['addDeployment'] = (namespace, name, spec = {}) => {
    const d: FakeDeployment = {
      namespace,
      name,
      uid: randomUUID(),
      replicas: spec.replicas ?? 1,
      paused: spec.paused ?? false,
      templateAnnotations: {},
      resourceVersion: String(++revision),
      generation: 1,
    };
    deployments.set(`${namespace}/${name}`, d);
    return d;
  };
  addDeployment('default', 'ingest', { replicas: 2 });

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? '';
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    let body: unknown = raw === '' ? undefined : raw;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // Kept as text; answered below as a bad request.
    }
    const recorded = { method, path, headers: req.headers, body };
    requests.push(recorded);
    hook?.(recorded);

    const failure = failures.shift();
    if (failure) {
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
      res.end(typeof failure.body === 'string' ? failure.body : JSON.stringify(failure.body));
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const match = route.exec(path);
    if (!match) {
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    }
    const [, namespace = '', name = '', sub] = match;
    const d = deployments.get(`${namespace}/${name}`);
    if (!d) {
      return status(res, 404, 'NotFound', `deployments.apps "${name}" not found`, {
        name,
        group: 'apps',
        kind: 'deployments',
      });
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (method !== 'GET' && (typeof body !== 'object' || body === null)) {
      return status(res, 400, 'BadRequest', 'the object provided is unrecognized or not JSON');
    }

    if (sub && method === 'GET') return send(res, 200, scaleView(d));
    if (sub && method === 'PUT') {
      if (contentType !== 'application/json') return unsupported(res, contentType);
      const scale = body as {
        kind?: unknown;
        metadata?: { name?: unknown; resourceVersion?: unknown };
        spec?: { replicas?: unknown };
      };
      if (scale.kind !== 'Scale') {
        return status(res, 400, 'BadRequest', `Scale in version "v1" cannot be handled as a Scale`);
      }
      if (scale.metadata?.name !== name) {
        return status(
          res,
          400,
          'BadRequest',
          `the name of the object (${String(scale.metadata?.name)}) does not match the name on the URL (${name})`,
        );
      }
      const version = scale.metadata?.resourceVersion;
      if (version !== undefined && version !== '' && version !== d.resourceVersion) {
        return conflict(res, d);
      }
      const replicas = scale.spec?.replicas ?? 0;
      if (!isReplicas(replicas)) return invalidReplicas(res, d, replicas);
      if (replicas !== d.replicas) {
        d.replicas = replicas;
        touch(d);
      }
      return send(res, 200, scaleView(d));
    }
    if (method === 'PATCH') {
      if (contentType !== mergePatch && contentType !== strategicPatch) {
        return unsupported(res, contentType);
      }
      const spec = (body as { spec?: Record<string, unknown> }).spec ?? {};
      if ('replicas' in spec) {
        if (!isReplicas(spec.replicas)) return invalidReplicas(res, d, spec.replicas);
        d.replicas = spec.replicas;
      }
      if (!sub && typeof spec.paused === 'boolean') d.paused = spec.paused;
      const template = spec.template as { metadata?: { annotations?: unknown } } | undefined;
      const annotations = template?.metadata?.annotations;
      if (!sub && typeof annotations === 'object' && annotations !== null) {
        for (const [key, value] of Object.entries(annotations)) {
          if (value === null) delete d.templateAnnotations[key];
          else d.templateAnnotations[key] = String(value);
        }
      }
      touch(d);
      return send(res, 200, sub ? scaleView(d) : deploymentView(d));
    }
    if (!sub && method === 'GET') return send(res, 200, deploymentView(d));
    return status(
      res,
      405,
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    addDeployment,
    deployment: (namespace, name) => deployments.get(`${namespace}/${name}`),
    update(d, change) {
      if (change.replicas !== undefined) d.replicas = change.replicas;
      touch(d);
    },
    onRequest(next) {
      hook = next;
    },
    failNext(code, body, headers = {}) {
      failures.push({ status: code, body, headers });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const isReplicas = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 2_147_483_647;

function metadata(d: FakeDeployment) {
  return {
    name: d.name,
    namespace: d.namespace,
    uid: d.uid,
    resourceVersion: d.resourceVersion,
    creationTimestamp: '2025-01-01T00:00:00Z',
  };
}

/** autoscaling/v1 Scale; `spec.replicas` and `status.replicas` are omitted at 0, as in Go. */
function scaleView(d: FakeDeployment) {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: metadata(d),
    spec: d.replicas === 0 ? {} : { replicas: d.replicas },
    status: { ...(d.replicas === 0 ? {} : { replicas: d.replicas }), selector: `app=${d.name}` },
  };
}

function deploymentView(d: FakeDeployment) {
  const labels = { app: d.name };
  const annotations = Object.keys(d.templateAnnotations).length ? d.templateAnnotations : undefined;
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { ...metadata(d), generation: d.generation, labels },
    spec: {
      replicas: d.replicas,
      ...(d.paused ? { paused: true } : {}),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, ...(annotations ? { annotations } : {}) },
        spec: { containers: [{ name: d.name, image: `registry.example/${d.name}:1.0` }] },
      },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
      },
    },
    status: { observedGeneration: d.generation - 1, replicas: d.replicas },
  };
}

function conflict(res: ServerResponse, d: FakeDeployment): void {
  status(
    res,
    409,
    'Conflict',
    `Operation cannot be fulfilled on deployments.apps "${d.name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name: d.name, group: 'apps', kind: 'deployments' },
  );
}

function invalidReplicas(res: ServerResponse, d: FakeDeployment, value: unknown): void {
  status(
    res,
    422,
    'Invalid',
    `Scale.autoscaling "${d.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(value)}: must be greater than or equal to 0`,
    { name: d.name, group: 'autoscaling', kind: 'Scale' },
  );
}

function unsupported(res: ServerResponse, contentType: string): void {
  status(
    res,
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, ${mergePatch}, application/apply-patch+yaml, ${strategicPatch} (got ${contentType || 'none'})`,
  );
}

/** A `metav1.Status` failure, the body every Kubernetes API error carries. */
function status(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
  details?: Record<string, string>,
): void {
  send(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
