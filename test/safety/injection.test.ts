/**
 * Injection, adversarially: `{{…}}`, `"; rm -rf /`, `../../etc/passwd`, `__proto__`, 100 KB, NUL,
 * RTL and CRLF values reach every free input of every built-in plugin step through alert labels,
 * annotations, signed event bodies, Slack command arguments and API run parameters — over the real
 * routes, into the real engine, against local fakes of the HTTP target, Prometheus, Kubernetes and
 * PagerDuty. Each value is refused at the door, denied with an `invalid_input` receipt while nothing
 * is called, or arrives as inert data exactly as sent: never expanded, never walking out of the
 * path a playbook wrote, never polluting a prototype.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantConfig } from '../../src/config.js';
import { digestJson } from '../../src/pipeline/simulate-run.js';
import { plugins } from '../../src/plugins/index.js';
import { validatePlugins } from '../../src/plugins/registry.js';
import { Secret } from '../../src/secret.js';
import { type FakeKubernetes, startFakeKubernetes } from '../fakes/kubernetes.js';
import { type FakePagerDuty, startFakePagerDuty } from '../fakes/pagerduty.js';
import { type FakePrometheus, startFakePrometheus } from '../fakes/prometheus.js';
import { type FakeSlackApi, signSlack, startFakeSlackApi } from '../fakes/slack-api.js';
import { buildApp } from '../helpers/app.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';
import {
  builtInSteps,
  type Channel,
  channelNames,
  channels,
  executesAt,
  fixtureNames,
  fixtures,
  type InjectionPoint,
  points,
  refusedAtDoor,
  type Targets,
} from './injection-points.js';
import { claim, type Matcher, type Seen, startHttpTarget } from './injection-requests.js';

const t = 'acme';
const team = 'T0ACME';
const signingSecret = 'slack-signing-secret-for-injection';
const whsec = `whsec_${Buffer.from('injection-events-secret-0123456789').toString('base64')}`;
const catalog = validatePlugins(plugins);
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

/** The playbook of one injection point for one channel, as JSON (which is YAML). */
function playbookOf(point: InjectionPoint, channel: Channel, targets: Targets): string {
  const on =
    channel === 'event'
      ? [{ event: { source: 'deploys', type: 'inject' } }]
      : [{ alert: { match: { alertname: `inject-${channel}` } } }];
  return JSON.stringify({
    apiVersion: 'warden/v1',
    kind: 'Playbook',
    metadata: { name: `${point.id}-${channel}` },
    spec: {
      on,
      steps: [{ id: 'inject', uses: point.uses, with: point.with(channels[channel], targets) }],
    },
  });
}

describeEngines('injection', ({ db }) => {
  let target: Awaited<ReturnType<typeof startHttpTarget>>;
  let prometheus: FakePrometheus;
  let kubernetes: FakeKubernetes;
  let pagerduty: FakePagerDuty;
  let slack: FakeSlackApi;
  let g: Awaited<ReturnType<typeof startGuarded>>;
  let hooks: ReturnType<typeof buildApp>;
  let targets: Targets;
  let delivery = 0;

  beforeAll(async () => {
    [target, prometheus, kubernetes, pagerduty, slack] = await Promise.all([
      startHttpTarget(),
      startFakePrometheus(),
      startFakeKubernetes(),
      startFakePagerDuty({ incidents: ['7', 'R7', 'constructor', 'Rconstructor', 'PINJECT'] }),
      startFakeSlackApi(),
    ]);
    prometheus.setValue(1);
    // What the values that are valid names name: `7` (the control) and `constructor`.
    for (const name of ['7', 'constructor', 'inject-replicas']) {
      kubernetes.addDeployment('default', name, { replicas: 1 });
    }
    targets = { http: target.host };
    const playbooks: Record<string, string> = {};
    for (const channel of channelNames) {
      for (const point of points) {
        playbooks[`${point.id}-${channel}`] = playbookOf(point, channel, targets);
      }
    }
    const secret = (value: string) => new Secret(value, 'literal');
    g = await startGuarded({
      db: db(),
      chat: { slack: { signingSecret, botToken: slack.token, apiUrl: slack.apiUrl } },
      tenants: [
        {
          id: t,
          playbooks,
          chat: { slack: { teamId: team, channel: 'C0OPS' }, operators: ['slack:U0OPS'] },
          plugins: {
            http: { allowedHosts: [target.host], secrets: {} },
            prometheus: { url: prometheus.url, allowedHosts: [], secrets: {} },
            kubernetes: {
              apiUrl: kubernetes.url,
              allowedHosts: [],
              secrets: { token: secret(kubernetes.token) },
            },
            pagerduty: {
              apiUrl: pagerduty.url,
              from: 'oncall@example.com',
              allowedHosts: [],
              secrets: { token: secret(pagerduty.token) },
            },
          } as unknown as TenantConfig['plugins'],
        },
      ],
    });
    // The hooks as a tenant configured for signed `deploys` events would have them.
    const hookTenant = {
      id: t,
      tier: 'enterprise',
      plugins: {},
      ingest: {
        events: { deploys: { secret: secret(whsec) } },
        rateLimit: { perSecond: 10_000, burst: 10_000 },
      },
      chat: { operators: [] },
    } as unknown as TenantConfig;
    hooks = buildApp({
      db: db(),
      ledger: g.ledger,
      ingest: g.ingest,
      queue: g.queue,
      tenants: [hookTenant],
    });
  });

  afterAll(async () => {
    await g?.close();
    await Promise.all([
      target?.close(),
      prometheus?.close(),
      kubernetes?.close(),
      pagerduty?.close(),
      slack?.close(),
    ]);
  });

  const marks = () => ({
    http: target.calls.length,
    prometheus: prometheus.requests.length,
    kubernetes: kubernetes.requests.length,
    pagerduty: pagerduty.requests.length,
  });
  const since = (m: ReturnType<typeof marks>): Seen => ({
    http: target.calls.slice(m.http),
    prometheus: prometheus.requests.slice(m.prometheus),
    kubernetes: kubernetes.requests.slice(m.kubernetes),
    pagerduty: pagerduty.requests.slice(m.pagerduty),
  });
  const count = async (table: 'triggers' | 'runs') =>
    Number((await db().knex(table).where({ tenant_id: t }).count('* as n'))[0]?.n);

  /** Every run denied `invalid_input` (its value names nothing), nothing sent, no prototype changed. */
  async function expectAllDenied(runs: string[], before: ReturnType<typeof marks>) {
    expect(runs).toHaveLength(points.length);
    await g.idle();
    for (const run of runs) {
      const state = await g.run(t, run);
      expect(state.steps[0]?.decision).toEqual({ outcome: 'deny', reasons: ['invalid_input'] });
      expect(state.steps[0]?.error).toMatch(/names nothing/);
    }
    expect(since(before)).toEqual({ http: [], prometheus: [], kubernetes: [], pagerduty: [] });
    expect(({} as Record<string, unknown>).v).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  }

  /** An Alertmanager notification whose labels and annotations are these raw JSON texts. */
  const rawAlert = (labels: string, annotations = '{}') =>
    JSON.stringify(alertBody('@labels', '@annotations'))
      .replace('"@labels"', labels)
      .replace('"@annotations"', annotations);

  /** An Alertmanager notification with one alert, as Alertmanager posts it. */
  const alertBody = (labels: unknown, annotations: unknown = {}) => ({
    version: '4',
    status: 'firing',
    receiver: 'warden',
    groupKey: '{}:{}',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations,
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: `fp-${++delivery}`,
      },
    ],
  });

  async function postAlert(raw: string) {
    return hooks.request(`/hooks/${t}/alertmanager`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${g.tokens.get(t)?.ingest}`,
      },
      body: raw,
    });
  }

  async function postEvent(raw: string) {
    const id = `msg_inject_${++delivery}`;
    const ts = String(Math.floor(Date.now() / 1000));
    const key = Buffer.from(whsec.slice('whsec_'.length), 'base64');
    const sig = createHmac('sha256', key).update(`${id}.${ts}.${raw}`).digest('base64');
    return hooks.request(`/hooks/${t}/events/deploys`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': ts,
        'webhook-signature': `v1,${sig}`,
      },
      body: raw,
    });
  }

  /** `/playbook <text>` from the operator, signed as Slack signs it; the ack's text. */
  async function slashCommand(text: string) {
    const body = new URLSearchParams({
      team_id: team,
      team_domain: 'acme',
      channel_id: 'C0OPS',
      user_id: 'U0OPS',
      user_name: 'ops',
      command: '/playbook',
      text,
      api_app_id: 'A0WARDEN',
      response_url: slack.responseUrl('inject'),
      trigger_id: '1.2.3',
    }).toString();
    const res = await g.app.request('/slack/events', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...signSlack(signingSecret, body, Math.floor(Date.now() / 1000)),
      },
      body,
    });
    expect(res.status).toBe(200);
    return JSON.stringify(await res.json());
  }

  /** Delivers `value` through `channel` to every point; the runs started, or null if refused. */
  async function deliver(channel: Channel, value: string): Promise<string[] | null> {
    const hook = async (res: Response) => {
      if (res.status !== 202) {
        expect(res.status, await res.text()).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        return null;
      }
      const body = (await res.json()) as { accepted: Array<{ runs: string[] }> };
      return body.accepted.flatMap((a) => a.runs);
    };
    switch (channel) {
      case 'labels':
        return hook(
          await postAlert(JSON.stringify(alertBody({ alertname: 'inject-labels', v: value }))),
        );
      case 'annotations':
        return hook(
          await postAlert(
            JSON.stringify(alertBody({ alertname: 'inject-annotations' }, { v: value })),
          ),
        );
      case 'event':
        return hook(await postEvent(JSON.stringify({ type: 'inject', v: value })));
      case 'chat': {
        const runs: string[] = [];
        for (const point of points) {
          const answer = await slashCommand(`run ${point.id}-chat v=${value}`);
          const run = /run ([0-9a-f-]{36})/.exec(answer)?.[1];
          if (!run) {
            expect(answer).not.toContain('Started');
            expect(answer, 'a refusal the caller can act on').not.toMatch(/could not answer/);
            return runs.length === 0 ? null : runs;
          }
          runs.push(run);
        }
        return runs;
      }
      case 'api': {
        const runs: string[] = [];
        for (const point of points) {
          const res = await g.api(t, 'ops', 'POST', `/playbooks/${point.id}-api/run`, {
            params: { v: value },
          });
          if (res.status !== 202) {
            expect([res.status, res.body?.error?.code]).toEqual([422, 'invalid']);
            return runs.length === 0 ? null : runs;
          }
          runs.push(res.body.run);
        }
        return runs;
      }
    }
  }

  /** The receipt payloads of one run, in chain order. */
  async function receiptsOf(run: string) {
    const rows: Array<{ body: string }> = await db()
      .knex('receipts')
      .where({ tenant_id: t })
      .andWhere('body', 'like', `%"run":"${run}"%`)
      .orderBy('seq')
      .select('body');
    return rows.map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }

  /** The point each run is for, from its playbook's name. */
  async function pointsOf(runs: string[]) {
    const rows: Array<{ id: string; playbook_name: string }> = await db()
      .knex('runs')
      .where({ tenant_id: t })
      .whereIn('id', runs)
      .select('id', 'playbook_name');
    return new Map(
      rows.map((r) => [r.id, r.playbook_name.replace(/-(labels|annotations|event|chat|api)$/, '')]),
    );
  }

  it('has an injection point in every built-in plugin step', () => {
    expect(new Set(points.map((p) => p.uses))).toEqual(new Set(builtInSteps));
  });

  describe.each(channelNames)('through %s', (channel) => {
    it.each(fixtureNames)('refuses, denies or passes on inertly a %s value', async (name) => {
      const value = fixtures[name];
      const replicas = kubernetes.deployment('default', 'inject-replicas');
      if (replicas) kubernetes.update(replicas, { replicas: 1 }); // so that a new count is a change
      const before = {
        marks: marks(),
        triggers: await count('triggers'),
        runs: await count('runs'),
      };
      const runs = await deliver(channel, value);
      await g.idle();
      const seen = since(before.marks);
      if (refusedAtDoor[channel].includes(name)) {
        expect(runs, 'refused at the door').toBeNull();
        expect(await count('triggers')).toBe(before.triggers);
        expect(await count('runs')).toBe(before.runs);
        expect(seen).toEqual({ http: [], prometheus: [], kubernetes: [], pagerduty: [] });
        return;
      }
      expect(runs).toHaveLength(points.length);
      const pointOf = await pointsOf(runs ?? []);
      const missing: Matcher[] = [];
      const outcomes: Record<string, string> = {};
      for (const run of runs ?? []) {
        const point = points.find((p) => p.id === pointOf.get(run)) as InjectionPoint;
        const state = await g.run(t, run);
        const receipts = await receiptsOf(run);
        const kinds = receipts.map((r) => r.kind);
        outcomes[point.id] = state.status;
        if (executesAt[name].includes(point.id)) {
          const entry = catalog.get(point.uses);
          const sent = point.escape ? point.escape(value) : value;
          const input = entry?.step.input.parse(point.with(sent, targets));
          expect(state.steps[0]?.input_digest, point.id).toBe(digestJson(input));
          expect(kinds, point.id).toContain('step.executed');
          missing.push(...claim(point.id, value, seen));
        } else {
          expect(state.steps[0]?.decision, point.id).toEqual({
            outcome: 'deny',
            reasons: ['invalid_input'],
          });
          const denied = receipts.find((r) => r.kind === 'step.denied');
          expect(denied, `${point.id}: a step.denied receipt`).toMatchObject({
            reasons: ['invalid_input'],
          });
          expect(kinds, point.id).not.toContain('step.executed');
        }
      }
      const expected = Object.fromEntries(
        points.map((p) => [p.id, executesAt[name].includes(p.id) ? 'succeeded' : 'denied']),
      );
      expect(outcomes).toEqual(expected);
      expect(missing, 'requests the executed steps should have sent').toEqual([]);
      expect(seen, 'requests no step explains').toEqual({
        http: [],
        prometheus: [],
        kubernetes: [],
        pagerduty: [],
      });
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    });
  });

  it.each(fixtureNames)('plans a %s value as it runs it, touching nothing', async (name) => {
    const value = fixtures[name];
    const before = marks();
    const outcomes: Record<string, string> = {};
    for (const point of points) {
      const sim = await g.api(t, 'read', 'POST', `/playbooks/${point.id}-api/simulate`, {
        params: { v: value },
      });
      expect(sim.status).toBe(200);
      outcomes[point.id] = sim.body.outcome;
      if (sim.body.outcome === 'denied') {
        expect(sim.body.denied).toMatchObject({ step: 'inject', reason: 'invalid_input' });
      }
    }
    expect(outcomes).toEqual(
      Object.fromEntries(
        points.map((p) => [p.id, executesAt[name].includes(p.id) ? 'planned' : 'denied']),
      ),
    );
    expect(since(before)).toEqual({ http: [], prometheus: [], kubernetes: [], pagerduty: [] });
  });

  describe('__proto__ and constructor keys', () => {
    const polluting =
      '"__proto__":{"v":"from-proto"},"constructor":{"prototype":{"v":"from-ctor"}}';

    it.each([
      ['labels', () => postAlert(rawAlert(`{"alertname":"inject-labels",${polluting}}`))],
      [
        'annotations',
        () => postAlert(rawAlert('{"alertname":"inject-annotations"}', `{${polluting}}`)),
      ],
      ['an event body', () => postEvent(`{"type":"inject",${polluting}}`)],
    ])(
      'never supply a value through %s: every step names nothing and is denied',
      async (_, send) => {
        const before = marks();
        const res = await send();
        expect(res.status).toBe(202);
        const { accepted } = (await res.json()) as { accepted: Array<{ runs: string[] }> };
        await expectAllDenied(
          accepted.flatMap((a) => a.runs),
          before,
        );
      },
    );

    it('never supply a value through API run parameters', async () => {
      const before = marks();
      const runs: string[] = [];
      for (const point of points) {
        const res = await g.app.request(`/api/v1/playbooks/${point.id}-api/run`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${g.tokens.get(t)?.ops}`,
            'content-type': 'application/json',
          },
          body: `{"params":{${polluting}}}`,
        });
        expect(res.status).toBe(202);
        runs.push(((await res.json()) as { run: string }).run);
      }
      await expectAllDenied(runs, before);
    });

    it('are refused as chat parameter names, and start nothing', async () => {
      const runs = await count('runs');
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        const answer = await slashCommand(`run chat-notify-chat ${key}=x`);
        expect(answer).toMatch(new RegExp(`${key}\\W* cannot be a parameter name`));
      }
      expect(await count('runs')).toBe(runs);
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    });
  });
});
