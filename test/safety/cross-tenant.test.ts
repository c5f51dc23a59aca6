/**
 * Cross-tenant isolation, adversarially: tenant A has runs (one done, one awaiting approval), a
 * disabled playbook, a kill switch, receipts anchored in its log, a Trust Report and a secure link.
 * Tenant B — with its bearer tokens, its dashboard session, its Slack workspace and its Teams
 * tenant — tries every route the app registers on A's ids (`cross-tenant-cases.ts`): each answer is
 * 404/403 (or B's own data), carries none of A's ids, names or labels (files decoded, chat posts
 * included) beyond what B itself sent, and A's state and receipt chain are left as they were. A's
 * own credentials read the same ids, so the 404s are about the tenant, not the ids.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { TenantConfig } from '../../src/config.js';
import { mintLink } from '../../src/delivery/link.js';
import { WardenError } from '../../src/errors.js';
import { createAnchoring } from '../../src/ledger/anchor.js';
import { plugins } from '../../src/plugins/index.js';
import { validatePlugins } from '../../src/plugins/registry.js';
import { buildPosturePack } from '../../src/posture/pack.js';
import { isoWeekOf } from '../../src/reports/iso-week.js';
import { makeTrustReport, type TrustReportDeps } from '../../src/reports/trust-report.js';
import { Secret } from '../../src/secret.js';
import { getApproval } from '../../src/storage/approvals.js';
import { listKillSwitches } from '../../src/storage/kill-switches.js';
import { currentVersions } from '../../src/storage/playbooks.js';
import { getRunRow } from '../../src/storage/runs.js';
import { type FakeBotConnector, startFakeBotConnector } from '../fakes/bot-connector.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api.js';
import { describeEngines } from '../helpers/database.js';
import { operatorToken, startGuarded } from '../helpers/guarded.js';
import {
  type Answer,
  type CrossTenantContext,
  crossTenantCases,
  type TenantA,
} from './cross-tenant-cases.js';
import { createTenantClient, type TenantClient } from './cross-tenant-client.js';

const A = 'alphacorp';
const B = 'bravoinc';
const slackSecret = 'slack-signing-secret-for-cross-tenant';
const logger = pino({ level: 'silent' });
/** Where each tenant's chat lives. */
const chatOf = {
  [A]: {
    team: 'T0ALPHA',
    channel: 'C0ALPHA',
    aad: 'tenant-alpha',
    conversation: '19:alpha@thread.tacv2',
  },
  [B]: {
    team: 'T0BRAVO',
    channel: 'C0BRAVO',
    aad: 'tenant-bravo',
    conversation: '19:bravo@thread.tacv2',
  },
};
/** Per-tenant ingest secrets: B signs with its own, on A's paths. */
const secretsOf = {
  [A]: {
    whsec: `whsec_${Buffer.from('alpha-events-secret-0123456789').toString('base64')}`,
    pd: 'alpha-pd-secret',
  },
  [B]: {
    whsec: `whsec_${Buffer.from('bravo-events-secret-0123456789').toString('base64')}`,
    pd: 'bravo-pd-secret',
  },
};
const labelOfA = 'sekret-label-A7Q9';
const switchReasonOfA = 'sekret-switch-reason-A7Q9';

const playbook = (name: string, alertname: string, step: string, spec = '') => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${alertname} } }
${spec}
  steps:
    - { id: act, uses: ${step} }
`;

/** A tenant's config as the app reads it: chat, and ingest secrets for the signed hooks. */
function tenantConfig(id: typeof A | typeof B, connectorUrl: string): TenantConfig {
  const chat = chatOf[id];
  const secret = (value: string) => new Secret(value, 'literal');
  return {
    id,
    tier: 'enterprise',
    plugins: {},
    ingest: {
      events: { deploys: { secret: secret(secretsOf[id].whsec) } },
      pagerduty: { secret: secret(secretsOf[id].pd) },
      rateLimit: { perSecond: 10_000, burst: 10_000 },
    },
    chat: {
      operators: [`slack:U0${id[0]?.toUpperCase()}OPS`, `teams:aad-${id[0]}ops`],
      slack: { teamId: chat.team, channel: chat.channel },
      teams: {
        tenantId: chat.aad,
        serviceUrl: connectorUrl,
        conversationId: chat.conversation,
        groups: {},
      },
    },
  } as unknown as TenantConfig;
}

describeEngines('cross-tenant isolation', ({ db }) => {
  const probe = createProbe();
  let slack: FakeSlackApi;
  let connector: FakeBotConnector;
  let g: Awaited<ReturnType<typeof startGuarded>>;
  let app: ReturnType<typeof createApp>;
  let a: TenantA;
  let b: CrossTenantContext['b'];
  /** How B talks to the app. */
  let client: TenantClient;
  /** Everything that identifies A, or belongs to A, that B must never be shown. */
  let idsOfA: string[] = [];
  let receiptsOfA = 0;
  const knex = () => db().knex;
  const token = (tenant: string, who: 'ingest' | 'read' | 'admin') =>
    g.tokens.get(tenant)?.[who] ?? '';

  beforeAll(async () => {
    [slack, connector] = await Promise.all([startFakeSlackApi(), startFakeBotConnector()]);
    const configs = [tenantConfig(A, connector.serviceUrl), tenantConfig(B, connector.serviceUrl)];
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      chat: { slack: { signingSecret: slackSecret, botToken: slack.token, apiUrl: slack.apiUrl } },
      tenants: [
        {
          id: A,
          chat: configs[0]?.chat,
          playbooks: {
            'ingest-restart': playbook(
              'ingest-restart',
              'IngestLag',
              'probe.touch, with: { label: "{{ alert.labels.secret }}", targets: [ingest-1] }',
            ),
            'db-failover': playbook(
              'db-failover',
              'ReplicaLag',
              'probe.destroy, with: { label: "failover", targets: [db-1] }',
              '  approval: { approvers: [slack:U0AALICE, teams:aad-aalice] }',
            ),
            'legacy-sync': playbook('legacy-sync', 'LegacySync', 'probe.touch, with: { label: x }'),
          },
        },
        {
          id: B,
          chat: configs[1]?.chat,
          playbooks: {
            'cache-flush': playbook(
              'cache-flush',
              'CacheMiss',
              'probe.touch, with: { label: "bravo-flush", targets: [cache-1] }',
            ),
          },
        },
      ],
    });
    const [done] = await g.fire(A, { alertname: 'IngestLag', secret: labelOfA });
    const [waiting] = await g.fire(A, { alertname: 'ReplicaLag' });
    await g.fire(B, { alertname: 'CacheMiss' });
    await g.idle();
    const ticket = (await g.api(A, 'read', 'GET', `/approvals?run=${waiting}`)).body.approvals[0];
    await g.api(A, 'admin', 'POST', '/playbooks/legacy-sync/disable', { reason: 'retired' });
    await g.api(A, 'admin', 'POST', '/kill-switch', {
      scope: 'playbook',
      target: 'ingest-restart',
      engaged: true,
      reason: switchReasonOfA,
    });

    const week = isoWeekOf(new Date());
    const reportDeps: TrustReportDeps = {
      knex: knex(),
      ledger: g.ledger,
      logger,
      tenants: configs,
      publicUrl: 'http://warden.test',
      pdf: () => Promise.reject(new WardenError('not_ready', 'No Chromium in this test.')),
    };
    const reportOf = async (tenant: string) => {
      const made = await makeTrustReport(reportDeps, { tenant, week, format: 'html' });
      if (!made) throw new Error(`no report for ${tenant}`);
      const link = await mintLink(knex(), { tenant, reportId: made.report.id, ttlMs: 3_600_000 });
      return { report: made.report.id, link: { id: link.id, token: link.path.slice(3) } };
    };
    const [reportA, reportB] = [await reportOf(A), await reportOf(B)];
    const anchoring = createAnchoring({
      knex: knex(),
      signer: g.ledger.signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async () => true,
      logger,
    });
    const checkpointA = await anchoring.anchor(A);
    await anchoring.anchor(B);
    const [receipt] = await knex()('receipts').where({ tenant_id: A }).orderBy('seq').pluck('id');

    app = createApp({
      config: {
        host: '127.0.0.1',
        tenants: configs,
        adminToken: new Secret(operatorToken, 'literal'),
      },
      db: db(),
      ledger: g.ledger,
      ingest: g.ingest,
      catalog: validatePlugins([...plugins, probe.plugin]),
      queue: g.queue,
      logger,
      ...(g.chat ? { chatRoutes: g.chat.routes } : {}),
      reports: (req) => makeTrustReport(reportDeps, req),
      posture: (tenant, outDir) =>
        buildPosturePack(
          { knex: knex(), ledger: g.ledger, logger, tenants: configs },
          { tenant, outDir },
        ),
    });

    a = {
      id: A,
      runs: { done: done as string, waiting: waiting as string },
      ticket: ticket.id,
      receipt,
      report: reportA.report,
      link: reportA.link,
      playbooks: { done: 'ingest-restart', waiting: 'db-failover', disabled: 'legacy-sync' },
      checkpointSize: checkpointA?.size ?? 0,
    };
    b = { id: B, link: reportB.link, playbook: 'cache-flush', week };
    client = createTenantClient({
      app,
      token: (who) => token(B, who),
      chat: { ...chatOf[B], slackUser: 'U0BOPS', aadUser: 'aad-bops' },
      secrets: secretsOf[B],
      slackSigningSecret: slackSecret,
      slack,
      connector,
      idle: () => g.idle(),
    });

    const column = (table: string, name = 'id') =>
      knex()(table).where({ tenant_id: A }).pluck(name) as Promise<string[]>;
    idsOfA = [
      A,
      ...Object.values(a.playbooks),
      labelOfA,
      switchReasonOfA,
      ...Object.values(chatOf[A]),
      'U0AALICE',
      'aad-aalice',
      ...(await column('runs')),
      ...(await column('triggers')),
      ...(await column('approvals')),
      ...(await column('receipts')),
      ...(await column('receipts', 'digest')),
      ...(await column('reports')),
      ...(await column('reports', 'sha256')),
      ...(await column('report_links')),
      checkpointA?.root.toString('base64') ?? '',
    ].filter((id) => id.length >= 6);
    receiptsOfA = (await column('receipts')).length;
  }, 120_000);

  afterAll(async () => {
    await g?.close();
    await Promise.all([slack?.close(), connector?.close()]);
  });

  const context = (): CrossTenantContext => ({
    a,
    b,
    ...client,
    async state() {
      const count = async (table: string) =>
        Number((await knex()(table).where({ tenant_id: A }).count('* as n'))[0]?.n);
      return {
        ticket: (await getApproval(knex(), A, a.ticket))?.status ?? 'missing',
        waitingRun: (await getRunRow(knex(), A, a.runs.waiting))?.status ?? 'missing',
        runs: await count('runs'),
        triggers: await count('triggers'),
        receipts: await count('receipts'),
        disabled: (await currentVersions(knex(), A)).filter((v) => v.disabled).map((v) => v.name),
        switches: (await listKillSwitches(knex(), A))
          .filter((s) => s.engaged)
          .map((s) => `${s.scope}:${s.target}`),
      };
    },
  });

  /**
   * A's ids B has sent itself, in this request or an earlier one (B's own receipts of refused
   * attempts name the ticket B tried): B learns nothing from seeing them again.
   */
  const sentByB = new Set<string>();
  /** A's ids in `answer` that B never sent. */
  const leaks = (x: Answer) => {
    for (const id of idsOfA) if (x.request.includes(id)) sentByB.add(id);
    return idsOfA.filter((id) => !sentByB.has(id) && x.text.includes(id));
  };

  it('has a case for every route the app registers, and none for a route it does not', () => {
    const registered = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && !r.path.endsWith('*'))
        .map((r) => `${r.method} ${r.path}`),
    );
    const covered = new Set(crossTenantCases.map((c) => c.route));
    expect(
      [...registered].filter((r) => !covered.has(r)),
      'routes without a case',
    ).toEqual([]);
    expect(
      [...covered].filter((r) => !registered.has(r)),
      'cases of no route',
    ).toEqual([]);
  });

  it("reads A's ids with A's own credentials (the ids exist; B's 404s are about the tenant)", async () => {
    const own = async (path: string) =>
      app.request(path, { headers: { authorization: `Bearer ${token(A, 'read')}` } });
    for (const path of [
      `/api/v1/runs/${a.runs.done}`,
      `/api/v1/approvals/${a.ticket}`,
      `/api/v1/receipts/${a.receipt}`,
      `/api/v1/ledger/proof/${a.receipt}`,
      `/api/v1/reports/${a.report}`,
      `/api/v1/reports/${a.report}/content`,
    ]) {
      expect((await own(path)).status, path).toBe(200);
    }
    const listed = await (await own(`/api/v1/runs?playbook=${a.playbooks.done}`)).text();
    expect(listed).toContain(a.runs.done);
    // The scan B's answers get finds A's ids where they are: in A's own evidence.
    const evidence = await (await own('/api/v1/export')).text();
    expect(idsOfA.filter((id) => evidence.includes(id)).length).toBeGreaterThan(20);
    expect(evidence).toContain(labelOfA);
  });

  describe('tenant B on tenant A', () => {
    let before: Awaited<ReturnType<CrossTenantContext['state']>>;
    beforeAll(async () => {
      before = await context().state();
      expect(before).toMatchObject({
        ticket: 'pending',
        waitingRun: 'awaiting_approval',
        disabled: ['legacy-sync'],
        switches: ['playbook:ingest-restart'],
        receipts: receiptsOfA,
      });
    });

    it.each(crossTenantCases.map((c) => [`${c.route}: ${c.what}`, c] as const))(
      '%s',
      async (_name, c) => {
        const ctx = context();
        const got = await c.send(ctx);
        expect(c.expect, `${got.status} ${got.text.slice(0, 300)}`).toContain(got.status);
        const around = (id: string) =>
          got.text.slice(got.text.indexOf(id) - 160, got.text.indexOf(id) + 60);
        expect(leaks(got).map(around), 'ids of A in what B got back').toEqual([]);
        if (c.shows) expect(got.text).toContain(c.shows);
        await c.after?.(ctx, got);
        // Nothing B did changed A: no run, trigger or receipt of A's, no switch, no decision.
        expect(await ctx.state()).toEqual(before);
      },
    );
  });
});
