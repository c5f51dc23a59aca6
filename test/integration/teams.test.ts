/**
 * The Teams adapter end to end over real botbuilder: activities posted to `POST /teams/messages`,
 * answers sent over HTTP to a fake Bot Framework connector at the activity's serviceUrl, and the
 * proactive ChatChannel. The ChatCore here is a small in-memory stand-in for the real one.
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCore, CommandAnswer } from '../../src/chat/core-port.js';
import type { ChatIdentity, MessageRef } from '../../src/chat/port.js';
import { createTeamsApp, type TeamsApp } from '../../src/chat/teams/teams-app.js';
import type { ApprovalCardView, RunSummaryView, SimulationView } from '../../src/chat/views.js';
import { WardenError } from '../../src/errors.js';
import { type FakeBotConnector, startFakeBotConnector } from '../fakes/bot-connector.js';
import { checkTeamsCard, validateAdaptiveCard } from '../helpers/chat-checks.js';

const aadTenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const channelId = '19:0a1b2c3d4e5f@thread.tacv2';
const logger = pino({ level: 'silent' });

function approvalView(ticketId: string, approvers: string[]): ApprovalCardView {
  return {
    ticketId,
    tenant: 'acme',
    playbook: 'restart-ingest',
    runId: 'run_01',
    stepId: 'restart',
    uses: 'http.request',
    summary: 'POST https://ingest.internal/admin/restart (shard 7)',
    targets: ['ingest-7'],
    inputDigest: 'sha256:5f2b',
    outcome: 'approval_required',
    reasons: [{ code: 'policy_requires_approval', text: 'Production restarts need an approver.' }],
    nextSteps: ['Check the receipt lag dashboard first.'],
    evidence: [{ label: 'Alert', url: 'https://alertmanager.example/#/alerts' }],
    rollback: 'http.request POST https://ingest.internal/admin/undo',
    approvers,
    minApprovals: 1,
    approvals: [],
    expiresAt: '2030-01-01T00:30:00Z',
    status: 'pending',
  };
}

const runView: RunSummaryView = {
  runId: 'run_01',
  tenant: 'acme',
  playbook: 'restart-ingest',
  version: 3,
  status: 'awaiting_approval',
  trigger: 'alertmanager: ReceiptLag (shard=7) firing',
  steps: [{ id: 'restart', uses: 'http.request', status: 'awaiting_approval' }],
  startedAt: '2030-01-01T00:00:00Z',
  links: [{ label: 'Run', url: '/api/v1/runs/run_01' }],
};

const simulationView: SimulationView = {
  tenant: 'acme',
  playbook: 'restart-ingest',
  version: 3,
  outcome: 'needs_approval',
  wouldTrigger: true,
  steps: [
    {
      id: 'restart',
      uses: 'http.request',
      summary: 'POST https://ingest.internal/admin/restart',
      targets: ['ingest-7'],
      cost: 1,
      risk: 'reversible',
      decision: 'approval_required',
      reasons: ['Production restarts need an approver.'],
      budgets: 'actionsPerHour 1/6, blastRadius 1/3',
    },
  ],
  receiptId: 'rcpt_sim_1',
};

/** The port, in memory: tickets with approvers (and groups), commands recorded. */
function createMemoryCore() {
  const tickets = new Map<string, ApprovalCardView>();
  const commands: Array<{ tenant: string; identity: ChatIdentity; text: string }> = [];
  const refusals: Array<{ ticket: string; actor: string }> = [];
  const core: ChatCore = {
    tenantFor: (platform, workspace) =>
      platform === 'teams' && workspace === aadTenant ? 'acme' : undefined,
    async decide(tenant, ticketId, decision, identity, groupsOf) {
      const ticket = tickets.get(ticketId);
      if (!ticket || ticket.tenant !== tenant) {
        throw new WardenError('not_found', `No approval ${ticketId} in this tenant.`);
      }
      if (ticket.status !== 'pending') {
        throw new WardenError('conflict', 'This approval was already decided.');
      }
      const groups = await groupsOf(ticket.approvers.filter((a) => a.startsWith('group:')));
      if (!ticket.approvers.includes(identity.actor) && groups.length === 0) {
        refusals.push({ ticket: ticketId, actor: identity.actor });
        throw new WardenError('forbidden', `${identity.actor} is not an approver of this step.`);
      }
      const at = '2030-01-01T00:05:00Z';
      const next: ApprovalCardView = {
        ...ticket,
        status: decision === 'approve' ? 'approved' : 'rejected',
        approvals: decision === 'approve' ? [{ actor: identity.actor, at }] : [],
        decided: { actor: identity.actor, decision, at },
      };
      tickets.set(ticketId, next);
      return next;
    },
    async command(tenant, identity, text): Promise<CommandAnswer> {
      commands.push({ tenant, identity, text });
      const [verb] = text.split(' ');
      if (verb === 'simulate') {
        return { visibility: 'ephemeral', kind: 'simulation', view: simulationView };
      }
      if (verb === 'status') return { visibility: 'in_channel', kind: 'run', view: runView };
      if (verb === 'approvals') {
        const pending = [...tickets.values()].filter((t) => t.status === 'pending');
        return { visibility: 'ephemeral', kind: 'approvals', view: pending };
      }
      if (verb === 'kill')
        throw new WardenError('forbidden', 'Only operators may use the kill switch.');
      const view = { title: 'Playbooks', lines: ['restart-ingest v3'], tone: 'info' as const };
      return { visibility: 'ephemeral', kind: 'notice', view };
    },
  };
  return { core, tickets, commands, refusals };
}

let connector: FakeBotConnector;
let memory: ReturnType<typeof createMemoryCore>;
let teams: TeamsApp;
let sequence = 0;

/** A channel activity from Alice (or whoever `over` says), as Teams posts it. */
function activity(over: Record<string, unknown> = {}) {
  return {
    type: 'message',
    id: String(1_699_000_000_000 + ++sequence),
    timestamp: '2030-01-01T00:00:00.000Z',
    channelId: 'msteams',
    serviceUrl: connector.serviceUrl,
    from: { id: '29:1alice', aadObjectId: 'aad-alice', name: 'Alice' },
    conversation: {
      id: `${channelId};messageid=1699000000000`,
      conversationType: 'channel',
      isGroup: true,
      tenantId: aadTenant,
    },
    recipient: { id: '28:warden-bot', name: 'Warden' },
    channelData: { tenant: { id: aadTenant }, channel: { id: channelId } },
    ...over,
  };
}

function execute(verb: string, ticket: string, over: Record<string, unknown> = {}) {
  return activity({
    type: 'invoke',
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', verb, data: { ticket } }, trigger: 'manual' },
    ...over,
  });
}

function post(app: TeamsApp, body: unknown, headers: Record<string, string> = {}) {
  return app.app.request('/teams/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** The connector's activities since `from`, without the bookkeeping. */
const since = (from: number) => connector.activities.slice(from);

const cardOf = (a: { activity: Record<string, unknown> }) =>
  (a.activity.attachments as Array<{ contentType: string; content: Record<string, unknown> }>)[0];

beforeAll(async () => {
  connector = await startFakeBotConnector();
});

afterAll(async () => {
  await connector.close();
});

let cardsBefore = 0;
afterEach(async () => {
  await teams.drain();
  for (const card of connector.cards().slice(cardsBefore)) {
    expect(validateAdaptiveCard(card)).toEqual([]);
    expect(checkTeamsCard(card)).toEqual([]);
  }
  cardsBefore = connector.cards().length;
});

describe('Teams adapter (anonymous, no app id)', () => {
  beforeAll(() => {
    memory = createMemoryCore();
    teams = createTeamsApp({
      core: memory.core,
      logger,
      groups: (tenant): Record<string, string[]> =>
        tenant === 'acme' ? { 'oncall-ingest': ['aad-carol'] } : {},
      baseUrl: 'https://warden.example.com',
    });
  });

  it('answers a command with a card reply at the activity serviceUrl', async () => {
    const from = connector.activities.length;
    const message = activity({ text: '<at>Warden</at> playbook simulate restart-ingest shard=7' });
    const res = await post(teams, message);
    expect(res.status).toBe(200);
    expect(memory.commands.at(-1)).toMatchObject({
      tenant: 'acme',
      text: 'simulate restart-ingest shard=7',
      identity: { actor: 'teams:aad-alice', workspace: aadTenant, name: 'Alice' },
    });
    const [reply, ...more] = since(from);
    expect(more).toEqual([]);
    expect(reply).toMatchObject({
      call: 'reply',
      prefix: '/amer',
      conversationId: message.conversation.id,
      activityId: message.id,
      authorization: undefined,
    });
    expect(cardOf(reply as never)).toMatchObject({
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: { type: 'AdaptiveCard' },
    });
  });

  it('shows a refused command as an error card', async () => {
    const from = connector.activities.length;
    await post(teams, activity({ text: 'kill on' }));
    const [reply] = since(from);
    expect(JSON.stringify(cardOf(reply as never)?.content)).toContain(
      'Only operators may use the kill switch.',
    );
  });

  it('replaces the card in the invoke response when Action.Execute approves', async () => {
    memory.tickets.set('t-approve', approvalView('t-approve', ['teams:aad-alice']));
    const from = connector.activities.length;
    const res = await post(teams, execute('approve', 't-approve'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { statusCode: number; type: string; value: object };
    expect(body).toMatchObject({
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: { type: 'AdaptiveCard' },
    });
    expect(validateAdaptiveCard(body.value)).toEqual([]);
    expect(JSON.stringify(body.value)).not.toContain('"verb":"approve"');
    expect(memory.tickets.get('t-approve')?.decided).toMatchObject({ actor: 'teams:aad-alice' });
    expect(since(from)).toEqual([]);
  });

  it('answers a refusal with a message and leaves the card as it was', async () => {
    memory.tickets.set('t-bob', approvalView('t-bob', ['teams:aad-bob']));
    const res = await post(teams, execute('approve', 't-bob'));
    expect(await res.json()).toEqual({
      statusCode: 200,
      type: 'application/vnd.microsoft.activity.message',
      value: 'Not allowed: teams:aad-alice is not an approver of this step.',
    });
    expect(memory.refusals).toContainEqual({ ticket: 't-bob', actor: 'teams:aad-alice' });
    expect(memory.tickets.get('t-bob')?.status).toBe('pending');
  });

  it('resolves group: approvers through the configured groups', async () => {
    memory.tickets.set('t-group', approvalView('t-group', ['group:oncall-ingest']));
    const dave = { id: '29:1dave', aadObjectId: 'aad-dave', name: 'Dave' };
    const refused = await post(teams, execute('reject', 't-group', { from: dave }));
    expect(await refused.json()).toMatchObject({ value: expect.stringMatching(/^Not allowed/) });

    const carol = { id: '29:1carol', aadObjectId: 'aad-carol', name: 'Carol' };
    const res = await post(teams, execute('reject', 't-group', { from: carol }));
    expect(await res.json()).toMatchObject({ type: 'application/vnd.microsoft.card.adaptive' });
    expect(memory.tickets.get('t-group')).toMatchObject({
      status: 'rejected',
      decided: { actor: 'teams:aad-carol', decision: 'reject' },
    });
  });

  it('does not resolve a group name that only exists on Object.prototype', async () => {
    memory.tickets.set('t-proto', approvalView('t-proto', ['group:constructor']));
    const res = await post(teams, execute('approve', 't-proto'));
    expect(await res.json()).toMatchObject({ type: 'application/vnd.microsoft.activity.message' });
  });

  it('updates the card with PUT when the Action.Submit fallback approves', async () => {
    memory.tickets.set('t-submit', approvalView('t-submit', ['teams:aad-alice']));
    const from = connector.activities.length;
    const click = activity({
      replyToId: '1699000000777',
      value: { warden: 'approval', verb: 'approve', ticket: 't-submit' },
    });
    expect((await post(teams, click)).status).toBe(200);
    const [update, ...more] = since(from);
    expect(more).toEqual([]);
    expect(update).toMatchObject({
      call: 'update',
      method: 'PUT',
      conversationId: click.conversation.id,
      activityId: '1699000000777',
    });
    expect(update?.activity).toMatchObject({ id: '1699000000777', type: 'message' });
    expect(memory.tickets.get('t-submit')?.status).toBe('approved');
  });

  it('replies with the refusal when an Action.Submit click is not allowed', async () => {
    memory.tickets.set('t-submit-bob', approvalView('t-submit-bob', ['teams:aad-bob']));
    const from = connector.activities.length;
    const click = activity({
      replyToId: '1699000000778',
      value: { warden: 'approval', verb: 'approve', ticket: 't-submit-bob' },
    });
    await post(teams, click);
    const [reply] = since(from);
    expect(reply).toMatchObject({ call: 'reply', activityId: click.id });
    expect(reply?.activity.text).toBe(
      'Not allowed: teams:aad-alice is not an approver of this step.',
    );
  });

  it('refuses a caller without an AAD object id before asking the core', async () => {
    const commands = memory.commands.length;
    const from = connector.activities.length;
    const guest = { id: '29:1guest', name: 'Alice' };
    await post(teams, activity({ from: guest, text: 'list' }));
    expect(memory.commands.length).toBe(commands);
    const [reply] = since(from);
    expect(JSON.stringify(cardOf(reply as never)?.content)).toContain('Not allowed');

    memory.tickets.set('t-guest', approvalView('t-guest', ['teams:aad-alice']));
    const res = await post(teams, execute('approve', 't-guest', { from: guest }));
    expect(await res.json()).toMatchObject({ value: expect.stringMatching(/^Not allowed/) });
    expect(memory.tickets.get('t-guest')?.status).toBe('pending');
  });

  it('refuses a Teams tenant that no Warden tenant claims', async () => {
    const commands = memory.commands.length;
    const stranger = { conversation: { id: channelId, tenantId: 'another-tenant' } };
    const from = connector.activities.length;
    await post(teams, activity({ ...stranger, channelData: {}, text: 'list' }));
    expect(memory.commands.length).toBe(commands);
    const [reply] = since(from);
    expect(JSON.stringify(cardOf(reply as never)?.content)).toContain('not connected to Warden');
  });

  it('posts a run thread, its approval, the decision and a receipt through the channel', async () => {
    const from = connector.activities.length;
    const to = { platform: 'teams' as const, channel: channelId, serviceUrl: connector.serviceUrl };
    const thread = await teams.channel.postRunSummary(to, runView);
    expect(thread).toMatchObject({
      platform: 'teams',
      channel: channelId,
      serviceUrl: to.serviceUrl,
    });

    const card = await teams.channel.postApproval(
      thread,
      approvalView('t-chan', ['group:oncall-ingest']),
    );
    const threaded = `${channelId};messageid=${thread.id}`;
    expect(card).toMatchObject({ channel: threaded });

    await teams.channel.updateApproval(card, { ...approvalView('t-chan', []), status: 'expired' });
    await teams.channel.postReceipt(thread, {
      kind: 'step',
      id: 'rcpt_1',
      seq: 12,
      digest: 'sha256:9c1d',
      summary: 'step restart succeeded in 120 ms',
    });
    await teams.channel.updateRunSummary(thread, { ...runView, status: 'succeeded' });
    await teams.channel.postNotice(thread, { title: 'Done', lines: [], tone: 'success' });
    await teams.channel.postReportLink(to, {
      tenant: 'acme',
      week: '2030-W01',
      url: 'https://warden.example/r/abc',
      expiresAt: '2030-01-08T00:00:00Z',
      receiptId: 'rcpt_2',
    });

    const calls = since(from).map((a) => [a.call, a.conversationId, a.activityId]);
    expect(calls).toEqual([
      ['send', channelId, undefined],
      ['send', threaded, undefined],
      ['update', threaded, card.id],
      ['send', threaded, undefined],
      ['update', channelId, thread.id],
      ['send', threaded, undefined],
      ['send', channelId, undefined],
    ]);
    expect(since(from).every((a) => a.prefix === '/amer' && a.authorization === undefined)).toBe(
      true,
    );
  });

  it('survives one 503 from the connector (botframework-connector retries it)', async () => {
    const to = { platform: 'teams' as const, channel: channelId, serviceUrl: connector.serviceUrl };
    connector.failNext(503);
    await expect(teams.channel.postRunSummary(to, runView)).resolves.toMatchObject({
      channel: channelId,
    });
  });

  it('reports a refused post as a WardenError that says whether to retry', async () => {
    const to = { platform: 'teams' as const, channel: channelId, serviceUrl: connector.serviceUrl };
    connector.failNext(403);
    const forbidden = await teams.channel.postRunSummary(to, runView).catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ name: 'WardenError', code: 'internal', retryable: false });
    expect((forbidden as Error).message).toContain('HTTP 403');

    const nobody = { ...to, serviceUrl: 'http://127.0.0.1:9/amer/' };
    const down = await teams.channel.postRunSummary(nobody, runView).catch((e: unknown) => e);
    expect(down).toMatchObject({ name: 'WardenError', code: 'internal', retryable: true });
  });

  it('refuses a reference without a serviceUrl', async () => {
    const ref: MessageRef = { platform: 'teams', channel: channelId, id: '1' };
    const receipt = { kind: 'step', id: 'r', seq: 1, digest: 'sha256:00', summary: 'ok' };
    await expect(teams.channel.postReceipt(ref, receipt)).rejects.toMatchObject({
      code: 'invalid',
    });
  });
});

describe('Teams adapter with an app id', () => {
  beforeAll(() => {
    memory = createMemoryCore();
    teams = createTeamsApp({
      appId: '00000000-0000-0000-0000-00000000beef',
      appPassword: 'not-used-offline',
      core: memory.core,
      logger,
      groups: () => ({}),
    });
  });

  it('answers 401 in the error shape without an Authorization header', async () => {
    const res = await post(teams, activity({ text: 'list' }));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    expect(memory.commands).toEqual([]);
  });

  it('answers 401 to a token that is not a JWT', async () => {
    const from = connector.activities.length;
    const res = await post(teams, activity({ text: 'list' }), {
      authorization: 'Bearer not-a-jwt',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    expect(memory.commands).toEqual([]);
    expect(since(from)).toEqual([]);
  });
});
