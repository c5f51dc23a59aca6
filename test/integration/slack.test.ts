/**
 * The Slack adapter end to end at the HTTP edge: genuinely signed Slack requests into
 * createSlackApp (real Bolt), its Web API calls and response_url posts into a local fake of Slack,
 * and a small in-memory ChatCore standing in for Warden's.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatCore, CommandAnswer } from '../../src/chat/core-port.js';
import type { ChatIdentity, Platform } from '../../src/chat/port.js';
import { checkBlockKit } from '../../src/chat/slack/block-kit-check.js';
import { createSlackApp, type SlackApp } from '../../src/chat/slack/slack-app.js';
import type { ApprovalCardView, RunSummaryView } from '../../src/chat/views.js';
import { WardenError } from '../../src/errors.js';
import { type FakeSlackApi, signSlack, startFakeSlackApi } from '../fakes/slack-api.js';

const signingSecret = 'slack-signing-secret-0123456789abcdef';
const team = 'T0ACME';
const channelId = 'C0OPS';
const cardTs = '1700000100.000100';

function card(ticketId: string, approvers: string[]): ApprovalCardView {
  return {
    ticketId,
    tenant: 'acme',
    playbook: 'restart-ingest',
    runId: 'run_1',
    stepId: 'restart',
    uses: 'http.request',
    summary: 'POST https://ingest.internal/admin/restart (shard 7)',
    targets: ['ingest-7'],
    inputDigest: 'sha256:abc',
    outcome: 'approval_required',
    reasons: [{ code: 'privileged_step', text: 'Restarting a shard needs an approval.' }],
    nextSteps: ['Check the lag dashboard first.'],
    evidence: [{ label: 'Run', url: '/api/v1/runs/run_1' }],
    rollback: 'http.request POST https://ingest.internal/admin/undo',
    approvers,
    minApprovals: 1,
    approvals: [],
    expiresAt: '2030-01-01T00:30:00Z',
    status: 'pending',
  };
}

/** Warden's core reduced to what the adapter needs: tickets, approvers, a few commands. */
class MemoryCore implements ChatCore {
  readonly tenants = new Map([[team, 'acme']]);
  readonly tickets = new Map<string, ApprovalCardView>();
  readonly decisions: Array<{
    tenant: string;
    ticket: string;
    decision: string;
    identity: ChatIdentity;
  }> = [];
  readonly refusals: string[] = [];
  readonly commands: Array<{ tenant: string; identity: ChatIdentity; text: string }> = [];
  /** How long `slow` takes; how long decide takes. */
  slowMs = 300;
  decideMs = 0;

  tenantFor(platform: Platform, workspace: string): string | undefined {
    return platform === 'slack' ? this.tenants.get(workspace) : undefined;
  }

  async decide(
    tenant: string,
    ticketId: string,
    decision: 'approve' | 'reject',
    identity: ChatIdentity,
    groupsOf: (groups: string[]) => Promise<string[]>,
  ): Promise<ApprovalCardView> {
    await sleep(this.decideMs);
    this.decisions.push({ tenant, ticket: ticketId, decision, identity });
    const view = this.tickets.get(ticketId);
    if (!view || view.tenant !== tenant) {
      throw new WardenError('not_found', `No approval ticket ${ticketId} in this tenant.`);
    }
    const groups = view.approvers.filter((a) => a.startsWith('group:'));
    const allowed =
      view.approvers.includes(identity.actor) ||
      (groups.length > 0 && (await groupsOf(groups)).length > 0);
    if (!allowed) {
      this.refusals.push(`${identity.actor} ${ticketId}`);
      throw new WardenError('forbidden', `${identity.actor} is not an approver of this step.`);
    }
    const at = '2030-01-01T00:05:00Z';
    const decided: ApprovalCardView = {
      ...view,
      status: decision === 'approve' ? 'approved' : 'rejected',
      approvals: decision === 'approve' ? [{ actor: identity.actor, at }] : [],
      decided: { actor: identity.actor, decision, at },
    };
    this.tickets.set(ticketId, decided);
    return decided;
  }

  async command(tenant: string, identity: ChatIdentity, text: string): Promise<CommandAnswer> {
    this.commands.push({ tenant, identity, text });
    const [verb, arg] = text.split(/\s+/);
    const notice = (title: string, lines: string[] = []): CommandAnswer => ({
      visibility: 'ephemeral',
      kind: 'notice',
      view: { title, lines, tone: 'info' },
    });
    switch (verb) {
      case 'list':
        return notice('Playbooks', ['restart-ingest v1']);
      case 'slow':
        await sleep(this.slowMs);
        return notice('Slow answer', ['done']);
      case 'status':
        return { visibility: 'in_channel', kind: 'run', view: run() };
      case 'approvals':
        return { visibility: 'ephemeral', kind: 'approvals', view: [...this.tickets.values()] };
      case 'disable':
        throw new WardenError('forbidden', `Disabling ${arg} needs an admin.`);
      default:
        throw new Error('connect ECONNREFUSED db.internal password=hunter2');
    }
  }
}

function run(): RunSummaryView {
  return {
    runId: 'run_1',
    tenant: 'acme',
    playbook: 'restart-ingest',
    version: 1,
    status: 'awaiting_approval',
    trigger: 'alertmanager: ReceiptLag (shard=7) firing',
    steps: [{ id: 'restart', uses: 'http.request', status: 'awaiting_approval' }],
    startedAt: '2030-01-01T00:00:00Z',
    links: [{ label: 'Run', url: '/api/v1/runs/run_1' }],
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

let fake: FakeSlackApi;
let core: MemoryCore;
let slack: SlackApp;
let logLines: string[];
/** Every JSON body Warden answered Slack with (acks). */
let acked: Array<Record<string, unknown>>;

function logger() {
  logLines = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}

function start(options: { now?: () => number; commandDeadlineMs?: number } = {}) {
  slack = createSlackApp({
    signingSecret,
    botToken: fake.token,
    apiUrl: fake.apiUrl,
    core,
    logger: logger(),
    baseUrl: 'https://warden.example.com',
    ...options,
  });
}

async function post(
  body: string,
  contentType = 'application/x-www-form-urlencoded',
  headers: Record<string, string> = signSlack(signingSecret, body, nowSeconds()),
): Promise<Response> {
  const res = await slack.app.request('/slack/events', {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
  if (res.headers.get('content-type')?.startsWith('application/json') && res.status === 200) {
    acked.push((await res.clone().json()) as Record<string, unknown>);
  }
  return res;
}

function commandBody(text: string, fields: Record<string, string> = {}): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: team,
    team_domain: 'acme',
    channel_id: channelId,
    channel_name: 'ops',
    user_id: 'U0ALICE',
    user_name: 'alice',
    command: '/playbook',
    text,
    api_app_id: 'A0WARDEN',
    response_url: fake.responseUrl('cmd'),
    trigger_id: '398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    ...fields,
  }).toString();
}

function clickBody(opts: {
  user: string;
  ticket: string;
  action?: 'warden_approve' | 'warden_reject';
  teamId?: string;
  respondId?: string;
}): string {
  const teamId = opts.teamId ?? team;
  const payload = {
    type: 'block_actions',
    user: {
      id: opts.user,
      username: opts.user.toLowerCase(),
      name: opts.user.toLowerCase(),
      team_id: teamId,
    },
    api_app_id: 'A0WARDEN',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: cardTs, channel_id: channelId, is_ephemeral: false },
    trigger_id: '13345224609.738474920.8088930838d88f008e0',
    team: { id: teamId, domain: 'acme' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: 'ops' },
    message: {
      type: 'message',
      ts: cardTs,
      text: 'restart-ingest needs approval',
      bot_id: 'B0WARDEN',
    },
    state: { values: {} },
    response_url: fake.responseUrl(opts.respondId ?? 'click'),
    actions: [
      {
        type: 'button',
        block_id: 'warden_ticket',
        action_id: opts.action ?? 'warden_approve',
        value: JSON.stringify({ ticket: opts.ticket }),
        text: { type: 'plain_text', text: 'Approve', emoji: true },
        style: 'primary',
        action_ts: '1700000200.000200',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function hasButtons(blocks: unknown): boolean {
  return JSON.stringify(blocks).includes('warden_approve');
}

beforeAll(async () => {
  fake = await startFakeSlackApi();
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  core = new MemoryCore();
  core.tickets.set('tk_direct', card('tk_direct', ['slack:U0ALICE']));
  core.tickets.set('tk_group', card('tk_group', ['group:oncall-ingest']));
  fake.calls.length = 0;
  fake.userGroups.splice(
    0,
    fake.userGroups.length,
    { id: 'S0ONCALL', handle: 'oncall-ingest', users: ['U0BOB', 'U0CAROL'] },
    { id: 'S0DBA', handle: 'dba', users: ['U0DAVE'] },
  );
  fake.responses.length = 0;
  acked = [];
  start();
});

afterEach(async () => {
  await slack.drain();
  // Every message Slack received from Warden passes Slack's Block Kit limits.
  const messages = [
    ...fake.calls.filter((c) => c.method.startsWith('chat.')).map((c) => c.params),
    ...fake.responses.map((r) => r.body),
    ...acked.filter((a) => 'blocks' in a),
  ];
  for (const m of messages) expect(checkBlockKit(m), JSON.stringify(m)).toEqual([]);
  // Secrets never reach the logs; Bolt never asks Slack who it is.
  const logs = logLines.join('');
  expect(logs).not.toContain(signingSecret);
  expect(logs).not.toContain(fake.token);
  expect(fake.callsTo('auth.test')).toEqual([]);
});

describe('POST /slack/events: /playbook', () => {
  it('answers a quick command in the ack, only to the caller', async () => {
    const started = Date.now();
    const res = await post(commandBody('list'));
    expect(Date.now() - started).toBeLessThan(2500);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response_type: string; text: string; blocks: unknown[] };
    expect(body.response_type).toBe('ephemeral');
    expect(JSON.stringify(body.blocks)).toContain('restart-ingest v1');
    expect(core.commands).toEqual([
      {
        tenant: 'acme',
        text: 'list',
        identity: { platform: 'slack', actor: 'slack:U0ALICE', workspace: team, name: 'alice' },
      },
    ]);
  });

  it('answers in the channel when the core says so, with absolute links', async () => {
    const res = await post(commandBody('status'));
    const body = (await res.json()) as { response_type: string; blocks: unknown[] };
    expect(body.response_type).toBe('in_channel');
    expect(JSON.stringify(body.blocks)).toContain('https://warden.example.com/api/v1/runs/run_1');
  });

  it('acks "Working on it…" within the deadline and sends a slow answer through response_url', async () => {
    start({ commandDeadlineMs: 100 });
    const res = await post(commandBody('slow'));
    const body = (await res.json()) as { response_type: string; text: string };
    expect(body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('Working on it'),
    });
    expect(fake.responses).toEqual([]);
    await slack.drain();
    expect(fake.responses).toHaveLength(1);
    expect(fake.responses[0]).toMatchObject({
      id: 'cmd',
      body: { response_type: 'ephemeral', text: expect.stringContaining('Slow answer') },
    });
  });

  it('acks a command slower than 2.5 s before Slack gives up at 3 s', async () => {
    core.slowMs = 2800;
    const started = Date.now();
    const res = await post(commandBody('slow'));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(2400);
    expect(elapsed).toBeLessThan(3000);
    expect(((await res.json()) as { text: string }).text).toContain('Working on it');
    await slack.drain();
    expect(fake.responses.map((r) => r.body.text)).toEqual([
      expect.stringContaining('Slow answer'),
    ]);
  });

  it("shows a refusal's message, and hides an internal error's", async () => {
    const refused = (await (await post(commandBody('disable restart-ingest'))).json()) as {
      response_type: string;
      text: string;
    };
    expect(refused.response_type).toBe('ephemeral');
    expect(refused.text).toContain('Disabling restart-ingest needs an admin.');

    const broken = await (await post(commandBody('explode'))).text();
    expect(broken).not.toMatch(/hunter2|ECONNREFUSED|at .*\.ts/);
    expect(JSON.parse(broken)).toMatchObject({ response_type: 'ephemeral' });
  });

  it('refuses a workspace that no tenant claims, without asking the core', async () => {
    const res = await post(commandBody('list', { team_id: 'T0OTHER' }));
    const body = (await res.json()) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('This Slack workspace is not connected to a Warden tenant.');
    expect(core.commands).toEqual([]);
  });
});

describe('POST /slack/events: Approve / Reject', () => {
  it('acks at once, decides for the signed user and team, and updates the card in place', async () => {
    core.decideMs = 200;
    const res = await post(clickBody({ user: 'U0ALICE', ticket: 'tk_direct' }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(core.decisions).toEqual([]); // answered before the core finished
    await slack.drain();

    expect(core.decisions).toEqual([
      {
        tenant: 'acme',
        ticket: 'tk_direct',
        decision: 'approve',
        identity: { platform: 'slack', actor: 'slack:U0ALICE', workspace: team, name: 'u0alice' },
      },
    ]);
    const updates = fake.callsTo('chat.update');
    expect(updates).toHaveLength(1);
    expect(updates[0]?.params).toMatchObject({ channel: channelId, ts: cardTs });
    expect(hasButtons(updates[0]?.params.blocks)).toBe(false);
    expect(JSON.stringify(updates[0]?.params)).toMatch(/approved/i);
    expect(fake.responses).toEqual([]);
  });

  it('records a rejection from the Reject button', async () => {
    await post(clickBody({ user: 'U0ALICE', ticket: 'tk_direct', action: 'warden_reject' }));
    await slack.drain();
    expect(core.decisions.map((d) => d.decision)).toEqual(['reject']);
    expect(JSON.stringify(fake.callsTo('chat.update')[0]?.params)).toMatch(/rejected/i);
  });

  it('tells only the clicker why a refused click did nothing, and leaves the card', async () => {
    const res = await post(clickBody({ user: 'U0MALLORY', ticket: 'tk_direct', respondId: 'm1' }));
    expect(res.status).toBe(200);
    await slack.drain();
    expect(core.refusals).toEqual(['slack:U0MALLORY tk_direct']);
    expect(fake.callsTo('chat.update')).toEqual([]);
    expect(fake.responses).toHaveLength(1);
    expect(fake.responses[0]).toMatchObject({
      id: 'm1',
      body: {
        response_type: 'ephemeral',
        replace_original: false,
        text: expect.stringContaining(
          'Not allowed: slack:U0MALLORY is not an approver of this step.',
        ),
      },
    });
  });

  it('resolves group: approvers through Slack user groups, cached for a minute', async () => {
    let now = Date.now();
    start({ now: () => now });
    await post(clickBody({ user: 'U0BOB', ticket: 'tk_group' }));
    await slack.drain();
    expect(fake.callsTo('usergroups.list')).toHaveLength(1);
    expect(fake.callsTo('usergroups.users.list').map((c) => c.params.usergroup)).toEqual([
      'S0ONCALL',
    ]);
    expect(fake.callsTo('usergroups.list')[0]?.params.team_id).toBe(team);
    expect(fake.callsTo('chat.update')).toHaveLength(1);

    // Dave is in another group: refused, from the cache.
    core.tickets.set('tk_group', card('tk_group', ['group:oncall-ingest']));
    await post(clickBody({ user: 'U0DAVE', ticket: 'tk_group' }));
    await slack.drain();
    expect(core.refusals).toEqual(['slack:U0DAVE tk_group']);
    expect(fake.callsTo('usergroups.list')).toHaveLength(1);

    // A minute later, Slack is asked again (Carol was removed from the group meanwhile).
    fake.userGroups.splice(0, 1, { id: 'S0ONCALL', handle: 'oncall-ingest', users: ['U0BOB'] });
    now += 61_000;
    const carol = clickBody({ user: 'U0CAROL', ticket: 'tk_group' });
    await post(carol, undefined, signSlack(signingSecret, carol, Math.floor(now / 1000)));
    await slack.drain();
    expect(fake.callsTo('usergroups.list')).toHaveLength(2);
    expect(core.refusals).toContain('slack:U0CAROL tk_group');
  });

  it('says so when Slack will not list the groups, and asks again on the next click', async () => {
    fake.failNext('usergroups.list', 'missing_scope');
    await post(clickBody({ user: 'U0BOB', ticket: 'tk_group', respondId: 'b1' }));
    await slack.drain();
    expect(fake.callsTo('chat.update')).toEqual([]);
    expect(fake.responses[0]?.body.text).toContain('could not record that decision');

    await post(clickBody({ user: 'U0BOB', ticket: 'tk_group', respondId: 'b2' }));
    await slack.drain();
    expect(fake.callsTo('usergroups.list')).toHaveLength(2);
    expect(fake.callsTo('chat.update')).toHaveLength(1);
  });

  it('refuses a click from a workspace that no tenant claims', async () => {
    await post(clickBody({ user: 'U0ALICE', ticket: 'tk_direct', teamId: 'T0OTHER' }));
    await slack.drain();
    expect(core.decisions).toEqual([]);
    expect(fake.callsTo('chat.update')).toEqual([]);
    expect(fake.responses[0]?.body.text).toContain('not connected to a Warden tenant');
  });
});

describe('POST /slack/events: request authenticity', () => {
  const unauthenticated = {
    error: {
      code: 'unauthenticated',
      message: 'The request is not signed by Slack, or its signature has expired.',
    },
  };

  it.each([
    [
      'a bad signature',
      (b: string) => ({
        ...signSlack(signingSecret, b, nowSeconds()),
        'x-slack-signature': `v0=${'0'.repeat(64)}`,
      }),
    ],
    ['another secret', (b: string) => signSlack('not-the-secret', b, nowSeconds())],
    ['a 301-second-old timestamp', (b: string) => signSlack(signingSecret, b, nowSeconds() - 301)],
    ['a timestamp an hour ahead', (b: string) => signSlack(signingSecret, b, nowSeconds() + 3600)],
    ['no signature header', () => ({ 'x-slack-request-timestamp': String(nowSeconds()) })],
    [
      'no timestamp header',
      (b: string) => ({
        'x-slack-signature': signSlack(signingSecret, b, nowSeconds())['x-slack-signature'],
      }),
    ],
  ])('answers 401 to %s and runs nothing', async (_name, headersFor) => {
    const body = commandBody('list');
    const res = await post(body, 'application/x-www-form-urlencoded', headersFor(body));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(unauthenticated);
    const click = clickBody({ user: 'U0ALICE', ticket: 'tk_direct' });
    const clicked = await post(click, 'application/x-www-form-urlencoded', headersFor(click));
    expect(clicked.status).toBe(401);
    await slack.drain();
    expect(core.commands).toEqual([]);
    expect(core.decisions).toEqual([]);
  });

  it('refuses a signed body that was altered on the way', async () => {
    const body = commandBody('list');
    const headers = signSlack(signingSecret, body, nowSeconds());
    const res = await post(body.replace('U0ALICE', 'U0MALLORY'), undefined, headers);
    expect(res.status).toBe(401);
  });

  it("verifies Slack's documented example with the clock at its timestamp", async () => {
    const example = {
      secret: '8f742231b10e8888abcd99yyyzzz85a5',
      ts: '1531420618',
      body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
      signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    };
    const headers = {
      'x-slack-signature': example.signature,
      'x-slack-request-timestamp': example.ts,
    };
    const at = (nowMs: number) =>
      createSlackApp({
        signingSecret: example.secret,
        botToken: fake.token,
        apiUrl: fake.apiUrl,
        core,
        logger: logger(),
        now: () => nowMs,
      }).app.request('/slack/events', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: example.body,
      });
    // Authentic: past the signature check to routing (Warden has no /webhook-collect command).
    const then = await at(Number(example.ts) * 1000);
    expect(then.status).toBe(404);
    expect(await then.json()).toMatchObject({ error: { code: 'not_found' } });
    // The same request today is a replay.
    expect((await at(Date.now())).status).toBe(401);
  });

  it('echoes the challenge of a signed url_verification', async () => {
    const body = JSON.stringify({
      token: 'legacy',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    const res = await post(body, 'application/json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    });
    const unsigned = await post(body, 'application/json', {});
    expect(unsigned.status).toBe(401);
  });

  it('answers ssl_check without a signature and without running anything', async () => {
    const res = await post(
      'ssl_check=1&token=legacy&command=%2Fplaybook&text=list&team_id=T0ACME',
      undefined,
      {},
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    await slack.drain();
    expect(core.commands).toEqual([]);
  });

  it('answers malformed, oversized and non-Slack bodies in the error shape', async () => {
    const broken = await post('payload=%7Bnot-json', undefined);
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: { code: 'bad_request' } });

    const xml = await post('<xml/>', 'text/xml');
    expect(xml.status).toBe(415);
    expect(await xml.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });

    const huge = `text=${'a'.repeat(1024 * 1024)}`;
    const tooLarge = await post(huge);
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('takes a form content type with a charset parameter', async () => {
    const res = await post(commandBody('list'), 'application/x-www-form-urlencoded; charset=utf-8');
    expect(res.status).toBe(200);
    expect(core.commands).toHaveLength(1);
  });

  it('acks a signed Events API callback with an empty 200', async () => {
    const body = JSON.stringify({
      type: 'event_callback',
      team_id: team,
      api_app_id: 'A0WARDEN',
      event: {
        type: 'app_home_opened',
        user: 'U0ALICE',
        channel: 'D0ALICE',
        tab: 'home',
        event_ts: '1700000000.1',
      },
      event_id: 'Ev0001',
      event_time: 1700000000,
      authorizations: [{ team_id: team, user_id: 'U_WARDEN', is_bot: true, enterprise_id: null }],
    });
    const res = await post(body, 'application/json');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('Slack ChatChannel', () => {
  it('threads a run: summary, approval card as a reply, receipts, card and summary updated in place', async () => {
    const { channel } = slack;
    const thread = await channel.postRunSummary({ platform: 'slack', channel: channelId }, run());
    expect(thread).toEqual({
      platform: 'slack',
      channel: channelId,
      id: expect.stringMatching(/^\d+\.\d+$/),
    });
    const ref = await channel.postApproval(thread, card('tk_direct', ['slack:U0ALICE']));
    await channel.postReceipt(thread, {
      kind: 'step',
      id: 'rc_1',
      seq: 3,
      digest: 'sha256:ff',
      summary: 'step restart succeeded in 120 ms',
    });
    await channel.updateApproval(ref, {
      ...card('tk_direct', []),
      status: 'expired',
      decided: { actor: null, decision: 'expired', at: '2030-01-01T00:30:00Z' },
    });
    await channel.updateRunSummary(thread, { ...run(), status: 'succeeded' });
    await channel.postNotice(thread, { title: 'Run finished', lines: [], tone: 'success' });
    await channel.postNotice(
      { platform: 'slack', channel: channelId },
      { title: 'Kill switch off', lines: [], tone: 'info' },
    );
    const report = await channel.postReportLink(
      { platform: 'slack', channel: channelId },
      {
        tenant: 'acme',
        week: '2030-W01',
        url: '/r/tok',
        expiresAt: '2030-01-08T00:00:00Z',
        receiptId: 'rc_9',
      },
    );
    expect(report.id).not.toBe(thread.id);

    const calls = fake.calls.map((c) => [c.method, c.params.thread_ts ?? c.params.ts ?? null]);
    expect(calls).toEqual([
      ['chat.postMessage', null],
      ['chat.postMessage', thread.id],
      ['chat.postMessage', thread.id],
      ['chat.update', ref.id],
      ['chat.update', thread.id],
      ['chat.postMessage', thread.id],
      ['chat.postMessage', null],
      ['chat.postMessage', null],
    ]);
    expect(hasButtons(fake.calls[1]?.params.blocks)).toBe(true);
    expect(hasButtons(fake.calls[3]?.params.blocks)).toBe(false);
    expect(JSON.stringify(fake.calls.at(-1)?.params)).toContain('https://warden.example.com/r/tok');
    for (const c of fake.calls) {
      expect(c.headers.authorization).toBe(`Bearer ${fake.token}`);
      // What afterEach runs checkBlockKit over: real blocks, parsed back from Slack's wire format.
      expect(Array.isArray(c.params.blocks) && c.params.blocks.length > 0).toBe(true);
    }
  });

  it("turns Slack's refusal into a retryable internal error that names no secret", async () => {
    fake.failNext('chat.postMessage', 'channel_not_found');
    const err = await slack.channel
      .postRunSummary({ platform: 'slack', channel: 'C0GONE' }, run())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WardenError);
    expect(err).toMatchObject({
      code: 'internal',
      retryable: true,
      message: 'Slack chat.postMessage failed: channel_not_found.',
    });
    const seen = JSON.stringify(err, Object.getOwnPropertyNames(err));
    expect(seen).not.toContain(fake.token);

    const badToken = createSlackApp({
      signingSecret,
      botToken: 'xoxb-wrong',
      apiUrl: fake.apiUrl,
      core,
      logger: logger(),
    });
    await expect(
      badToken.channel.postNotice(
        { platform: 'slack', channel: channelId },
        { title: 'x', lines: [], tone: 'info' },
      ),
    ).rejects.toMatchObject({
      code: 'internal',
      retryable: true,
      message: expect.stringContaining('invalid_auth'),
    });
  });
});
