/**
 * Hooks end to end: Alertmanager (real captures), Grafana, PagerDuty and signed events through
 * `app.request()` — authentication, dedup, firing→resolved links, receipts, bad input, the per-tenant
 * rate limit and a storage outage. Tenants come from a warden.yaml parsed by loadConfig, as in production.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import type { Receipt } from '../../src/ledger/receipt.js';
import { getTrigger } from '../../src/storage/triggers.js';
import { createTenant, createToken, syncTenants } from '../../src/tenancy/tenants.js';
import { createIngest } from '../../src/triggers/ingest.js';
import { signStandardWebhook } from '../../src/triggers/standard-webhook.js';
import type { TriggerEvent } from '../../src/triggers/trigger-event.js';
import { buildApp } from '../helpers/app.js';
import { createTestLedger, describeEngines, openTestDatabase } from '../helpers/database.js';

type App = ReturnType<typeof buildApp>;
interface ErrorBody {
  error: { code: string; message: string };
}
interface Accepted {
  triggerId: string;
  duplicate: boolean;
  runs: string[];
}
interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}
interface AlertmanagerBody {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: AlertmanagerAlert[];
  externalURL: string;
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  [field: string]: unknown;
}
/** A delivery captured from Alertmanager 0.25.0: its request headers and JSON body. */
interface Capture {
  headers: Record<string, string>;
  body: AlertmanagerBody;
}

const captures = {
  apiV2: 'firing_via_api_v2',
  amtool: 'firing_via_amtool_alert_add',
  truncated: 'firing_max_alerts_2_truncated_with_bearer_auth',
  resolved: 'resolved_via_api_v2_endsAt_now',
} as const;

function capture(name: (typeof captures)[keyof typeof captures]): Capture {
  const url = new URL(`../fixtures/alertmanager/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Capture;
}

const newToken = () => `wdn_${randomBytes(24).toString('base64url')}`;

/** Secret values, handed to loadConfig as the environment the YAML's `env:` references read. */
const env = {
  // The credential Alertmanager sent in the truncated capture (its http_config bearer token).
  ACME_INGEST: 'test-shared-token',
  ACME_READ: newToken(),
  ACME_GRAFANA: randomBytes(24).toString('hex'),
  ACME_PD: randomBytes(24).toString('base64'),
  ACME_DEPLOYS: `whsec_${randomBytes(32).toString('base64')}`,
  GLOBEX_INGEST: newToken(),
  GLOBEX_READ: newToken(),
  GLOBEX_GRAFANA: randomBytes(24).toString('hex'),
  THROTTLED_INGEST: newToken(),
};

const grafanaTimestampHeader = 'X-Grafana-Alerting-Timestamp';

const warden = `
tenants:
  - id: acme
    name: Acme Corp
    tier: enterprise
    tokens:
      - { name: alertmanager, scope: ingest, value: env:ACME_INGEST }
      - { name: dashboard, scope: read, value: env:ACME_READ }
    ingest:
      grafana: { secret: env:ACME_GRAFANA }
      pagerduty: { secret: env:ACME_PD }
      events: { deploys: { secret: env:ACME_DEPLOYS } }
  - id: globex
    name: Globex Corporation
    tier: pro
    tokens:
      - { name: alertmanager, scope: ingest, value: env:GLOBEX_INGEST }
      - { name: dashboard, scope: read, value: env:GLOBEX_READ }
    ingest:
      grafana: { secret: env:GLOBEX_GRAFANA, timestampHeader: ${grafanaTimestampHeader} }
  - id: throttled
    tier: free
    tokens:
      - { name: alertmanager, scope: ingest, value: env:THROTTLED_INGEST }
    ingest:
      rateLimit: { perSecond: 1, burst: 2 }
`;

/** Parses the YAML above exactly as `warden serve` would. */
function loadTestConfig(): Config {
  const dir = mkdtempSync(join(tmpdir(), 'warden-hooks-'));
  try {
    const configFile = join(dir, 'warden.yaml');
    writeFileSync(configFile, warden);
    return loadConfig({ configFile, env, cwd: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const config = loadTestConfig();

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const hmacHex = (secret: string, data: string) =>
  createHmac('sha256', secret).update(data).digest('hex');
const unixSeconds = (d: Date) => String(Math.floor(d.getTime() / 1000));
const minutesFromNow = (n: number) => new Date(Date.now() + n * 60_000);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };

/** The headers Alertmanager 0.25.0 sends, with a bearer credential. */
function alertmanagerHeaders(token: string): Record<string, string> {
  return { ...json, 'user-agent': 'Alertmanager/0.25.0', ...bearer(token) };
}

async function post(
  app: App,
  path: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await app.request(path, { method: 'POST', headers, body });
}

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(JSON.stringify(body)).not.toMatch(/\bat .+:\d+:\d+|node_modules|\bselect\b|\binsert\b/i);
  return body;
}

async function expectAccepted(res: Response, count: number): Promise<Accepted[]> {
  expect(res.status).toBe(202);
  const body = (await res.json()) as { accepted: Accepted[] };
  expect(Object.keys(body)).toEqual(['accepted']);
  expect(body.accepted).toHaveLength(count);
  for (const entry of body.accepted) {
    expect(Object.keys(entry).sort()).toEqual(['duplicate', 'runs', 'triggerId']);
    expect(entry.triggerId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  }
  return body.accepted;
}

/** A Grafana unified-alerting webhook body (contact point "webhook", payload version 1). */
function grafanaBody(fingerprint: string, status: 'firing' | 'resolved' = 'firing') {
  const base = 'https://grafana.example.invalid';
  return {
    receiver: 'warden',
    status,
    orgId: 1,
    alerts: [
      {
        status,
        labels: {
          alertname: 'HighCPU',
          grafana_folder: 'Infrastructure',
          instance: 'web-1:9100',
          severity: 'critical',
        },
        annotations: { summary: 'CPU above 90% on web-1', runbook_url: `${base}/runbooks/cpu` },
        startsAt: '2026-11-24T08:00:00Z',
        endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-24T08:20:00Z',
        generatorURL: `${base}/alerting/grafana/cdz8k2/view?orgId=1`,
        fingerprint,
        silenceURL: `${base}/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHighCPU&matcher=instance%3Dweb-1%3A9100`,
        dashboardURL: `${base}/d/node-exporter?orgId=1`,
        panelURL: `${base}/d/node-exporter?orgId=1&viewPanel=4`,
        values: { A: 93.4, C: 1 },
        valueString:
          "[ var='A' labels={instance=web-1:9100} value=93.4 ], [ var='C' labels={instance=web-1:9100} value=1 ]",
      },
    ],
    groupLabels: { alertname: 'HighCPU', grafana_folder: 'Infrastructure' },
    commonLabels: { alertname: 'HighCPU', instance: 'web-1:9100', severity: 'critical' },
    commonAnnotations: { summary: 'CPU above 90% on web-1' },
    externalURL: `${base}/`,
    version: '1',
    groupKey: '{}/{__grafana_autogenerated__="true"}:{alertname="HighCPU"}',
    truncatedAlerts: 0,
    title: `[${status.toUpperCase()}:1] HighCPU Infrastructure (web-1:9100 critical)`,
    state: status === 'firing' ? 'alerting' : 'ok',
    message: '**Firing**\n\nValue: A=93.4, C=1\nLabels:\n - alertname = HighCPU\n',
  };
}

/** A PagerDuty v3 webhook body for an incident event. */
function incidentEvent(
  eventId: string,
  eventType: 'incident.triggered' | 'incident.resolved',
  incident: string,
  occurredAt: string,
) {
  const web = 'https://acme.pagerduty.com';
  const api = 'https://api.pagerduty.com';
  return {
    event: {
      id: eventId,
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: occurredAt,
      agent: {
        html_url: `${web}/users/PLH1HKV`,
        id: 'PLH1HKV',
        self: `${api}/users/PLH1HKV`,
        summary: 'Tenex Engineer',
        type: 'user_reference',
      },
      client: { name: 'PagerDuty' },
      data: {
        id: incident,
        type: 'incident',
        self: `${api}/incidents/${incident}`,
        html_url: `${web}/incidents/${incident}`,
        number: 2,
        status: eventType === 'incident.triggered' ? 'triggered' : 'resolved',
        incident_key: 'd3640fbd41094207a1c11e58e46b1662',
        created_at: '2026-11-24T09:01:12Z',
        title: 'Checkout API 5xx above 5%',
        service: {
          html_url: `${web}/services/PF9KMXH`,
          id: 'PF9KMXH',
          self: `${api}/services/PF9KMXH`,
          summary: 'Checkout API',
          type: 'service_reference',
        },
        assignees: [
          {
            html_url: `${web}/users/PTUXL6G`,
            id: 'PTUXL6G',
            self: `${api}/users/PTUXL6G`,
            summary: 'User 123',
            type: 'user_reference',
          },
        ],
        escalation_policy: {
          html_url: `${web}/escalation_policies/PUS0KTE`,
          id: 'PUS0KTE',
          self: `${api}/escalation_policies/PUS0KTE`,
          summary: 'Default',
          type: 'escalation_policy_reference',
        },
        teams: [],
        priority: null,
        urgency: 'high',
        conference_bridge: null,
        resolve_reason: null,
      },
    },
  };
}

/** A PagerDuty v3 `incident.annotated` body: its data is the note, the incident a reference. */
function annotatedEvent(eventId: string, incident: string) {
  return {
    event: {
      id: eventId,
      event_type: 'incident.annotated',
      resource_type: 'incident',
      occurred_at: '2026-11-24T09:05:40.112Z',
      agent: { id: 'PLH1HKV', summary: 'Tenex Engineer', type: 'user_reference' },
      client: null,
      data: {
        incident: {
          html_url: `https://acme.pagerduty.com/incidents/${incident}`,
          id: incident,
          self: `https://api.pagerduty.com/incidents/${incident}`,
          summary: 'Checkout API 5xx above 5%',
          type: 'incident_reference',
        },
        id: 'P8FQUP4',
        content: 'Rolled back checkout to v41; watching error rate.',
        trimmed: false,
        type: 'incident_note',
      },
    },
  };
}

const pagerDutyHeaders = (signature: string) => ({
  ...json,
  'user-agent': 'PagerDuty-Webhook/V3.0',
  'x-pagerduty-signature': signature,
});

/** Standard Webhooks headers for `body`, signed at `at` with `secret`. */
function signedEventHeaders(
  body: string,
  opts: { id: string; at?: Date; secret?: string },
): Record<string, string> {
  const at = opts.at ?? new Date();
  const secret = opts.secret ?? env.ACME_DEPLOYS;
  return {
    ...json,
    'webhook-id': opts.id,
    'webhook-timestamp': unixSeconds(at),
    'webhook-signature': signStandardWebhook({ secret, id: opts.id, timestamp: at, body }),
  };
}

describeEngines('hooks', ({ db, engine }) => {
  let ledger: Ledger;
  let app: App;
  let tenantSeq = 0;

  beforeAll(async () => {
    ({ ledger } = await createTestLedger(db()));
    await syncTenants({ knex: db().knex, ledger }, config.tenants);
    app = buildApp({ db: db(), ledger, tenants: [...config.tenants] });
  });

  /** A tenant of its own (not in the config file), with an ingest and a read token. */
  async function freshTenant(): Promise<{ id: string; ingest: string; read: string }> {
    const deps = { knex: db().knex, ledger };
    const id = `team-${++tenantSeq}`;
    await createTenant(deps, { id, tier: 'pro' }, 'test');
    const ingest = await createToken(deps, {
      tenant: id,
      name: 'alertmanager',
      scope: 'ingest',
      source: 'cli',
    });
    const read = await createToken(deps, {
      tenant: id,
      name: 'reader',
      scope: 'read',
      source: 'cli',
    });
    return { id, ingest: ingest.value, read: read.value };
  }

  /** Posts an Alertmanager body (an object, or its exact text) as Alertmanager 0.25.0 does. */
  function sendAlerts(t: { id: string; ingest: string }, body: unknown): Promise<Response> {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return post(app, `/hooks/${t.id}/alertmanager`, raw, alertmanagerHeaders(t.ingest));
  }

  async function count(table: 'triggers' | 'receipts', tenant?: string): Promise<number> {
    const query = db().knex(table);
    if (tenant) query.where({ tenant_id: tenant });
    const [row] = await query.count<Array<{ count: string | number }>>('* as count');
    return Number(row?.count);
  }

  async function stored(tenant: string, id: string): Promise<TriggerEvent> {
    const trigger = await getTrigger(db().knex, tenant, id);
    if (!trigger) throw new Error(`trigger ${id} of ${tenant} is not stored`);
    return trigger;
  }

  /** The delivery facts stored with a trigger (getTrigger does not return them). */
  async function deliveryOf(id: string): Promise<unknown> {
    const row = (await db().knex('triggers').where({ id }).first('delivery')) as
      | { delivery: unknown }
      | undefined;
    return row?.delivery;
  }

  async function triggerReceipts(readToken: string): Promise<Receipt[]> {
    const res = await app.request('/api/v1/receipts?kind=trigger.received&limit=1000', {
      headers: bearer(readToken),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { receipts: Receipt[] }).receipts;
  }

  describe('alertmanager hook', () => {
    it.each([captures.apiV2, captures.amtool, captures.truncated])(
      'stores one firing trigger per alert, with its receipt, for the %s capture',
      async (name) => {
        const t = await freshTenant();
        const { body } = capture(name);
        const raw = JSON.stringify(body);
        const accepted = await expectAccepted(await sendAlerts(t, raw), body.alerts.length);
        expect(accepted.map(({ duplicate, runs }) => ({ duplicate, runs }))).toEqual(
          body.alerts.map(() => ({ duplicate: false, runs: [] })),
        );
        expect(new Set(accepted.map((a) => a.triggerId)).size).toBe(body.alerts.length);

        const receipts = await triggerReceipts(t.read);
        expect(receipts).toHaveLength(body.alerts.length);
        const delivery = {
          receiver: 'chatops',
          groupKey: body.groupKey,
          truncatedAlerts: body.truncatedAlerts,
        };
        for (const [i, alert] of body.alerts.entries()) {
          const id = accepted[i]?.triggerId ?? '';
          const trigger = await stored(t.id, id);
          expect(trigger).toMatchObject({
            tenant: t.id,
            source: 'alertmanager',
            kind: 'alert',
            status: 'firing',
            fingerprint: alert.fingerprint,
            labels: alert.labels,
            annotations: alert.annotations,
            endsAt: null,
            eventType: null,
            data: null,
            resolves: null,
            bodyDigest: sha256(raw),
          });
          // Stored as timestamptz: the nanoseconds Alertmanager sends come back to the millisecond.
          expect(Date.parse(trigger.startsAt ?? '')).toBe(Date.parse(alert.startsAt));
          expect(trigger.links).toEqual(
            alert.generatorURL
              ? { generator: alert.generatorURL, alertmanager: 'http://vm:19093' }
              : { alertmanager: 'http://vm:19093' },
          );
          expect(await deliveryOf(id)).toEqual(delivery);

          const receipt = receipts.find((r) => r.payload.trigger === id);
          expect(receipt?.payload.id).toBe(trigger.receiptId);
          expect(receipt?.payload).toMatchObject({
            kind: 'trigger.received',
            tenant: t.id,
            source: 'alertmanager',
            status: 'firing',
            fingerprint: alert.fingerprint,
            labels: alert.labels,
            resolves: null,
            bodyDigest: sha256(raw),
            delivery,
          });
        }
      },
    );

    it('accepts the truncated capture with the headers Alertmanager sent, keeping truncatedAlerts: 1', async () => {
      const { headers, body } = capture(captures.truncated);
      // As captured, minus what the transport recomputes for the re-serialised body.
      const { host: _host, 'content-length': _length, ...sent } = headers;
      expect(sent.authorization).toBe(`Bearer ${env.ACME_INGEST}`);
      const res = await post(app, '/hooks/acme/alertmanager', JSON.stringify(body), sent);
      const accepted = await expectAccepted(res, 2);
      for (const { triggerId } of accepted) {
        expect(await deliveryOf(triggerId)).toMatchObject({ truncatedAlerts: 1 });
      }
      const receipts = await triggerReceipts(env.ACME_READ);
      const mine = receipts.filter((r) => accepted.some((a) => a.triggerId === r.payload.trigger));
      expect(mine.map((r) => r.payload.delivery)).toEqual([
        expect.objectContaining({ truncatedAlerts: 1 }),
        expect.objectContaining({ truncatedAlerts: 1 }),
      ]);
    });

    it('answers a redelivery with the same trigger ids as duplicates and writes nothing', async () => {
      const t = await freshTenant();
      const raw = JSON.stringify(capture(captures.truncated).body);
      const first = await expectAccepted(await sendAlerts(t, raw), 2);
      const receipts = await count('receipts', t.id);
      const triggers = await count('triggers', t.id);

      const again = await expectAccepted(await sendAlerts(t, raw), 2);
      expect(again).toEqual(
        first.map(({ triggerId }) => ({ triggerId, duplicate: true, runs: [] })),
      );
      expect(await count('receipts', t.id)).toBe(receipts);
      expect(await count('triggers', t.id)).toBe(triggers);
      expect(await triggerReceipts(t.read)).toHaveLength(2);
    });

    it('links the resolved capture to the firing trigger it ends', async () => {
      const t = await freshTenant();
      const firingBody = capture(captures.apiV2).body;
      const resolvedBody = capture(captures.resolved).body;
      // The two captures are one alert's two notifications.
      expect(resolvedBody.alerts[0]?.fingerprint).toBe(firingBody.alerts[0]?.fingerprint);
      expect(resolvedBody.alerts[0]?.startsAt).toBe(firingBody.alerts[0]?.startsAt);

      const [firing] = await expectAccepted(await sendAlerts(t, firingBody), 1);
      const [resolved] = await expectAccepted(await sendAlerts(t, resolvedBody), 1);
      expect(resolved?.duplicate).toBe(false);
      expect(resolved?.triggerId).not.toBe(firing?.triggerId);

      expect(await stored(t.id, resolved?.triggerId ?? '')).toMatchObject({
        status: 'resolved',
        fingerprint: '1d10fbf0341a9013',
        resolves: firing?.triggerId,
        endsAt: '2026-11-23T23:14:43.891Z',
      });
      expect((await stored(t.id, firing?.triggerId ?? '')).status).toBe('firing');
      const receipt = (await triggerReceipts(t.read)).find(
        (r) => r.payload.trigger === resolved?.triggerId,
      );
      expect(receipt?.payload).toMatchObject({ status: 'resolved', resolves: firing?.triggerId });

      const again = await expectAccepted(await sendAlerts(t, resolvedBody), 1);
      expect(again).toEqual([{ triggerId: resolved?.triggerId, duplicate: true, runs: [] }]);
    });

    it('links firing and resolved notifications of one alert sent in one delivery', async () => {
      const t = await freshTenant();
      const firing = capture(captures.apiV2).body;
      const resolved = capture(captures.resolved).body;
      const body = { ...resolved, alerts: [...firing.alerts, ...resolved.alerts] };
      const accepted = await expectAccepted(await sendAlerts(t, body), 2);
      expect(accepted.every((a) => !a.duplicate)).toBe(true);
      const [first, second] = await Promise.all(accepted.map((a) => stored(t.id, a.triggerId)));
      expect(first).toMatchObject({ status: 'firing', resolves: null });
      expect(second).toMatchObject({ status: 'resolved', resolves: accepted[0]?.triggerId });
    });

    it('leaves resolves null when no firing trigger of the same tenant matches', async () => {
      const owner = await freshTenant();
      const other = await freshTenant();
      await expectAccepted(await sendAlerts(owner, capture(captures.apiV2).body), 1);
      const [resolved] = await expectAccepted(
        await sendAlerts(other, capture(captures.resolved).body),
        1,
      );
      expect(await stored(other.id, resolved?.triggerId ?? '')).toMatchObject({
        status: 'resolved',
        resolves: null,
      });
    });
  });

  describe('hook authentication', () => {
    it('answers every bad credential and unknown tenant with the same 401 and stores nothing', async () => {
      const raw = JSON.stringify(capture(captures.amtool).body);
      const basic = `Basic ${Buffer.from(`alertmanager:${env.ACME_INGEST}`).toString('base64')}`;
      const cases: Array<[string, string, Record<string, string>]> = [
        ['no Authorization header', '/hooks/acme/alertmanager', {}],
        ['an unknown token', '/hooks/acme/alertmanager', bearer(newToken())],
        ['a token one character off', '/hooks/acme/alertmanager', bearer(`${env.ACME_INGEST}x`)],
        ['a Basic credential', '/hooks/acme/alertmanager', { authorization: basic }],
        ['a read-scope token', '/hooks/acme/alertmanager', bearer(env.ACME_READ)],
        ["acme's ingest token on globex", '/hooks/globex/alertmanager', bearer(env.ACME_INGEST)],
        ['an unknown tenant', '/hooks/initech/alertmanager', bearer(env.ACME_INGEST)],
        ['a malformed tenant id', '/hooks/Acme_Corp/alertmanager', bearer(env.ACME_INGEST)],
        ['a tenant id too long', `/hooks/${'a'.repeat(64)}/alertmanager`, bearer(env.ACME_INGEST)],
      ];
      const triggers = await count('triggers');
      const receipts = await count('receipts');
      const messages = new Map<string, string>();
      for (const [label, path, headers] of cases) {
        const res = await post(app, path, raw, { ...json, ...headers });
        expect(res.status, label).toBe(401);
        const body = await expectError(res, 401, 'unauthenticated');
        expect(body.error.message, label).not.toContain(env.ACME_INGEST);
        messages.set(label, body.error.message);
      }
      expect(new Set(messages.values()).size, JSON.stringify([...messages])).toBe(1);
      expect(await count('triggers')).toBe(triggers);
      expect(await count('receipts')).toBe(receipts);
    });
  });

  describe('grafana hook', () => {
    const path = '/hooks/acme/grafana';
    const grafanaLinks = (body: ReturnType<typeof grafanaBody>) => {
      const alert = body.alerts[0];
      return {
        generator: alert?.generatorURL,
        dashboard: alert?.dashboardURL,
        panel: alert?.panelURL,
        silence: alert?.silenceURL,
        grafana: 'https://grafana.example.invalid/',
      };
    };

    it('accepts a bearer ingest token and keeps dashboard, panel and silence URLs as links', async () => {
      const body = grafanaBody('a1b2c3d4e5f60001');
      const res = await post(app, path, JSON.stringify(body), {
        ...json,
        ...bearer(env.ACME_INGEST),
      });
      const [entry] = await expectAccepted(res, 1);
      expect(entry).toMatchObject({ duplicate: false, runs: [] });
      const trigger = await stored('acme', entry?.triggerId ?? '');
      expect(trigger).toMatchObject({
        source: 'grafana',
        kind: 'alert',
        status: 'firing',
        fingerprint: 'a1b2c3d4e5f60001',
        labels: body.alerts[0]?.labels,
        annotations: body.alerts[0]?.annotations,
        startsAt: '2026-11-24T08:00:00.000Z',
        endsAt: null,
      });
      expect(trigger.links).toEqual(grafanaLinks(body));
    });

    it("accepts an HMAC of the body made with the tenant's secret, without a token", async () => {
      const raw = JSON.stringify(grafanaBody('a1b2c3d4e5f60002'));
      const res = await post(app, path, raw, {
        ...json,
        'x-grafana-alerting-signature': hmacHex(env.ACME_GRAFANA, raw),
      });
      const [entry] = await expectAccepted(res, 1);
      expect((await stored('acme', entry?.triggerId ?? '')).source).toBe('grafana');
    });

    it('answers 401 to a tampered body, another secret or no secret configured, storing nothing', async () => {
      const raw = JSON.stringify(grafanaBody('a1b2c3d4e5f60003'));
      const signature = hmacHex(env.ACME_GRAFANA, raw);
      const tampered = raw.replace('"severity":"critical"', '"severity":"info"');
      expect(tampered).not.toBe(raw);
      const triggers = await count('triggers');
      const cases: Array<[string, string, string]> = [
        [path, tampered, signature],
        [path, raw, hmacHex(env.GLOBEX_GRAFANA, raw)],
        [path, raw, signature.toUpperCase().replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))],
        [path, raw, 'not-hex'],
        ['/hooks/throttled/grafana', raw, signature],
        ['/hooks/initech/grafana', raw, signature],
      ];
      for (const [to, body, sig] of cases) {
        const res = await post(app, to, body, { ...json, 'x-grafana-alerting-signature': sig });
        await expectError(res, 401, 'unauthenticated');
      }
      expect(await count('triggers')).toBe(triggers);
    });

    it('accepts an HMAC over ts:body when the tenant configures a timestamp header', async () => {
      const raw = JSON.stringify(grafanaBody('a1b2c3d4e5f60004'));
      const ts = unixSeconds(new Date());
      const res = await post(app, '/hooks/globex/grafana', raw, {
        ...json,
        'x-grafana-alerting-signature': hmacHex(env.GLOBEX_GRAFANA, `${ts}:${raw}`),
        [grafanaTimestampHeader]: ts,
      });
      const [entry] = await expectAccepted(res, 1);
      expect((await stored('globex', entry?.triggerId ?? '')).fingerprint).toBe('a1b2c3d4e5f60004');
    });

    it('answers 401 to a stale, future, missing or unsigned timestamp', async () => {
      const raw = JSON.stringify(grafanaBody('a1b2c3d4e5f60005'));
      const signed = (ts: string) => hmacHex(env.GLOBEX_GRAFANA, `${ts}:${raw}`);
      const stale = unixSeconds(minutesFromNow(-6));
      const future = unixSeconds(minutesFromNow(6));
      const now = unixSeconds(new Date());
      const cases: Array<[string, Record<string, string>]> = [
        ['stale by 6 minutes', { sig: signed(stale), ts: stale }],
        ['6 minutes ahead', { sig: signed(future), ts: future }],
        ['no timestamp header', { sig: hmacHex(env.GLOBEX_GRAFANA, raw) }],
        ['timestamp not signed', { sig: hmacHex(env.GLOBEX_GRAFANA, raw), ts: now }],
        ['timestamp swapped after signing', { sig: signed(stale), ts: now }],
      ];
      const triggers = await count('triggers');
      for (const [label, { sig, ts }] of cases) {
        const headers: Record<string, string> = {
          ...json,
          'x-grafana-alerting-signature': sig ?? '',
        };
        if (ts !== undefined) headers[grafanaTimestampHeader] = ts;
        const res = await post(app, '/hooks/globex/grafana', raw, headers);
        expect(res.status, label).toBe(401);
        await expectError(res, 401, 'unauthenticated');
      }
      expect(await count('triggers')).toBe(triggers);
    });

    it('links a resolved Grafana alert to its firing trigger and dedups redeliveries', async () => {
      const headers = { ...json, ...bearer(env.ACME_INGEST) };
      const firingRaw = JSON.stringify(grafanaBody('a1b2c3d4e5f60006'));
      const [firing] = await expectAccepted(await post(app, path, firingRaw, headers), 1);
      const again = await expectAccepted(await post(app, path, firingRaw, headers), 1);
      expect(again).toEqual([{ triggerId: firing?.triggerId, duplicate: true, runs: [] }]);
      const resolvedRaw = JSON.stringify(grafanaBody('a1b2c3d4e5f60006', 'resolved'));
      const [resolved] = await expectAccepted(await post(app, path, resolvedRaw, headers), 1);
      expect(await stored('acme', resolved?.triggerId ?? '')).toMatchObject({
        status: 'resolved',
        resolves: firing?.triggerId,
        endsAt: '2026-11-24T08:20:00.000Z',
      });
    });
  });

  describe('pagerduty hook', () => {
    const path = '/hooks/acme/pagerduty';
    const sign = (raw: string, secret = env.ACME_PD) => `v1=${hmacHex(secret, raw)}`;
    /** Posts a body to acme's PagerDuty hook, signed with acme's secret. */
    const sendSigned = (body: unknown) => {
      const raw = JSON.stringify(body);
      return post(app, path, raw, pagerDutyHeaders(sign(raw)));
    };

    it('stores incident.triggered as a firing alert keyed by the incident', async () => {
      const body = incidentEvent(
        '01DEN3S0VXUGCM1YQDB8LJBXB1',
        'incident.triggered',
        'PGR0VU2',
        '2026-11-24T09:01:12.345Z',
      );
      const [entry] = await expectAccepted(await sendSigned(body), 1);
      expect(entry).toMatchObject({ duplicate: false, runs: [] });
      expect(await stored('acme', entry?.triggerId ?? '')).toMatchObject({
        source: 'pagerduty',
        kind: 'alert',
        status: 'firing',
        fingerprint: 'PGR0VU2',
        eventType: 'incident.triggered',
        labels: {
          event_type: 'incident.triggered',
          incident: 'PGR0VU2',
          service: 'Checkout API',
          urgency: 'high',
        },
        annotations: { summary: 'Checkout API 5xx above 5%' },
        startsAt: '2026-11-24T09:01:12.000Z',
        endsAt: null,
        data: body.event.data,
        links: { incident: 'https://acme.pagerduty.com/incidents/PGR0VU2' },
        resolves: null,
      });
      expect(await deliveryOf(entry?.triggerId ?? '')).toEqual({
        eventId: '01DEN3S0VXUGCM1YQDB8LJBXB1',
        resourceType: 'incident',
      });
    });

    it('accepts a rotation header whose second v1 signature is the right one', async () => {
      const raw = JSON.stringify(
        incidentEvent(
          '01DEN3S0VXUGCM1YQDB8LJBXB2',
          'incident.triggered',
          'PXRT9K2',
          '2026-11-24T09:02:00Z',
        ),
      );
      const header = `${sign(raw, 'the-previous-secret')},${sign(raw)}`;
      await expectAccepted(await post(app, path, raw, pagerDutyHeaders(header)), 1);
    });

    it('answers 401 to a missing, wrong or malformed signature, or a tenant without a secret', async () => {
      const raw = JSON.stringify(
        incidentEvent(
          '01DEN3S0VXUGCM1YQDB8LJBXB3',
          'incident.triggered',
          'PQWE7Z1',
          '2026-11-24T09:03:00Z',
        ),
      );
      const triggers = await count('triggers');
      const cases: Array<[string, Record<string, string>]> = [
        [path, json],
        [path, pagerDutyHeaders(sign(raw, 'not-the-secret'))],
        [path, pagerDutyHeaders(sign(`${raw} `))],
        [path, pagerDutyHeaders(`v0=${hmacHex(env.ACME_PD, raw)}`)],
        [path, pagerDutyHeaders(hmacHex(env.ACME_PD, raw))],
        ['/hooks/globex/pagerduty', pagerDutyHeaders(sign(raw))],
        ['/hooks/initech/pagerduty', pagerDutyHeaders(sign(raw))],
      ];
      for (const [to, headers] of cases) {
        await expectError(await post(app, to, raw, headers), 401, 'unauthenticated');
      }
      expect(await count('triggers')).toBe(triggers);
    });

    it('answers the same event id twice as one trigger, the second a duplicate', async () => {
      const body = incidentEvent(
        '01DEN3S0VXUGCM1YQDB8LJBXB4',
        'incident.triggered',
        'PDUP001',
        '2026-11-24T09:04:00Z',
      );
      const [first] = await expectAccepted(await sendSigned(body), 1);
      const receipts = await count('receipts', 'acme');
      const again = await expectAccepted(await sendSigned(body), 1);
      expect(again).toEqual([{ triggerId: first?.triggerId, duplicate: true, runs: [] }]);
      expect(await count('receipts', 'acme')).toBe(receipts);
    });

    it('links incident.resolved to the incident.triggered of the same incident', async () => {
      const incident = 'PRES0V1';
      const [triggered] = await expectAccepted(
        await sendSigned(
          incidentEvent(
            '01DEN3S0VXUGCM1YQDB8LJBXB5',
            'incident.triggered',
            incident,
            '2026-11-24T09:01:12Z',
          ),
        ),
        1,
      );
      const [resolved] = await expectAccepted(
        await sendSigned(
          incidentEvent(
            '01DEN3S0VXUGCM1YQDB8LJBXB6',
            'incident.resolved',
            incident,
            '2026-11-24T09:31:40.501Z',
          ),
        ),
        1,
      );
      expect(resolved?.duplicate).toBe(false);
      expect(await stored('acme', resolved?.triggerId ?? '')).toMatchObject({
        kind: 'alert',
        status: 'resolved',
        fingerprint: 'PRES0V1',
        eventType: 'incident.resolved',
        endsAt: '2026-11-24T09:31:40.501Z',
        resolves: triggered?.triggerId,
      });
    });

    it('stores incident.annotated as a received event, not an alert', async () => {
      const body = annotatedEvent('01DEN3S0VXUGCM1YQDB8LJBXB7', 'PGR0VU2');
      const [entry] = await expectAccepted(await sendSigned(body), 1);
      expect(await stored('acme', entry?.triggerId ?? '')).toMatchObject({
        source: 'pagerduty',
        kind: 'event',
        status: 'received',
        eventType: 'incident.annotated',
        endsAt: null,
        resolves: null,
        data: body.event.data,
      });
    });
  });

  describe('signed events hook', () => {
    const path = '/hooks/acme/events/deploys';
    const rollback = (id: string) => ({
      type: 'rollback_requested',
      timestamp: '2026-11-24T10:00:00Z',
      data: { service: 'checkout', from: 'v42', to: 'v41', requestedBy: 'ci@acme.example' },
      id,
    });

    it('accepts a Standard Webhooks delivery, naming the event by its type and keeping its data', async () => {
      const body = rollback('evt_1');
      const raw = JSON.stringify(body);
      const res = await post(app, path, raw, signedEventHeaders(raw, { id: 'msg_2f9Qe1' }));
      const [entry] = await expectAccepted(res, 1);
      expect(entry).toMatchObject({ duplicate: false, runs: [] });
      expect(await stored('acme', entry?.triggerId ?? '')).toMatchObject({
        source: 'events',
        kind: 'event',
        status: 'received',
        eventType: 'rollback_requested',
        labels: { source: 'deploys', type: 'rollback_requested' },
        fingerprint: null,
        data: body,
        bodyDigest: sha256(raw),
      });
      expect(await deliveryOf(entry?.triggerId ?? '')).toEqual({
        webhookId: 'msg_2f9Qe1',
        eventSource: 'deploys',
      });
    });

    it('answers a retry with the same webhook-id as a duplicate', async () => {
      const raw = JSON.stringify(rollback('evt_2'));
      const [first] = await expectAccepted(
        await post(app, path, raw, signedEventHeaders(raw, { id: 'msg_retry' })),
        1,
      );
      // A retry is signed again, with its own timestamp, under the same id.
      const retry = signedEventHeaders(raw, { id: 'msg_retry', at: minutesFromNow(-1) });
      const again = await expectAccepted(await post(app, path, raw, retry), 1);
      expect(again).toEqual([{ triggerId: first?.triggerId, duplicate: true, runs: [] }]);
    });

    it('answers 401 to a timestamp 6 minutes old or ahead, another secret or an unknown source', async () => {
      const raw = JSON.stringify(rollback('evt_3'));
      const otherSecret = `whsec_${randomBytes(32).toString('base64')}`;
      const cases: Array<[string, string, Record<string, string>]> = [
        ['stale', path, signedEventHeaders(raw, { id: 'msg_a', at: minutesFromNow(-6) })],
        ['future', path, signedEventHeaders(raw, { id: 'msg_b', at: minutesFromNow(6) })],
        ['other secret', path, signedEventHeaders(raw, { id: 'msg_c', secret: otherSecret })],
        ['unknown source', '/hooks/acme/events/payments', signedEventHeaders(raw, { id: 'msg_d' })],
        ['no events', '/hooks/globex/events/deploys', signedEventHeaders(raw, { id: 'msg_e' })],
        ['unsigned', path, json],
      ];
      const triggers = await count('triggers');
      for (const [label, to, headers] of cases) {
        const res = await post(app, to, raw, headers);
        expect(res.status, label).toBe(401);
        await expectError(res, 401, 'unauthenticated');
      }
      expect(await count('triggers')).toBe(triggers);
    });

    it('answers 401 when the signed body is changed in transit', async () => {
      const raw = JSON.stringify(rollback('evt_4'));
      const headers = signedEventHeaders(raw, { id: 'msg_tampered' });
      const res = await post(app, path, raw.replace('v41', 'v40'), headers);
      await expectError(res, 401, 'unauthenticated');
    });
  });

  describe('hook input', () => {
    const path = '/hooks/acme/alertmanager';
    const headers = alertmanagerHeaders(env.ACME_INGEST);
    const valid = () => capture(captures.amtool).body;

    it.each([
      ['text/plain', { 'content-type': 'text/plain' }],
      ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['JSON in latin1', { 'content-type': 'application/json; charset=iso-8859-1' }],
    ])('answers 415 to %s and stores nothing', async (_label, contentType) => {
      const triggers = await count('triggers');
      const res = await post(app, path, JSON.stringify(valid()), { ...headers, ...contentType });
      await expectError(res, 415, 'unsupported_media_type');
      expect(await count('triggers')).toBe(triggers);
    });

    it('answers 415 to a body without a Content-Type', async () => {
      const { 'content-type': _type, ...rest } = headers;
      const res = await post(app, path, Buffer.from(JSON.stringify(valid())), rest);
      await expectError(res, 415, 'unsupported_media_type');
    });

    it('answers 413 to a body over the 5 MiB hook limit, declared or not', async () => {
      const big = JSON.stringify({ ...valid(), padding: 'x'.repeat(5 * 1024 * 1024) });
      const triggers = await count('triggers');
      await expectError(await post(app, path, big, headers), 413, 'payload_too_large');
      const declared = { ...headers, 'content-length': String(Buffer.byteLength(big)) };
      await expectError(await post(app, path, big, declared), 413, 'payload_too_large');
      expect(await count('triggers')).toBe(triggers);
    });

    it.each([
      ['malformed JSON', '{"version":"4","alerts":['],
      ['an empty body', ''],
      ['trailing garbage', `${JSON.stringify({ version: '4' })} x`],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
    ])('answers 400 to %s', async (_label, body) => {
      const res = await post(app, path, body, headers);
      await expectError(res, 400, 'invalid_json');
    });

    it.each([
      ['a JSON document that is not an Alertmanager notification', { hello: 'world' }],
      ['a Grafana body on the Alertmanager route', grafanaBody('f00d')],
      ['a notification without alerts', { ...capture(captures.amtool).body, alerts: [] }],
      ['a JSON array', [capture(captures.amtool).body]],
      ['a bare string', 'firing'],
    ])('answers 422 to %s and stores nothing', async (_label, body) => {
      const triggers = await count('triggers');
      const res = await post(app, path, JSON.stringify(body), headers);
      const error = await expectError(res, 422, 'invalid');
      expect(error.error.message).toMatch(/alertmanager/);
      expect(await count('triggers')).toBe(triggers);
    });

    it('answers 422 to a document nested deeper than the limit', async () => {
      const deep = `{"version":"4","nested":${'['.repeat(40)}${']'.repeat(40)}}`;
      await expectError(await post(app, path, deep, headers), 422, 'invalid');
    });

    it('never lets __proto__ or constructor keys reach Object.prototype or the stored labels', async () => {
      const t = await freshTenant();
      const alert = valid().alerts[0];
      const polluting =
        '{"__proto__":{"polluted":"1"},"constructor":{"prototype":{"polluted":"1"}},';
      const raw = JSON.stringify(valid())
        .replace('{', polluting)
        .replace('"labels":{', `"labels":${polluting}`);
      expect(raw).toMatch(/^\{"__proto__".*"labels":\{"__proto__"/);
      const [entry] = await expectAccepted(await sendAlerts(t, raw), 1);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
      const trigger = await stored(t.id, entry?.triggerId ?? '');
      expect(trigger.labels).toEqual(alert?.labels);
      expect(Object.getPrototypeOf(trigger.labels)).toBe(Object.prototype);
    });

    it('answers 4xx, never 5xx, to a tenant path that matches no route', async () => {
      for (const to of [
        '/hooks//alertmanager',
        '/hooks/acme/unknown-source',
        '/hooks/acme/events',
      ]) {
        const res = await post(app, to, JSON.stringify(valid()), headers);
        expect(res.status, to).toBeGreaterThanOrEqual(400);
        expect(res.status, to).toBeLessThan(500);
        await expectError(res, res.status, 'not_found');
      }
    });

    // Alertmanager retries 5xx for ever: a payload that can never be stored must get a 4xx.
    // Date.parse accepts '1' (and 'March 7'); PostgreSQL's timestamptz does not.
    it('answers 422, not a retryable 503, to a startsAt PostgreSQL cannot store', async () => {
      const t = await freshTenant();
      const body = valid();
      body.alerts = body.alerts.map((a) => ({ ...a, startsAt: '1' }));
      await expectError(await sendAlerts(t, body), 422, 'invalid');
    });

    // PostgreSQL refuses U+0000 in jsonb and text: it must be refused (or escaped) before storage.
    it('answers 4xx, not a retryable 503, to a NUL character in a label value', async () => {
      const t = await freshTenant();
      const body = valid();
      body.alerts = body.alerts.map((a) => ({ ...a, labels: { ...a.labels, pod: 'api\u0000-1' } }));
      const res = await sendAlerts(t, body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    });

    // PagerDuty's `data.created_at` becomes startsAt, so it must be a time PostgreSQL can store.
    // PostgreSQL would also read 'yesterday' as a time of its own making, and store 'infinity',
    // which no reader of the trigger can turn back into a Date.
    it.each(['not a time', 'yesterday', 'infinity'])(
      'answers 422 to a PagerDuty created_at of %j',
      async (createdAt) => {
        const body = incidentEvent(
          `01DEN3S0VXUGCM1YQDB8LJB${createdAt.length}`,
          'incident.triggered',
          'PBADT1M',
          '2026-11-24T09:01:12Z',
        );
        body.event.data.created_at = createdAt;
        const raw = JSON.stringify(body);
        const signature = `v1=${hmacHex(env.ACME_PD, raw)}`;
        const res = await post(app, '/hooks/acme/pagerduty', raw, pagerDutyHeaders(signature));
        await expectError(res, 422, 'invalid');
      },
    );
  });

  describe('hook rate limit', () => {
    it('answers the third quick delivery of a tenant limited to burst 2 with 429 and Retry-After', async () => {
      const throttled = { id: 'throttled', ingest: env.THROTTLED_INGEST };
      const body = capture(captures.amtool).body;
      const statuses: number[] = [];
      let refused: Response | undefined;
      for (const n of [1, 2, 3]) {
        const alerts = body.alerts.map((a) => ({ ...a, fingerprint: `${a.fingerprint}${n}` }));
        const res = await sendAlerts(throttled, { ...body, alerts });
        statuses.push(res.status);
        if (res.status === 429) refused = res;
      }
      expect(statuses).toEqual([202, 202, 429]);
      if (!refused) throw new Error('no delivery was refused');
      await expectError(refused, 429, 'rate_limited');
      const retryAfter = refused.headers.get('retry-after');
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(await count('triggers', 'throttled')).toBe(2);
      // Other tenants keep their own budget.
      expect((await sendAlerts(await freshTenant(), body)).status).toBe(202);
    });
  });

  describe('storage outage', () => {
    /** An app on a database of its own, with the config's tenants, and a way to close it. */
    async function isolatedApp() {
      const own = await openTestDatabase(engine);
      const { ledger: ownLedger } = await createTestLedger(own);
      await syncTenants({ knex: own.knex, ledger: ownLedger }, config.tenants);
      return { own, app: buildApp({ db: own, ledger: ownLedger, tenants: [...config.tenants] }) };
    }

    /** A signed incident.triggered for a new incident, to acme's PagerDuty hook on `to`. */
    function sendIncident(to: App, incident: string): Promise<Response> {
      const event = incidentEvent(
        `01DEN3S0VXUGCM1YQDB8L${incident}`,
        'incident.triggered',
        incident,
        '2026-11-24T09:00:00Z',
      );
      const raw = JSON.stringify(event);
      const headers = pagerDutyHeaders(`v1=${hmacHex(env.ACME_PD, raw)}`);
      return post(to, '/hooks/acme/pagerduty', raw, headers);
    }

    it('answers 503 not_ready to signed deliveries once its database is closed', async () => {
      const { own, app: closed } = await isolatedApp();
      // Accepted before the outage, so the 503 below is the outage's doing.
      await expectAccepted(await sendIncident(closed, 'PDOWN01'), 1);
      await own.close();
      const error = await expectError(await sendIncident(closed, 'PDOWN02'), 503, 'not_ready');
      expect(error.error.message).toMatch(/retry/i);
      const event = JSON.stringify({ type: 'rollback_requested', data: { service: 'checkout' } });
      const signed = signedEventHeaders(event, { id: 'msg_outage' });
      const res = await post(closed, '/hooks/acme/events/deploys', event, signed);
      await expectError(res, 503, 'not_ready');
    });

    it('answers 503 not_ready when the ingest transaction cannot reach storage', async () => {
      const broken = await openTestDatabase(engine);
      await broken.close();
      const partial = buildApp({
        db: db(),
        ledger,
        tenants: [...config.tenants],
        ingest: createIngest({ knex: broken.knex, ledger }),
      });
      const triggers = await count('triggers');
      const res = await post(
        partial,
        '/hooks/acme/alertmanager',
        JSON.stringify(capture(captures.apiV2).body),
        alertmanagerHeaders(env.ACME_INGEST),
      );
      await expectError(res, 503, 'not_ready');
      expect(await count('triggers')).toBe(triggers);
    });

    // Bearer authentication reads the token from storage too: its failure is not_ready as well.
    it('answers 503 not_ready to bearer deliveries once its database is closed', async () => {
      const { own, app: closed } = await isolatedApp();
      const deliver = () =>
        post(
          closed,
          '/hooks/acme/alertmanager',
          JSON.stringify(capture(captures.apiV2).body),
          alertmanagerHeaders(env.ACME_INGEST),
        );
      await expectAccepted(await deliver(), 1);
      await own.close();
      await expectError(await deliver(), 503, 'not_ready');
    });
  });
});
