/**
 * Slack, end to end: a trigger's blocked step becomes an approval card in the run's thread (a fake
 * Slack Web API records what Warden posts); genuinely signed clicks decide it — a non-approver, a
 * user of another tenant's workspace, the initiator under dual control, a replayed click and a
 * click after expiry are refused (each receipted, told only to the clicker); an approver through a
 * Slack user group approves, the step executes, the card is updated in place and the receipts are
 * replies in the thread. Slash commands answer with plans and steer playbooks.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkBlockKit } from '../../src/chat/slack/block-kit-check.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { type FakeSlackApi, signSlack, startFakeSlackApi } from '../fakes/slack-api.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';

const secret = 'slack-signing-secret-for-tests';
const acmeTeam = 'T0ACME';
const globexTeam = 'T0GLOBEX';

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

describeEngines('chat: Slack end to end', ({ db }) => {
  const probe = createProbe();
  let slack: FakeSlackApi;
  let g: Awaited<ReturnType<typeof startGuarded>>;

  beforeAll(async () => {
    slack = await startFakeSlackApi({
      userGroups: [{ id: 'S0ONCALL', handle: 'oncall', users: ['U0BOB'], teamId: acmeTeam }],
    });
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      chat: { slack: { signingSecret: secret, botToken: slack.token, apiUrl: slack.apiUrl } },
      tenants: [
        {
          id: 'acme',
          chat: { slack: { teamId: acmeTeam, channel: 'C0OPS' }, operators: ['slack:U0OPS'] },
          playbooks: {
            destroy: playbook(
              'destroy',
              '  approval: { approvers: [slack:U0ALICE, group:oncall], expiresIn: 30m }',
            ),
            dual: playbook(
              'dual',
              '  environment: production\n  approval: { approvers: [slack:U0ALICE, slack:U0OPS, group:oncall] }',
            ),
            hurry: playbook('hurry', '  approval: { approvers: [slack:U0ALICE], expiresIn: 1s }'),
            unlisted: playbook('unlisted', ''),
            told: `
apiVersion: warden/v1
kind: Playbook
metadata: { name: told }
spec:
  on:
    - alert: { match: { alertname: told } }
  steps:
    - { id: tell, uses: chat.notify, with: { text: "Shard {{ alert.labels.shard }} restarted" } }
`,
          },
        },
        {
          id: 'globex',
          chat: { slack: { teamId: globexTeam, channel: 'C0GLX' } },
          playbooks: { theirs: playbook('theirs', '  approval: { approvers: [slack:U0ALICE] }') },
        },
      ],
    });
  });

  afterAll(async () => {
    await g?.close();
    await slack?.close();
  });

  async function post(body: string, contentType = 'application/x-www-form-urlencoded') {
    const ts = Math.floor(Date.now() / 1000);
    const res = await g.app.request('/slack/events', {
      method: 'POST',
      headers: { 'content-type': contentType, ...signSlack(secret, body, ts) },
      body,
    });
    return { status: res.status, text: await res.text() };
  }

  const command = (text: string, user = 'U0OPS', team = acmeTeam) =>
    post(
      new URLSearchParams({
        team_id: team,
        team_domain: 'acme',
        channel_id: 'C0OPS',
        user_id: user,
        user_name: user.toLowerCase(),
        command: '/playbook',
        text,
        api_app_id: 'A0WARDEN',
        response_url: slack.responseUrl(`cmd-${user}`),
        trigger_id: '1.2.3',
      }).toString(),
    );

  function clickBody(
    user: string,
    team: string,
    ticket: string,
    card: { channel: string; ts: string },
    action = 'warden_approve',
  ) {
    const payload = {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), team_id: team },
      api_app_id: 'A0WARDEN',
      container: { type: 'message', message_ts: card.ts, channel_id: card.channel },
      team: { id: team, domain: 'x' },
      channel: { id: card.channel, name: 'ops' },
      message: { type: 'message', ts: card.ts, text: 'needs approval' },
      response_url: slack.responseUrl(`click-${user}`),
      trigger_id: '4.5.6',
      actions: [
        {
          type: 'button',
          block_id: 'warden_ticket',
          action_id: action,
          value: JSON.stringify({ ticket }),
          action_ts: String(Date.now() / 1000),
        },
      ],
    };
    return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  }

  /** The card posted for a run's ticket: its thread, its message, and the ticket id. */
  async function cardOf(runId: string) {
    const { body } = await g.api('acme', 'read', 'GET', `/approvals?run=${runId}`);
    const ticket = body.approvals[0] as { id: string };
    const posted = slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.params.blocks ?? []).includes(ticket.id));
    expect(posted, 'the approval card was posted').toBeDefined();
    const thread = String(posted?.params.thread_ts);
    const index = slack.calls.indexOf(posted as never);
    return {
      ticket: ticket.id,
      thread,
      channel: 'C0OPS',
      ts: `${posted?.params.thread_ts}-card`,
      index,
    };
  }

  it('posts the run thread and the card, refuses the wrong clickers, and lets a group member approve', async () => {
    const [run] = await g.fire('acme', { alertname: 'destroy', n: '1' });
    await g.idle();
    const summary = slack.callsTo('chat.postMessage').find((c) => !c.params.thread_ts);
    expect(summary?.params.channel).toBe('C0OPS');
    const card = await cardOf(run as string);
    // The fake answers each post with a ts; the card's own ts is what chat.update must target.
    const cardTs = String(
      (slack.calls[card.index] as unknown as { answer?: { ts: string } }).answer?.ts ?? card.ts,
    );
    const at = { channel: 'C0OPS', ts: cardTs };

    const refusedBefore = (await g.receipts('acme', 'approval.refused')).length;
    // Not an approver.
    expect((await post(clickBody('U0MALLORY', acmeTeam, card.ticket, at))).status).toBe(200);
    // A user of another tenant's workspace, who is an approver there.
    expect((await post(clickBody('U0ALICE', globexTeam, card.ticket, at))).status).toBe(200);
    await g.idle();
    expect(probe.calls.filter((c) => c.label === 'destroy')).toHaveLength(0);
    const refused = (await g.receipts('acme', 'approval.refused')).slice(refusedBefore);
    expect(refused.map((r) => [r.actor, r.reason])).toEqual([
      ['slack:U0MALLORY', 'not_an_approver'],
    ]);
    expect((await g.receipts('globex', 'approval.refused')).at(-1)).toMatchObject({
      actor: 'slack:U0ALICE',
      reason: 'unknown_ticket',
    });
    const told = slack.responses.filter((r) => r.id.startsWith('click-'));
    // Each clicker alone is told why (the work runs after the ack, so in either order).
    expect(told.map((r) => String(r.body.text)).sort()).toEqual([
      expect.stringMatching(/Not allowed: No approval with id/),
      expect.stringMatching(/Not allowed: slack:U0MALLORY is not an approver/),
    ]);
    expect(slack.callsTo('chat.update').filter((c) => c.params.ts === cardTs)).toHaveLength(0);

    // Bob is an approver through the Slack user group `oncall`.
    const approve = clickBody('U0BOB', acmeTeam, card.ticket, at);
    expect((await post(approve)).status).toBe(200);
    await g.idle();
    expect((await g.run('acme', run as string)).status).toBe('succeeded');
    expect(probe.calls.filter((c) => c.label === 'destroy')).toHaveLength(1);
    const updates = slack.callsTo('chat.update').filter((c) => c.params.ts === cardTs);
    expect(updates.length).toBeGreaterThan(0);
    const decided = JSON.stringify(updates.at(-1)?.params.blocks);
    expect(decided).not.toContain('warden_approve');
    expect(decided).toContain('U0BOB');

    // A replayed click (the same signed body, within the window) changes nothing.
    expect((await post(approve)).status).toBe(200);
    await g.idle();
    expect(probe.calls.filter((c) => c.label === 'destroy')).toHaveLength(1);
    expect((await g.receipts('acme', 'approval.refused')).at(-1)).toMatchObject({
      actor: 'slack:U0BOB',
      reason: 'already_decided',
    });

    // Receipts are replies in the run's thread, in chain order.
    const replies = slack
      .callsTo('chat.postMessage')
      .filter((c) => c.params.thread_ts === card.thread)
      .map((c) => String(c.params.text));
    expect(replies.some((t) => /run.simulated/.test(t))).toBe(true);
    expect(replies.some((t) => /approval.requested/.test(t))).toBe(true);
    expect(replies.some((t) => /step.executed/.test(t))).toBe(true);
    expect(replies.some((t) => /run.finished/.test(t))).toBe(true);
    for (const c of slack.calls.filter((x) => x.method.startsWith('chat.'))) {
      expect(checkBlockKit(c.params as never)).toEqual([]);
    }
  });

  it("posts a playbook's chat.notify message into its run's thread", async () => {
    const [run] = await g.fire('acme', { alertname: 'told', shard: '7' });
    await g.idle();
    expect((await g.run('acme', run as string)).status).toBe('succeeded');
    const posts = slack.callsTo('chat.postMessage');
    const root = posts.find(
      (c) => !c.params.thread_ts && JSON.stringify(c.params).includes(run as string),
    );
    expect(root, 'the run summary starts the thread').toBeDefined();
    const told = posts.filter((c) => JSON.stringify(c.params).includes('Shard 7 restarted'));
    expect(told).toHaveLength(1);
    expect(told[0]?.params).toMatchObject({ channel: 'C0OPS' });
    expect(told[0]?.params.thread_ts, 'in the run thread').toBeTruthy();
    // In order in the thread: after the summary, before the run's end.
    const rootAt = posts.indexOf(root as never);
    const toldAt = posts.indexOf(told[0] as never);
    const finishedAt = posts.findIndex(
      (c, i) => i > rootAt && JSON.stringify(c.params).includes('run.finished'),
    );
    expect(toldAt).toBeGreaterThan(rootAt);
    expect(finishedAt).toBeGreaterThan(toldAt);
  });

  it('refuses the initiator of a dual-control run and a click after expiry', async () => {
    const started = await command('run dual n=ops');
    expect(started.status).toBe(200);
    await g.idle();
    const runs = (await g.api('acme', 'read', 'GET', '/runs?playbook=dual')).body.runs as Array<{
      id: string;
    }>;
    const run = runs[0]?.id as string;
    const card = await cardOf(run);
    const at = { channel: 'C0OPS', ts: 'x' };
    await post(clickBody('U0OPS', acmeTeam, card.ticket, at));
    await g.idle();
    expect((await g.receipts('acme', 'approval.refused')).at(-1)).toMatchObject({
      actor: 'slack:U0OPS',
      reason: 'self_approval',
    });
    expect((await g.run('acme', run)).status).toBe('awaiting_approval');

    const [late] = await g.fire('acme', { alertname: 'hurry', n: '1' });
    await g.idle();
    const lateCard = await cardOf(late as string);
    await new Promise((r) => setTimeout(r, 1_100));
    await post(clickBody('U0ALICE', acmeTeam, lateCard.ticket, at));
    await g.idle();
    expect((await g.receipts('acme', 'approval.refused')).at(-1)).toMatchObject({
      actor: 'slack:U0ALICE',
      reason: 'expired',
    });
    expect((await g.run('acme', late as string)).status).toBe('cancelled');
  });

  it('answers /playbook simulate with the plan and decisions, touching nothing', async () => {
    const before = probe.calls.length;
    const answer = await command('simulate destroy n=7', 'U0ALICE');
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text);
    expect(body.response_type).toBe('ephemeral');
    expect(JSON.stringify(body.blocks)).toContain('policy:destructive-needs-approval');
    expect(checkBlockKit(body)).toEqual([]);
    expect(probe.calls.length).toBe(before);
    const refused = JSON.parse((await command('kill on', 'U0ALICE')).text);
    expect(refused.text).toMatch(/only the tenant's chat.operators/);
  });

  it('lets only operators decide from chat when the playbook names no approvers', async () => {
    const [run] = await g.fire('acme', { alertname: 'unlisted' });
    await g.idle();
    const card = await cardOf(run as string);
    const at = { channel: 'C0OPS', ts: card.ts };
    await post(clickBody('U0ALICE', acmeTeam, card.ticket, at));
    await g.idle();
    expect((await g.receipts('acme', 'approval.refused')).at(-1)).toMatchObject({
      actor: 'slack:U0ALICE',
      reason: 'not_an_approver',
    });
    expect((await g.run('acme', run as string)).status).toBe('awaiting_approval');
    await post(clickBody('U0OPS', acmeTeam, card.ticket, at));
    await g.idle();
    expect((await g.run('acme', run as string)).status).toBe('succeeded');
  });

  it("posts a Trust Report's secure link into the tenant's channel, and no other", async () => {
    const before = slack.calls.length;
    const view = {
      tenant: 'acme',
      week: '2026-W47',
      url: 'http://warden.test/r/AAAAAAAAAAAAAAAA.1795000000.sig',
      expiresAt: '2026-12-01T06:00:00.000Z',
      receiptId: '81ebe023-2da3-4ff7-89c1-f9aaa2252370',
    };
    expect(await g.chat?.postReportLink('acme', view)).toEqual(['slack']);
    const posted = slack.calls.slice(before).filter((c) => c.method === 'chat.postMessage');
    expect(posted).toHaveLength(1);
    expect(posted[0]?.params.channel).toBe('C0OPS');
    expect(JSON.stringify(posted[0]?.params)).toContain(view.url);
    expect(checkBlockKit(posted[0]?.params as { text?: unknown; blocks?: unknown })).toEqual([]);
    await expect(
      g.chat?.postReportLink('nobody', { ...view, tenant: 'nobody' }),
    ).rejects.toMatchObject({
      code: 'config_invalid',
      retryable: false,
    });
  });

  it("posts an internal alert into the tenant's channel as valid Block Kit", async () => {
    const before = slack.calls.length;
    const view = {
      title: 'Warden alert: Runaway run rate',
      lines: ['Runaway run rate (acme): 60 runs in the last 10 min, threshold 50.', 'Receipt r-1'],
      tone: 'warning' as const,
    };
    expect(await g.chat?.postNotice('acme', view)).toEqual(['slack']);
    const posted = slack.calls.slice(before).filter((c) => c.method === 'chat.postMessage');
    expect(posted.map((c) => c.params.channel)).toEqual(['C0OPS']);
    expect(JSON.stringify(posted[0]?.params)).toContain('60 runs in the last 10 min');
    expect(checkBlockKit(posted[0]?.params as { text?: unknown; blocks?: unknown })).toEqual([]);
    expect(await g.chat?.postNotice('nobody', view)).toEqual([]);
  });
});
