/**
 * Approval bypass attempts over the real chat routes, on real tickets: forged Slack clicks (a bad
 * signature, another secret, a signed body altered on the way, a click replayed after the window)
 * and forged Teams activities with an app id set (no token, a forger's key, another bot, expired,
 * another serviceUrl, `alg: none`) are refused before anything is decided or receipted; the same
 * clicks, genuinely signed, then decide. Self-approval and a second vote by one person are refused
 * across channels, and an approval never overrides a kill switch. (Non-approvers, other
 * workspaces, replays within the window and expiry are in test/e2e/chat-*.test.ts and
 * approvals.test.ts.)
 */
import pino from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createChatCore } from '../../src/chat/core.js';
import { createTeamsApp } from '../../src/chat/teams/teams-app.js';
import type { TenantConfig } from '../../src/config.js';
import { openGuardrails } from '../../src/guardrails/guardrails.js';
import { plugins } from '../../src/plugins/index.js';
import { validatePlugins } from '../../src/plugins/registry.js';
import { type FakeBotConnector, startFakeBotConnector } from '../fakes/bot-connector.js';
import { createProbe } from '../fakes/probe-plugin.js';
import {
  type FakeSlackApi,
  signSlack,
  slackClickBody,
  startFakeSlackApi,
} from '../fakes/slack-api.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';
import { type BotFrameworkIssuer, startBotFrameworkIssuer } from './bot-framework-issuer.js';

const t = 'acme';
const team = 'T0ACME';
const aadTenant = 'tenant-acme';
const conversation = '19:ops@thread.tacv2';
const secret = 'slack-signing-secret-for-forgery';
const appId = '00000000-0000-0000-0000-00000000beef';
const logger = pino({ level: 'silent' });

const playbook = (name: string, spec: string, label: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${name} } }
${spec}
  steps:
    - { id: act, uses: probe.destroy, with: { label: "${label}", targets: [db-1] } }
`;

describeEngines('approval bypass attempts', ({ db }) => {
  const probe = createProbe();
  let slack: FakeSlackApi;
  let connector: FakeBotConnector;
  let issuer: BotFrameworkIssuer;
  let g: Awaited<ReturnType<typeof startGuarded>>;
  /** POST /teams/messages of an adapter with TEAMS_APP_ID set, over the same runtime. */
  let teams: ReturnType<typeof createTeamsApp>;
  let sequence = 0;
  const executed = (label: string) => probe.calls.filter((c) => c.label === label).length;

  beforeAll(async () => {
    [slack, connector] = await Promise.all([startFakeSlackApi(), startFakeBotConnector()]);
    issuer = await startBotFrameworkIssuer({ appId, serviceUrl: connector.serviceUrl });
    const chat = {
      slack: { teamId: team, channel: 'C0OPS' },
      teams: {
        tenantId: aadTenant,
        serviceUrl: connector.serviceUrl,
        conversationId: conversation,
        groups: {},
      },
      operators: ['slack:U0OPS'],
    };
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      chat: { slack: { signingSecret: secret, botToken: slack.token, apiUrl: slack.apiUrl } },
      tenants: [
        {
          id: t,
          chat,
          playbooks: {
            destroy: playbook(
              'destroy',
              '  approval: { approvers: [slack:U0ALICE, teams:aad-alice] }',
              'destroy-{{ alert.labels.n }}',
            ),
            dual: playbook(
              'dual',
              '  environment: production\n  approval: { approvers: [slack:U0ALICE, slack:U0BOB, slack:U0OPS] }',
              'dual-{{ params.n }}',
            ),
          },
        },
      ],
    });
    // The Teams adapter as a deployment with TEAMS_APP_ID runs it: every activity needs a token.
    const tenants = [
      {
        id: t,
        tier: 'enterprise',
        plugins: {},
        ingest: { events: {}, rateLimit: { perSecond: 10_000, burst: 10_000 } },
        chat,
      } as unknown as TenantConfig,
    ];
    const catalog = validatePlugins([...plugins, probe.plugin]);
    const knex = db().knex;
    const { guard } = await openGuardrails({ knex, ledger: g.ledger, catalog, tenants, logger });
    const core = createChatCore({
      knex,
      ledger: g.ledger,
      catalog,
      tenants,
      guard,
      queue: g.queue,
      logger,
    });
    teams = createTeamsApp({
      appId,
      appPassword: 'not-used-offline',
      core,
      logger,
      groups: () => ({}),
    });
  });

  afterAll(async () => {
    await g?.close();
    await issuer?.close();
    await Promise.all([slack?.close(), connector?.close()]);
  });

  const receiptCount = async () =>
    Number((await db().knex('receipts').where({ tenant_id: t }).count('* as n'))[0]?.n);
  const ticketOf = async (run: string) =>
    (await g.api(t, 'read', 'GET', `/approvals?run=${run}`)).body.approvals[0] as {
      id: string;
      status: string;
    };
  const approval = async (id: string) => (await g.api(t, 'read', 'GET', `/approvals/${id}`)).body;

  async function pending(name: 'destroy', n: string) {
    const [run] = await g.fire(t, { alertname: name, n });
    await g.idle();
    expect((await g.run(t, run as string)).status).toBe('awaiting_approval');
    return { run: run as string, ticket: (await ticketOf(run as string)).id };
  }

  /** An Approve click by `user` on `ticket`, as Slack sends it (form-encoded `payload`). */
  const clickBody = (user: string, ticket: string) =>
    slackClickBody({
      user,
      team,
      channel: 'C0OPS',
      ticket,
      responseUrl: slack.responseUrl(`click-${++sequence}`),
    });

  async function postSlack(body: string, headers: Record<string, string>) {
    const res = await g.app.request('/slack/events', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
    await g.idle();
    return { status: res.status, body: await res.text() };
  }
  const now = () => Math.floor(Date.now() / 1000);
  /** A genuinely signed click by `user`. */
  const click = (user: string, ticket: string) => {
    const body = clickBody(user, ticket);
    return postSlack(body, signSlack(secret, body, now()));
  };
  const command = (user: string, text: string) => {
    const body = new URLSearchParams({
      team_id: team,
      channel_id: 'C0OPS',
      user_id: user,
      user_name: user.toLowerCase(),
      command: '/playbook',
      text,
      response_url: slack.responseUrl(`cmd-${++sequence}`),
      trigger_id: '1.2.3',
    }).toString();
    return postSlack(body, signSlack(secret, body, now()));
  };

  it('refuses forged Slack clicks before anything is decided or receipted; the genuine click decides', async () => {
    const { run, ticket } = await pending('destroy', 'slack');
    const receipts = await receiptCount();
    const updates = slack.callsTo('chat.update').length;
    const alice = clickBody('U0ALICE', ticket);
    const mallory = clickBody('U0MALLORY', ticket);
    const forged: Array<[string, string, Record<string, string>]> = [
      [
        'a bad signature',
        alice,
        { ...signSlack(secret, alice, now()), 'x-slack-signature': `v0=${'0'.repeat(64)}` },
      ],
      ['another secret', alice, signSlack('not-the-signing-secret', alice, now())],
      // Mallory's genuine click, with the approver's name put in on the way.
      ['a signed body altered', alice, signSlack(secret, mallory, now())],
      [
        "the approver's click replayed after 5 minutes",
        alice,
        signSlack(secret, alice, now() - 301),
      ],
      ['a timestamp 5 minutes ahead', alice, signSlack(secret, alice, now() + 301)],
      ['no signature', alice, { 'x-slack-request-timestamp': String(now()) }],
    ];
    for (const [what, body, headers] of forged) {
      const res = await postSlack(body, headers);
      expect(res.status, what).toBe(401);
      expect(JSON.parse(res.body), what).toMatchObject({ error: { code: 'unauthenticated' } });
    }
    expect(await approval(ticket)).toMatchObject({ status: 'pending', votes: [] });
    expect((await g.run(t, run)).status).toBe('awaiting_approval');
    expect(executed('destroy-slack')).toBe(0);
    expect(await receiptCount(), 'a forged click leaves no receipt').toBe(receipts);
    expect(slack.callsTo('chat.update')).toHaveLength(updates);

    expect((await postSlack(alice, signSlack(secret, alice, now()))).status).toBe(200);
    expect(await approval(ticket)).toMatchObject({
      status: 'approved',
      votes: [{ actor: 'slack:U0ALICE' }],
    });
    expect((await g.run(t, run)).status).toBe('succeeded');
    expect(executed('destroy-slack')).toBe(1);
  });

  /** An Action.Execute Approve by `aad` on `ticket`, with this Authorization header. */
  async function teamsClick(aad: string, ticket: string, authorization?: string) {
    const activity = {
      type: 'invoke',
      name: 'adaptiveCard/action',
      id: String(1_699_000_000_000 + ++sequence),
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: connector.serviceUrl,
      from: { id: `29:1${aad}`, aadObjectId: aad, name: aad },
      conversation: {
        id: conversation,
        conversationType: 'channel',
        isGroup: true,
        tenantId: aadTenant,
      },
      recipient: { id: `28:${appId}`, name: 'Warden' },
      channelData: { tenant: { id: aadTenant } },
      value: {
        action: { type: 'Action.Execute', verb: 'approve', data: { ticket } },
        trigger: 'manual',
      },
    };
    const res = await teams.app.request('/teams/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(activity),
    });
    await teams.drain();
    await g.idle();
    return { status: res.status, body: await res.text() };
  }

  it('refuses forged Teams activities when an app id is set; a token the Bot Connector signed decides', async () => {
    const { run, ticket } = await pending('destroy', 'teams');
    const receipts = await receiptCount();
    const unsigned = (text: string) => `${Buffer.from(text).toString('base64url')}`;
    const forged: Array<[string, string | undefined]> = [
      ['no token', undefined],
      ['a token signed by another key', `Bearer ${issuer.token({ signer: 'forger' })}`],
      [
        'a token for another bot',
        `Bearer ${issuer.token({ claims: { aud: 'another-bot-app-id' } })}`,
      ],
      [
        'an expired token',
        `Bearer ${issuer.token({ claims: { exp: now() - 3600, nbf: now() - 7200 } })}`,
      ],
      [
        'a token for another serviceUrl',
        `Bearer ${issuer.token({ claims: { serviceurl: 'https://smba.example/evil/' } })}`,
      ],
      [
        'an unsigned token (alg: none)',
        `Bearer ${unsigned('{"alg":"none","typ":"JWT"}')}.${unsigned(JSON.stringify({ iss: 'https://api.botframework.com', aud: appId }))}.x`,
      ],
    ];
    // botbuilder prints each refusal to the console; the answers say all there is to say.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      for (const [what, authorization] of forged) {
        const res = await teamsClick('aad-alice', ticket, authorization);
        expect(res.status, `${what}: ${res.body}`).toBe(401);
        expect(JSON.parse(res.body), what).toEqual({
          error: { code: 'unauthenticated', message: 'A valid Bot Framework token is required.' },
        });
      }
    } finally {
      quiet.mockRestore();
    }
    expect(await approval(ticket)).toMatchObject({ status: 'pending', votes: [] });
    expect(executed('destroy-teams')).toBe(0);
    expect(await receiptCount(), 'a forged activity leaves no receipt').toBe(receipts);

    const genuine = await teamsClick('aad-alice', ticket, `Bearer ${issuer.token()}`);
    expect(genuine.status).toBe(200);
    expect(JSON.parse(genuine.body)).toMatchObject({
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
    });
    expect(await approval(ticket)).toMatchObject({
      status: 'approved',
      votes: [{ actor: 'teams:aad-alice' }],
    });
    expect((await g.run(t, run)).status).toBe('succeeded');
    expect(executed('destroy-teams')).toBe(1);
  });

  it('refuses self-approval and a second vote by one person across channels', async () => {
    expect((await command('U0OPS', 'run dual n=cross')).status).toBe(200);
    await g.idle();
    const runs = (await g.api(t, 'read', 'GET', '/runs?playbook=dual')).body.runs as Array<{
      id: string;
    }>;
    const run = runs[0]?.id as string;
    const ticket = await ticketOf(run);
    expect(ticket).toMatchObject({ status: 'pending' });
    const decide = (actor: string) =>
      g.api(t, 'admin', 'POST', `/approvals/${ticket.id}/decision`, { decision: 'approve', actor });

    // The Slack user who started the run, through the API's approver bot.
    const self = await decide('slack:U0OPS');
    expect([self.status, self.body.error.message]).toEqual([
      403,
      expect.stringMatching(/started this run|own/),
    ]);
    // Alice approves in Slack, then again through the API: one person, one vote.
    expect((await click('U0ALICE', ticket.id)).status).toBe(200);
    const twice = await decide('slack:U0ALICE');
    expect(twice.status).toBe(409);
    expect((await approval(ticket.id)).status).toBe('pending');
    expect(executed('dual-cross')).toBe(0);
    const refused = (await g.receipts(t, 'approval.refused')).filter(
      (r) => r.approval === ticket.id,
    );
    expect(refused.map((r) => [r.actor, r.reason])).toEqual([
      ['slack:U0OPS', 'self_approval'],
      ['slack:U0ALICE', 'duplicate_approver'],
    ]);

    expect((await click('U0BOB', ticket.id)).status).toBe(200);
    expect((await g.run(t, run)).status).toBe('succeeded');
    expect(executed('dual-cross')).toBe(1);
  });

  it('never lets an approval override a kill switch engaged after the ticket was opened', async () => {
    const { run, ticket } = await pending('destroy', 'killed');
    const on = await g.api(t, 'admin', 'POST', '/kill-switch', {
      scope: 'tenant',
      engaged: true,
      reason: 'incident',
    });
    expect(on.status).toBe(200);
    try {
      expect((await click('U0ALICE', ticket)).status).toBe(200);
      expect((await approval(ticket)).status).toBe('approved');
      const r = await g.run(t, run);
      expect(r.status).toBe('denied');
      expect(r.steps[0]?.decision).toMatchObject({ reasons: ['kill_switch:tenant'] });
      expect(executed('destroy-killed')).toBe(0);
    } finally {
      await g.api(t, 'admin', 'POST', '/kill-switch', { scope: 'tenant', engaged: false });
    }
  });
});
