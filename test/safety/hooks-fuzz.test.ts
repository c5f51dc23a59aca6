/**
 * Hooks under fuzzing: arbitrary JSON, strings, bytes and header sets on every hook route, and
 * mutated real deliveries with valid credentials. Whatever arrives, the answer is a 202 hook answer
 * or a 4xx `{error: {code, message}}` — never a 5xx, which Alertmanager and PagerDuty retry for ever.
 * Each hook gets `fuzzCasesPerHook` cases (SAFETY_FUZZ_RUNS, 2,000 by default) over its five
 * properties; the hooks fuzzed are checked against the hook routes the app registers.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/storage/database.js';
import { syncTenants } from '../../src/tenancy/tenants.js';
import { buildApp } from '../helpers/app.js';
import { createTestLedger, openTestDatabase } from '../helpers/database.js';
import { fuzzCasesPerHook, fuzzRuns } from './fuzz-runs.js';

type App = ReturnType<typeof buildApp>;
type HeaderSet = Record<string, string>;

const routes = ['alertmanager', 'grafana', 'pagerduty', 'events/deploys'] as const;
type Route = (typeof routes)[number];
/**
 * Each hook's cases, split over its five properties (JSON, strings, bytes, headers, mutations of
 * real deliveries): 400 each by default, 2,000 per hook, ~8,000 in all in about 10 s on PGlite.
 */
const numRuns = fuzzRuns(5);

const env = {
  FUZZ_INGEST: `wdn_${randomBytes(24).toString('base64url')}`,
  FUZZ_READ: `wdn_${randomBytes(24).toString('base64url')}`,
  FUZZ_GRAFANA: randomBytes(24).toString('hex'),
  FUZZ_PD: randomBytes(24).toString('base64'),
  FUZZ_DEPLOYS: `whsec_${randomBytes(32).toString('base64')}`,
};

const warden = `
tenants:
  - id: fuzz
    tokens:
      - { name: alertmanager, scope: ingest, value: env:FUZZ_INGEST }
      - { name: reader, scope: read, value: env:FUZZ_READ }
    ingest:
      grafana: { secret: env:FUZZ_GRAFANA }
      pagerduty: { secret: env:FUZZ_PD }
      events: { deploys: { secret: env:FUZZ_DEPLOYS } }
      rateLimit: { perSecond: 100000, burst: 100000 }
`;

function loadFuzzConfig() {
  const dir = mkdtempSync(join(tmpdir(), 'warden-fuzz-'));
  try {
    writeFileSync(join(dir, 'warden.yaml'), warden);
    return loadConfig({ configFile: join(dir, 'warden.yaml'), env, cwd: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hmac = (key: string | Buffer, ...parts: Array<string | Uint8Array>) => {
  const h = createHmac('sha256', key);
  for (const part of parts) h.update(part);
  return h;
};

/**
 * Credentials each route accepts for exactly these body bytes (Standard Webhooks signed here);
 * Grafana takes the bearer token or, with `grafanaHmac`, the X-Grafana-Alerting-Signature.
 */
function validAuth(
  route: Route,
  body: Uint8Array,
  webhookId = 'msg_fuzz',
  grafanaHmac = false,
): HeaderSet {
  switch (route) {
    case 'grafana':
      if (grafanaHmac) {
        return { 'x-grafana-alerting-signature': hmac(env.FUZZ_GRAFANA, body).digest('hex') };
      }
      return { authorization: `Bearer ${env.FUZZ_INGEST}` };
    case 'alertmanager':
      return { authorization: `Bearer ${env.FUZZ_INGEST}` };
    case 'pagerduty':
      return { 'x-pagerduty-signature': `v1=${hmac(env.FUZZ_PD, body).digest('hex')}` };
    case 'events/deploys': {
      const ts = String(Math.floor(Date.now() / 1000));
      const key = Buffer.from(env.FUZZ_DEPLOYS.slice('whsec_'.length), 'base64');
      const sig = hmac(key, `${webhookId}.${ts}.`, body).digest('base64');
      return { 'webhook-id': webhookId, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` };
    }
  }
}

const hookTemplate = (r: Route) => `/hooks/:tenant/${r.replace('deploys', ':source')}`;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function isHookAnswer(body: unknown): boolean {
  if (!isRecord(body) || Object.keys(body).join() !== 'accepted') return false;
  const { accepted } = body;
  return (
    Array.isArray(accepted) &&
    accepted.every(
      (e) =>
        isRecord(e) &&
        Object.keys(e).sort().join() === 'duplicate,runs,triggerId' &&
        typeof e.triggerId === 'string' &&
        typeof e.duplicate === 'boolean' &&
        Array.isArray(e.runs),
    )
  );
}

function isErrorBody(body: unknown): boolean {
  if (!isRecord(body) || Object.keys(body).join() !== 'error' || !isRecord(body.error))
    return false;
  const { code, message } = body.error;
  return (
    Object.keys(body.error).sort().join() === 'code,message' &&
    typeof code === 'string' &&
    /^[a-z]+(?:_[a-z]+)*$/.test(code) &&
    typeof message === 'string' &&
    message.length > 0
  );
}

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

/** Fails unless the answer is a 202 hook answer or a 4xx in the error shape; returns the status. */
async function expectWellFormed(res: Response, what: string): Promise<number> {
  const text = await res.text();
  const context = `${what} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, context).toBeLessThan(500);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${context}`);
  }
  if (res.status === 202) expect(isHookAnswer(body), context).toBe(true);
  else {
    expect(res.status, context).toBeGreaterThanOrEqual(400);
    expect(isErrorBody(body), context).toBe(true);
  }
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  return res.status;
}

interface AlertmanagerCapture {
  body: { alerts: Array<Record<string, unknown>> } & Record<string, unknown>;
}

const captures = [
  'firing_via_api_v2',
  'firing_via_amtool_alert_add',
  'firing_max_alerts_2_truncated_with_bearer_auth',
  'resolved_via_api_v2_endsAt_now',
].map((name) => {
  const url = new URL(`../fixtures/alertmanager/${name}.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as AlertmanagerCapture).body;
});

/** A realistic PagerDuty v3 incident.triggered body. */
const pagerDutyEvent = {
  event: {
    id: '01DEN3S0VXUGCM1YQDB8LJBXFZ',
    event_type: 'incident.triggered',
    resource_type: 'incident',
    occurred_at: '2026-11-24T09:01:12.345Z',
    agent: { id: 'PLH1HKV', summary: 'Tenex Engineer', type: 'user_reference' },
    client: { name: 'PagerDuty' },
    data: {
      id: 'PGR0VU2',
      type: 'incident',
      html_url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
      number: 2,
      status: 'triggered',
      created_at: '2026-11-24T09:01:12Z',
      title: 'Checkout API 5xx above 5%',
      service: { id: 'PF9KMXH', summary: 'Checkout API', type: 'service_reference' },
      urgency: 'high',
      priority: null,
    },
  },
};

/** A signed event as a deploy tool would send it. */
const deployEvent = {
  type: 'rollback_requested',
  data: { service: 'checkout', from: 'v2.4.1', to: 'v2.4.0', replicas: 3, tags: ['canary'] },
};

/**
 * One real delivery per route, made fresh for case `n` (new fingerprints, ids), so that most are
 * stored rather than answered as duplicates.
 */
const realDeliveries: Record<Route, Array<(n: number) => unknown>> = {
  alertmanager: captures.map((body) => (n: number) => freshAlerts(body, n)),
  grafana: captures.map((body) => (n: number) => ({ ...freshAlerts(body, n), version: '1' })),
  pagerduty: [(n) => ({ ...pagerDutyEvent, event: { ...pagerDutyEvent.event, id: `01DEN${n}` } })],
  'events/deploys': [(n) => ({ ...deployEvent, data: { ...deployEvent.data, build: n } })],
};

function freshAlerts(body: AlertmanagerCapture['body'], n: number) {
  return {
    ...body,
    alerts: body.alerts.map((a) => ({ ...a, fingerprint: `${String(a.fingerprint)}-${n}` })),
  };
}

/** Every path into a JSON value (objects and arrays), root excluded. */
function pathsOf(
  value: unknown,
  prefix: Array<string | number> = [],
): Array<Array<string | number>> {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  }
  if (isRecord(value)) {
    return Object.entries(value).flatMap(([k, v]) => [
      [...prefix, k],
      ...pathsOf(v, [...prefix, k]),
    ]);
  }
  return [];
}

type Mutation =
  | { path: Array<string | number>; drop: true }
  | { path: Array<string | number>; value: unknown };

/** Applies drops and replacements in order; a path a previous mutation removed is skipped. */
function mutate<T>(value: T, mutations: Mutation[]): T {
  const copy = structuredClone(value);
  for (const m of mutations) {
    let parent: unknown = copy;
    for (const key of m.path.slice(0, -1)) {
      parent =
        isRecord(parent) || Array.isArray(parent)
          ? (parent as Record<string, unknown>)[key]
          : undefined;
    }
    const last = m.path.at(-1);
    if (last === undefined || !(isRecord(parent) || Array.isArray(parent))) continue;
    const target = parent as Record<string | number, unknown>;
    if ('drop' in m) {
      if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      else delete target[last];
    } else {
      // A copy: the same replacement object inserted twice (or into itself) would make a cycle, and
      // writing into it would change the shared constant for later cases.
      target[last] = structuredClone(m.value);
    }
  }
  return copy;
}

/** Values that sit near what the schemas check: times, enums, sizes, types. */
const edgeValues = fc.constantFrom<unknown>(
  null,
  '',
  0,
  -1,
  1.5,
  2 ** 53,
  1e308,
  true,
  [],
  {},
  '4',
  'firing',
  'resolved',
  '0001-01-01T00:00:00Z',
  '2026-11-23T23:14:39.78169146Z',
  '2026-11-24T09:00:00+14:00',
  '9999-12-31T23:59:59.999999999Z',
  'x'.repeat(20_000),
  ['a', 'b'],
  { nested: { deeper: ['x'] } },
);

const replacement = fc.oneof(
  edgeValues,
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ maxLength: 40 }),
);

function mutationsOf(value: unknown): fc.Arbitrary<Mutation[]> {
  const paths = pathsOf(value);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ path: fc.constantFrom(...paths), drop: fc.constant(true as const) }),
    fc.record({ path: fc.constantFrom(...paths), value: replacement }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 4 });
}

const printable = fc.string({ maxLength: 80 });
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const base64Digest = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('base64'));

/** Header sets around each route's credentials: real, near-miss and garbage values. */
const headerNoise: fc.Arbitrary<HeaderSet> = fc.record(
  {
    'content-type': fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/json;charset="UTF-8"',
        'Application/JSON',
        'application/cloudevents+json',
        'application/json; charset=latin1',
        'application/json; charset',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        '',
      ),
      printable,
    ),
    authorization: fc.oneof(
      fc.constantFrom(
        `Bearer ${env.FUZZ_INGEST}`,
        `Bearer ${env.FUZZ_READ}`,
        `bearer  ${env.FUZZ_INGEST}  `,
        `Bearer ${env.FUZZ_INGEST}x`,
        `Basic ${Buffer.from(`x:${env.FUZZ_INGEST}`).toString('base64')}`,
        'Bearer',
        `Bearer ${'a'.repeat(600)}`,
      ),
      printable.map((s) => `Bearer ${s}`),
      printable,
    ),
    'x-grafana-alerting-signature': fc.oneof(hex64, printable),
    'x-grafana-alerting-timestamp': fc.oneof(
      fc.integer().map(String),
      fc.constant(String(Math.floor(Date.now() / 1000))),
      printable,
    ),
    'x-pagerduty-signature': fc.oneof(
      hex64.map((h) => `v1=${h}`),
      fc
        .array(
          fc.oneof(
            hex64.map((h) => `v1=${h}`),
            printable,
          ),
          { maxLength: 12 },
        )
        .map((a) => a.join(',')),
      printable,
    ),
    'webhook-id': printable,
    'webhook-timestamp': fc.oneof(
      fc.integer({ min: 0, max: 2 ** 40 }).map(String),
      fc.constant(String(Math.floor(Date.now() / 1000))),
      printable,
    ),
    'webhook-signature': fc.oneof(
      base64Digest.map((b) => `v1,${b}`),
      fc
        .array(
          fc.oneof(
            base64Digest.map((b) => `v1,${b}`),
            printable,
          ),
          { maxLength: 12 },
        )
        .map((a) => a.join(' ')),
      printable,
    ),
  },
  { requiredKeys: [] },
);

/** Paths that name the route `r`: the fuzz tenant, unknown ones, and arbitrary tenant text. */
const routePaths = (r: Route) =>
  fc.oneof(
    fc.constant(`/hooks/fuzz/${r}`),
    fc.constantFrom(`/hooks/nobody/${r}`, `/hooks/FUZZ/${r}`, '/hooks/fuzz/events/unknown'),
    printable.map((t) => `/hooks/${encodeURIComponent(t)}/${r}`),
  );

describe('hooks under fuzzing', () => {
  let db: Database;
  let app: App;
  let delivery = 0;

  beforeAll(async () => {
    db = await openTestDatabase('pglite');
    const { ledger } = await createTestLedger(db);
    const config = loadFuzzConfig();
    await syncTenants({ knex: db.knex, ledger }, config.tenants);
    app = buildApp({ db, ledger, tenants: [...config.tenants] });
  });

  afterAll(async () => {
    await db?.close();
  });

  async function send(
    to: Route | string,
    body: string | Uint8Array,
    headers: HeaderSet,
  ): Promise<Response> {
    const path = to.startsWith('/') ? to : `/hooks/fuzz/${to}`;
    return await app.request(path, { method: 'POST', headers, body });
  }

  const bytes = (body: string | Uint8Array) =>
    typeof body === 'string' ? Buffer.from(body) : body;

  it('fuzzes every hook route the app registers', () => {
    const registered = new Set(
      app.routes.filter((r) => r.path.startsWith('/hooks/')).map((r) => `${r.method} ${r.path}`),
    );
    expect([...registered].sort()).toEqual(routes.map((r) => `POST ${hookTemplate(r)}`).sort());
    expect(numRuns * 5).toBeGreaterThanOrEqual(fuzzCasesPerHook);
  });

  it('reaches ingest with the credentials the properties use (202 on every route)', async () => {
    for (const r of routes) {
      for (const [i, make] of realDeliveries[r].entries()) {
        const raw = JSON.stringify(make(++delivery));
        for (const grafanaHmac of r === 'grafana' ? [false, true] : [false]) {
          const res = await send(r, raw, {
            'content-type': 'application/json',
            ...validAuth(r, bytes(raw), `msg_reach_${delivery}_${grafanaHmac}`, grafanaHmac),
          });
          expect(await expectWellFormed(res, `${r} #${i}`)).toBe(202);
        }
      }
    }
  });

  describe.each(routes)('POST /hooks/fuzz/%s', (r) => {
    const headersFor = (body: Uint8Array, signed: boolean, id: string, hmacAuth = false) =>
      signed ? validAuth(r, body, id, hmacAuth) : {};

    it('never answers 5xx to arbitrary JSON values, with or without valid credentials', async () => {
      const statuses = new Set<number>();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue(),
            fc.jsonValue({ stringUnit: 'binary' }),
            fc.jsonValue({ stringUnit: 'binary-ascii' }),
          ),
          fc.boolean(),
          fc.boolean(),
          async (value, signed, hmacAuth) => {
            const raw = JSON.stringify(value) ?? 'null';
            const headers = {
              'content-type': 'application/json',
              ...headersFor(bytes(raw), signed, `msg_json_${++delivery}`, hmacAuth),
            };
            statuses.add(await expectWellFormed(await send(r, raw, headers), raw.slice(0, 200)));
          },
        ),
        { numRuns },
      );
      expect(statuses).toContain(401);
      // Signed events take any object or array: the property stored some, not only refused them.
      if (r === 'events/deploys') expect(statuses).toContain(202);
    });

    it('never answers 5xx to arbitrary strings as bodies', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string(),
            fc.string({ unit: 'binary' }),
            fc.json(),
            fc.json({ stringUnit: 'binary' }),
            fc.json({ stringUnit: 'binary-ascii' }),
          ),
          fc.boolean(),
          async (body, signed) => {
            const headers = {
              'content-type': 'application/json; charset=utf-8',
              ...headersFor(bytes(body), signed, `msg_text_${++delivery}`),
            };
            await expectWellFormed(
              await send(r, body, headers),
              JSON.stringify(body.slice(0, 200)),
            );
          },
        ),
        { numRuns },
      );
    });

    it('never answers 5xx to arbitrary bytes as bodies', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 4096 }),
          fc.boolean(),
          fc.constantFrom('application/json', 'application/octet-stream', undefined),
          async (body, signed, type) => {
            const headers: HeaderSet = headersFor(body, signed, `msg_bytes_${++delivery}`);
            if (type) headers['content-type'] = type;
            await expectWellFormed(
              await send(r, body, headers),
              Buffer.from(body).toString('hex').slice(0, 200),
            );
          },
        ),
        { numRuns },
      );
    });

    it('never answers 5xx to arbitrary header sets around valid and invalid credentials', async () => {
      const raw = JSON.stringify(realDeliveries[r][0]?.(0));
      await fc.assert(
        fc.asyncProperty(
          routePaths(r),
          fc.boolean(),
          headerNoise,
          async (path, withValid, noise) => {
            const headers = {
              ...headersFor(bytes(raw), withValid, `msg_hdr_${++delivery}`),
              ...noise,
            };
            await expectWellFormed(
              await send(path, raw, headers),
              `${path} ${JSON.stringify(noise)}`,
            );
          },
        ),
        { numRuns },
      );
    });

    it('never answers 5xx to mutated real deliveries sent with valid credentials', async () => {
      const statuses = new Set<number>();
      const mutated = fc
        .constantFrom(...realDeliveries[r])
        .chain((make) => fc.tuple(fc.constant(make), mutationsOf(make(0)), fc.boolean()));
      await fc.assert(
        fc.asyncProperty(mutated, async ([make, mutations, hmacAuth]) => {
          const n = ++delivery;
          const raw = JSON.stringify(mutate(make(n), mutations));
          const headers = {
            'content-type': 'application/json',
            ...headersFor(bytes(raw), true, `msg_mut_${n}`, hmacAuth),
          };
          const res = await send(r, raw, headers);
          statuses.add(await expectWellFormed(res, JSON.stringify(mutations).slice(0, 400)));
        }),
        { numRuns },
      );
      // The mutations both kept deliveries valid and broke them (too few cases to be sure below 100).
      if (numRuns >= 100) {
        expect(statuses).toContain(202);
        if (r === 'alertmanager' || r === 'pagerduty') expect(statuses).toContain(422);
      }
    });
  });
});
