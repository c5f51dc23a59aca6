/**
 * Teams, end to end: a trigger's blocked step becomes an approval card in the run's thread (a fake
 * Bot Framework connector records what Warden sends); Action.Execute invokes posted to
 * `POST /teams/messages` decide it — a non-approver, a user of another tenant's Teams tenant, the
 * initiator under dual control, a replayed invoke and a click after expiry are refused (each
 * receipted, told to the clicker in the invoke response); an approver through a configured group
 * approves, the step executes, the card is updated in place and the receipts are replies in the
 * thread. Command messages answer with cards.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  type FakeBotConnector,
  type RecordedActivity,
  startFakeBotConnector,
} from '../fakes/bot-connector.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { checkTeamsCard, validateAdaptiveCard } from '../helpers/chat-checks.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';

const acmeTenant = 'tenant-acme';
const globexTenant = 'tenant-globex';
const opsChannel = '19:ops@thread.tacv2';
const globexChannel = '19:glx@thread.tacv2';

const playbook = (name: string, spec: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${name} } }
${spec}
  steps:
    - { id: act, uses: probe.destroy, with: { label: "${name}", targets: [db-1] } }
`;

/** The invoke response of an `adaptiveCard/action`, as Teams reads it. */
interface InvokeAnswer {
  statusCode: number;
  type: string;
  value: unknown;
}

/** The Adaptive Card an activity carries (or undefined). */
const contentOf = (a: RecordedActivity | undefined): unknown =>
  (a?.activity.attachments as Array<{ content?: unknown }> | undefined)?.[0]?.content;
const textOf = (a: RecordedActivity | undefined) => JSON.stringify(contentOf(a) ?? null);
/** A card's fallbackText: `Receipt #12 step.executed: …` for a receipt. */
const fallbackOf = (a: RecordedActivity) =>
  String((contentOf(a) as { fallbackText?: unknown } | undefined)?.fallbackText ?? '');

describeEngines('chat: Teams end to end', ({ db }) => {
  const probe = createProbe();
  let connector: FakeBotConnector;
  let g: Awaited<ReturnType<typeof startGuarded>>;
  let sequence = 0;

  beforeAll(async () => {
    connector = await startFakeBotConnector();
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      chat: { teams: {} },
      tenants: [
        {
          id: 'acme',
          chat: {
            teams: {
              tenantId: acmeTenant,
              serviceUrl: connector.serviceUrl,
              conversationId: opsChannel,
              groups: { oncall: ['aad-bob'] },
            },
            operators: ['teams:aad-ops'],
          },
          playbooks: {
            destroy: playbook(
              'destroy',
              '  approval: { approvers: [teams:aad-alice, group:oncall], expiresIn: 30m }',
            ),
            dual: playbook(
              'dual',
              '  environment: production\n  approval: { approvers: [teams:aad-alice, teams:aad-ops, group:oncall] }',
            ),
            hurry: playbook('hurry', '  approval: { approvers: [teams:aad-alice], expiresIn: 1s }'),
          },
        },
        {
          id: 'globex',
          chat: {
            teams: {
              tenantId: globexTenant,
              serviceUrl: connector.serviceUrl,
              conversationId: globexChannel,
              groups: {},
            },
          },
          playbooks: { theirs: playbook('theirs', '  approval: { approvers: [teams:aad-alice] }') },
        },
      ],
    });
  });

  afterAll(async () => {
    await g?.close();
    await connector?.close();
  });

  let cardsChecked = 0;
  afterEach(async () => {
    await g.idle();
    const cards = connector.cards();
    expect(cards.length).toBeGreaterThan(cardsChecked);
    for (const card of cards.slice(cardsChecked)) {
      expect(validateAdaptiveCard(card)).toEqual([]);
      expect(checkTeamsCard(card)).toEqual([]);
    }
    cardsChecked = cards.length;
  });

  /** An activity from `aad` in `tenant`, as Teams posts it to the bot. */
  function activity(
    aad: string,
    conversationId: string,
    over: Record<string, unknown> = {},
    tenant = acmeTenant,
  ) {
    return {
      type: 'message',
      id: String(1_699_000_000_000 + ++sequence),
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: connector.serviceUrl,
      from: { id: `29:1${aad}`, aadObjectId: aad, name: aad },
      conversation: {
        id: conversationId,
        conversationType: 'channel',
        isGroup: true,
        tenantId: tenant,
      },
      recipient: { id: '28:warden-bot', name: 'Warden' },
      channelData: { tenant: { id: tenant }, channel: { id: opsChannel } },
      ...over,
    };
  }

  async function post(body: unknown) {
    return g.app.request('/teams/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** Posts a body; expects an invoke response and returns it. */
  async function invoke(body: unknown): Promise<InvokeAnswer> {
    const res = await post(body);
    expect(res.status).toBe(200);
    return (await res.json()) as InvokeAnswer;
  }

  /** An Action.Execute click on a card, as Teams sends it. */
  const click = (
    aad: string,
    card: { conversationId: string; id: string; ticket: string },
    verb: 'approve' | 'reject' = 'approve',
    tenant = acmeTenant,
  ) =>
    activity(
      aad,
      card.conversationId,
      {
        type: 'invoke',
        name: 'adaptiveCard/action',
        replyToId: card.id,
        value: {
          action: { type: 'Action.Execute', verb, data: { ticket: card.ticket } },
          trigger: 'manual',
        },
      },
      tenant,
    );

  /** A message to the bot in the ops channel; the connector activities it caused. */
  async function say(aad: string, text: string) {
    const from = connector.activities.length;
    const message = activity(aad, opsChannel, { text: `<at>Warden</at> ${text}` });
    const res = await post(message);
    expect(res.status).toBe(200);
    const replies = connector.activities.slice(from);
    for (const r of replies) {
      expect(r).toMatchObject({
        call: 'reply',
        conversationId: opsChannel,
        activityId: message.id,
      });
    }
    return replies;
  }

  /** The run's thread root, its approval card and the ticket, found among the connector's posts. */
  async function cardOf(runId: string) {
    const { body } = await g.api('acme', 'read', 'GET', `/approvals?run=${runId}`);
    const ticket = (body.approvals[0] as { id: string }).id;
    const root = connector.activities.find(
      (a) => a.call === 'send' && a.conversationId === opsChannel && textOf(a).includes(runId),
    );
    expect(root, 'the run summary was posted').toBeDefined();
    const conversationId = `${opsChannel};messageid=${root?.id}`;
    const posted = connector.activities.find(
      (a) => a.call === 'send' && a.conversationId === conversationId && textOf(a).includes(ticket),
    );
    expect(posted, 'the approval card was posted in the thread').toBeDefined();
    return { ticket, root: root?.id as string, conversationId, id: posted?.id as string };
  }

  const updatesOf = (card: { conversationId: string; id: string }) =>
    connector.activities.filter(
      (a) =>
        a.call === 'update' && a.conversationId === card.conversationId && a.activityId === card.id,
    );

  it('posts the run thread and the card, refuses the wrong clickers, and lets a group member approve', async () => {
    const [run] = await g.fire('acme', { alertname: 'destroy', n: '1' });
    await g.idle();
    const card = await cardOf(run as string);
    const posted = connector.activities.find((a) => a.id === card.id);
    expect(posted).toMatchObject({ method: 'POST', prefix: '/amer', authorization: undefined });
    const pending = textOf(posted);
    expect(pending).toContain('"type":"Action.Execute"');
    expect(pending).toContain('"verb":"approve"');
    expect(pending).toContain('"verb":"reject"');
    expect(pending).toContain(`"data":{"ticket":"${card.ticket}"}`);

    const refusedBefore = (await g.receipts('acme', 'approval.refused')).length;
    // Not an approver.
    const mallory = await invoke(click('aad-mallory', card));
    expect(mallory).toEqual({
      statusCode: 200,
      type: 'application/vnd.microsoft.activity.message',
      value: expect.stringMatching(/^Not allowed: teams:aad-mallory is not an approver/),
    });
    // A user of another tenant's Teams tenant (an approver of globex's playbooks).
    const stranger = await invoke(click('aad-alice', card, 'approve', globexTenant));
    expect(stranger).toMatchObject({
      type: 'application/vnd.microsoft.activity.message',
      value: expect.stringMatching(/^Not allowed: No approval with id/),
    });
    await g.idle();
    expect(probe.calls.filter((c) => c.label === 'destroy')).toHaveLength(0);
    const refused = (await g.receipts('acme', 'approval.refused')).slice(refusedBefore);
    expect(refused.map((r) => [r.actor, r.reason])).toEqual([
      ['teams:aad-mallory', 'not_an_approver'],
    ]);
    expect((await g.receipts('globex', 'approval.refused')).at(-1)).toMatchObject({
      actor: 'teams:aad-alice',
      reason: 'unknown_ticket',
    });
    expect(updatesOf(card)).toHaveLength(0);
    expect((await g.run('acme', run as string)).status).toBe('awaiting_approval');

    // Bob is an approver through the configured group `oncall`.
    const approve = click('aad-bob', card);
    const decided = await invoke(approve);
    expect(decided).toMatchObject({
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: { type: 'AdaptiveCard' },
    });
    expect(validateAdaptiveCard(decided.value)).toEqual([]);
    expect(checkTeamsCard(decided.value)).toEqual([]);
    expect(JSON.stringify(decided.value)).not.toContain('Action.');
    expect(JSON.stringify(decided.value)).toContain('teams:aad-bob');
    await g.idle();
    expect((await g.run('acme', run as string)).status).toBe('succeeded');
    expect(probe.calls.filter((c) => c.label === 'destroy')).toHaveLength(1);
    const updates = updatesOf(card);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.at(-1)).toMatchObject({ method: 'PUT', activity: { id: card.id } });
    const updated = textOf(updates.at(-1));
    expect(updated).not.toContain('Action.Execute');
    expect(updated).toContain('teams:aad-bob');
    // The summary at the root is updated when the run ends.
    const summaryUpdates = connector.activities.filter(
      (a) => a.call === 'update' && a.conversationId === opsChannel && a.activityId === card.root,
    );
    expect(textOf(summaryUpdates.at(-1))).toMatch(/Succeeded|succeeded/);

    // A replayed invoke (the identical activity) changes nothing.
    const replay = await invoke(approve);
    expect(replay).toMatchObject({
      type: 'application/vnd.microsoft.activity.message',
      value: expect.stringMatching(/^Not allowed: .*already approved/),
    });
    await g.idle();
    expect(probe.calls.filter((c) => c.label === 'destroy')).toHaveLength(1);
    expect((await g.receipts('acme', 'approval.refused')).at(-1)).toMatchObject({
      actor: 'teams:aad-bob',
      reason: 'already_decided',
    });

    // Receipts are replies in the run's thread, in chain order.
    const receipts = connector.activities
      .filter((a) => a.call === 'send' && a.conversationId === card.conversationId)
      .map((a) => /^Receipt #(\d+) ([\w.]+):/.exec(fallbackOf(a)))
      .flatMap((m) => (m ? [{ seq: Number(m[1]), kind: m[2] }] : []));
    expect(receipts.map((r) => r.kind)).toEqual([
      'run.simulated',
      'approval.requested',
      'approval.refused',
      'approval.decided',
      'step.executed',
      'run.finished',
      'approval.refused',
    ]);
    const seqs = receipts.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // Nothing of acme's went to globex's conversation.
    expect(connector.activities.some((a) => a.conversationId.startsWith(globexChannel))).toBe(
      false,
    );
  });

  it('refuses the initiator of a dual-control run and a click after expiry', async () => {
    const [started] = await say('aad-ops', 'run dual n=ops');
    expect(textOf(started)).toContain('Started dual');
    await g.idle();
    const runs = (await g.api('acme', 'read', 'GET', '/runs?playbook=dual')).body.runs as Array<{
      id: string;
    }>;
    const run = runs[0]?.id as string;
    expect(textOf(started)).toContain(run);
    const card = await cardOf(run);
    const self = await invoke(click('aad-ops', card));
    expect(self).toMatchObject({
      type: 'application/vnd.microsoft.activity.message',
      value: expect.stringMatching(/^Not allowed: teams:aad-ops started this run/),
    });
    await g.idle();
    expect((await g.receipts('acme', 'approval.refused')).at(-1)).toMatchObject({
      actor: 'teams:aad-ops',
      reason: 'self_approval',
    });
    expect((await g.run('acme', run)).status).toBe('awaiting_approval');
    expect(updatesOf(card)).toHaveLength(0);

    const [late] = await g.fire('acme', { alertname: 'hurry', n: '1' });
    await g.idle();
    const lateCard = await cardOf(late as string);
    await new Promise((r) => setTimeout(r, 1_100));
    const expired = await invoke(click('aad-alice', lateCard));
    expect(expired).toMatchObject({
      type: 'application/vnd.microsoft.activity.message',
      value: expect.stringMatching(/^Not allowed: .*expired/),
    });
    await g.idle();
    expect((await g.receipts('acme', 'approval.refused')).at(-1)).toMatchObject({
      actor: 'teams:aad-alice',
      reason: 'expired',
    });
    expect((await g.run('acme', late as string)).status).toBe('cancelled');
    expect(probe.calls.filter((c) => c.label === 'hurry')).toHaveLength(0);
    // The card says so in place, without buttons.
    const updated = textOf(updatesOf(lateCard).at(-1));
    expect(updated).toContain('expired');
    expect(updated).not.toContain('Action.Execute');
  });

  it('answers simulate with the plan and decisions, touching nothing', async () => {
    const before = probe.calls.length;
    const [answer, ...more] = await say('aad-alice', 'playbook simulate destroy n=7');
    expect(more).toEqual([]);
    expect(textOf(answer)).toContain('Simulation: destroy');
    expect(textOf(answer)).toContain('policy:destructive-needs-approval');
    expect(probe.calls.length).toBe(before);
    const [refused] = await say('aad-alice', 'kill on');
    expect(textOf(refused)).toMatch(/only the tenant's chat.operators/);
  });
});
