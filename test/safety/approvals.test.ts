/**
 * Approvals, adversarially: destructive steps are denied until approved; dual control for
 * privileged steps; self-approval, a second vote by the same approver, an approver of another
 * tenant and a vote after expiry are all refused — each with a receipt. Approve executes the step
 * (its receipt names the approvals), reject denies the run, expiry cancels it; an overridable budget
 * denial becomes a ticket too.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expireOverdue } from '../../src/guardrails/approvals.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';

const playbook = (name: string, spec: string, step: string, label = '{{ alert.labels.n }}') => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${name} } }
${spec}
  steps:
    - { id: act, uses: ${step}, with: { label: "${name}-${label}", targets: [db-1] } }
`;

const approvers =
  '  approval: { approvers: [slack:U1, slack:U2, slack:U3], minApprovals: 1, expiresIn: 30m }';

describeEngines('approvals', ({ db }) => {
  const probe = createProbe();
  let g: Awaited<ReturnType<typeof startGuarded>>;
  const t = 'acme';
  const executed = (label: string) => probe.calls.filter((c) => c.label === label).length;

  beforeAll(async () => {
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      tenants: [
        {
          id: t,
          playbooks: {
            destroy: playbook('destroy', approvers, 'probe.destroy'),
            'prod-destroy': playbook(
              'prod-destroy',
              `  environment: production\n${approvers}`,
              'probe.destroy',
              '{{ params.n }}',
            ),
            hurry: playbook(
              'hurry',
              '  approval: { approvers: [slack:U1], expiresIn: 1s }',
              'probe.destroy',
            ),
            budget: playbook(
              'budget',
              `  budgets: { actionsPerHour: 1 }\n${approvers}`,
              'probe.touch',
            ),
            'budget-then-read': `
apiVersion: warden/v1
kind: Playbook
metadata: { name: budget-then-read }
spec:
  on:
    - alert: { match: { alertname: budget-then-read } }
  budgets: { actionsPerHour: 1, blastRadius: 1, costPerRun: 1 }
${approvers}
  steps:
    - { id: act, uses: probe.touch, with: { label: "btr-{{ alert.labels.n }}", targets: [db-1], cost: 1 } }
    - { id: look, uses: probe.look, with: { label: "btr-look-{{ alert.labels.n }}", targets: [db-1] } }
`,
            'budget-and-dual': playbook(
              'budget-and-dual',
              `  environment: production\n  budgets: { actionsPerHour: 1 }\n${approvers}`,
              'probe.destroy',
            ),
          },
        },
        {
          id: 'globex',
          playbooks: {
            theirs: playbook('theirs', '  approval: { approvers: [slack:UG1] }', 'probe.destroy'),
          },
        },
      ],
    });
  });

  afterAll(async () => {
    await g?.close();
  });

  const pending = async (runId: string) => {
    const { body } = await g.api(t, 'read', 'GET', `/approvals?run=${runId}`);
    return body.approvals[0];
  };
  const decide = (
    ticket: string,
    actor: string,
    decision: 'approve' | 'reject' = 'approve',
    opts: { tenant?: string; who?: 'admin' | 'ops' } = {},
  ) =>
    g.api(opts.tenant ?? t, opts.who ?? 'admin', 'POST', `/approvals/${ticket}/decision`, {
      decision,
      actor,
      comment: 'looked at the graphs',
    });

  it('denies a destructive step until approved, then executes it naming the approval', async () => {
    const [run] = await g.fire(t, { alertname: 'destroy', n: '1' });
    await g.idle();
    expect((await g.run(t, run as string)).status).toBe('awaiting_approval');
    expect(executed('destroy-1')).toBe(0);
    const ticket = await pending(run as string);
    expect(ticket).toMatchObject({
      status: 'pending',
      outcome: 'approval_required',
      reasons: ['policy:destructive-needs-approval'],
      approvers: ['slack:U1', 'slack:U2', 'slack:U3'],
      minApprovals: 1,
      initiator: 'playbook:destroy',
      rollback: { kind: 'none' },
    });
    expect(ticket.nextSteps[0]).toMatch(/destructive/);
    expect(ticket.evidence.map((e: { url: string }) => e.url)).toEqual(
      expect.arrayContaining([
        'https://runbooks.example/ingest',
        'https://prometheus.example/graph?g0.expr=up',
        `/api/v1/receipts?run=${run}`,
      ]),
    );
    const requested = await g.receipts(t, 'approval.requested');
    expect(requested.at(-1)).toMatchObject({ approval: ticket.id, run });

    const ok = await decide(ticket.id, 'slack:U2');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'approved', votes: [{ actor: 'slack:U2' }] });
    await g.idle();
    expect((await g.run(t, run as string)).status).toBe('succeeded');
    expect(executed('destroy-1')).toBe(1);
    const step = (await g.receipts(t, 'step.executed')).find((r) => r.run === run);
    expect(step?.decision).toMatchObject({ approvals: expect.any(Array) });
    expect((step?.decision as { approvals: string[] } | undefined)?.approvals).toEqual([
      ok.body.votes[0].receiptId,
    ]);
  });

  it("writes a decision's rows first and its receipt last: the chain head is locked last", async () => {
    const [run] = await g.fire(t, { alertname: 'destroy', n: '9' });
    await g.idle();
    const ticket = await pending(run as string);
    const sent: string[] = [];
    const onQuery = (q: { sql: string }) => sent.push(q.sql);
    db().knex.on('query', onQuery);
    try {
      expect((await decide(ticket.id, 'slack:U3')).status).toBe(200);
    } finally {
      db().knex.off('query', onQuery);
    }
    const at = (pattern: RegExp) => sent.findIndex((sql) => pattern.test(sql));
    const receipt = at(/^\s*with head as/);
    const rows = [/^insert into "?approval_votes/, /^update "approvals"/, /^update "runs"/].map(at);
    expect(rows.every((i) => i >= 0)).toBe(true);
    expect(Math.max(...rows)).toBeLessThan(receipt);
  });

  it('denies the run when an approver rejects', async () => {
    const [run] = await g.fire(t, { alertname: 'destroy', n: '2' });
    await g.idle();
    const ticket = await pending(run as string);
    expect((await decide(ticket.id, 'slack:U1', 'reject')).body.status).toBe('rejected');
    await g.idle();
    const r = await g.run(t, run as string);
    expect(r.status).toBe('denied');
    expect(r.steps[0]?.decision).toMatchObject({ reasons: ['approval_rejected'] });
    expect(executed('destroy-2')).toBe(0);
  });

  it('needs two distinct approvers for a privileged step, refusing every shortcut with a receipt', async () => {
    const started = await g.api(t, 'ops', 'POST', '/playbooks/prod-destroy/run', {
      params: { n: 'manual' },
    });
    expect(started.status).toBe(202);
    const run = started.body.run as string;
    await g.idle();
    const ticket = await pending(run);
    expect(ticket).toMatchObject({
      minApprovals: 2,
      initiator: 'api:ops',
      reasons: ['policy:destructive-needs-approval', 'policy:privileged-dual-control'],
    });
    const refusedBefore = (await g.receipts(t, 'approval.refused')).length;

    // The initiator's own token, and the initiator as the actor: self-approval.
    const viaOwnToken = await decide(ticket.id, 'slack:U1', 'approve', { who: 'ops' });
    expect([viaOwnToken.status, viaOwnToken.body.error.code]).toEqual([403, 'forbidden']);
    expect(viaOwnToken.body.error.message).toMatch(/cannot approve its own/);
    const asInitiator = await decide(ticket.id, 'api:ops');
    expect(asInitiator.status).toBe(403);

    expect((await decide(ticket.id, 'slack:U1')).body).toMatchObject({ status: 'pending' });
    const twice = await decide(ticket.id, 'slack:U1');
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/already decided/);

    // Another tenant's token cannot see the ticket; another tenant's approver is not one here.
    const otherTenant = await decide(ticket.id, 'slack:UG1', 'approve', { tenant: 'globex' });
    expect(otherTenant.status).toBe(404);
    const otherApprover = await decide(ticket.id, 'slack:UG1');
    expect(otherApprover.status).toBe(403);
    expect(otherApprover.body.error.message).toMatch(/not an approver/);

    const refused = (await g.receipts(t, 'approval.refused')).slice(refusedBefore);
    expect(refused.map((r) => r.reason)).toEqual([
      'self_approval',
      'self_approval',
      'duplicate_approver',
      'not_an_approver',
    ]);
    const globexRefused = await g.receipts('globex', 'approval.refused');
    expect(globexRefused.at(-1)).toMatchObject({ approval: ticket.id, reason: 'unknown_ticket' });
    expect(executed('prod-destroy-manual')).toBe(0);
    expect((await g.run(t, run)).status).toBe('awaiting_approval');

    const second = await decide(ticket.id, 'slack:U3');
    expect(second.body).toMatchObject({ status: 'approved' });
    await g.idle();
    expect((await g.run(t, run)).status).toBe('succeeded');
    const step = (await g.receipts(t, 'step.executed')).find((r) => r.run === run);
    expect(step?.decision).toMatchObject({ approvals: expect.any(Array) });
    expect((step?.decision as { approvals: string[] } | undefined)?.approvals).toHaveLength(2);
  });

  it('refuses a vote after expiry, expires the ticket and cancels the run (also by the sweep)', async () => {
    const [late] = await g.fire(t, { alertname: 'hurry', n: '1' });
    const [swept] = await g.fire(t, { alertname: 'hurry', n: '2' });
    await g.idle();
    const ticket = await pending(late as string);
    await new Promise((r) => setTimeout(r, 1_100));
    const vote = await decide(ticket.id, 'slack:U1');
    expect(vote.status).toBe(409);
    expect(vote.body.error.message).toMatch(/expired/);
    expect(
      await expireOverdue({
        knex: db().knex,
        ledger: g.ledger,
        enqueue: (tn, id) => g.queue.enqueue(tn, id),
      }),
    ).toBe(1);
    await g.idle();
    for (const id of [late, swept]) {
      const r = await g.run(t, id as string);
      expect(r.status).toBe('cancelled');
      expect(r.steps[0]?.decision).toMatchObject({ reasons: ['approval_expired'] });
    }
    expect((await g.receipts(t, 'approval.expired')).length).toBeGreaterThanOrEqual(2);
    expect(executed('hurry-1') + executed('hurry-2')).toBe(0);
  });

  it('turns an overridable budget denial into a ticket; approving it lets the step through', async () => {
    const [first] = await g.fire(t, { alertname: 'budget', n: '1' });
    await g.idle();
    const [second] = await g.fire(t, { alertname: 'budget', n: '2' });
    await g.idle();
    expect((await g.run(t, first as string)).status).toBe('succeeded');
    expect((await g.run(t, second as string)).status).toBe('awaiting_approval');
    const ticket = await pending(second as string);
    expect(ticket).toMatchObject({ outcome: 'deny', reasons: ['actions_per_hour_exceeded'] });
    await decide(ticket.id, 'slack:U1');
    await g.idle();
    expect((await g.run(t, second as string)).status).toBe('succeeded');
    const step = (await g.receipts(t, 'step.executed')).find((r) => r.run === second);
    expect(step?.decision).toMatchObject({
      outcome: 'allow',
      budgets: { actionsPerHour: { used: 2, limit: 1 } },
    });
  });

  it('does not block a step that adds nothing to a budget an approval let the run exceed', async () => {
    await g.fire(t, { alertname: 'budget-then-read', n: '1' });
    await g.idle();
    const [run] = await g.fire(t, { alertname: 'budget-then-read', n: '2' });
    await g.idle();
    const ticket = await pending(run as string);
    expect(ticket.reasons).toEqual(['actions_per_hour_exceeded']);
    await decide(ticket.id, 'slack:U1');
    await g.idle();
    const r = await g.run(t, run as string);
    expect(r.status).toBe('succeeded');
    expect(executed('btr-look-2')).toBe(1);
  });

  it('lets a budget ticket and a dual-control ticket for one step add up, without looping', async () => {
    const first = await g.fire(t, { alertname: 'budget-and-dual', n: '1' });
    await g.idle();
    const t1 = await pending(first[0] as string);
    await decide(t1.id, 'slack:U1');
    await decide(t1.id, 'slack:U2');
    await g.idle();
    expect((await g.run(t, first[0] as string)).status).toBe('succeeded');

    const [run] = await g.fire(t, { alertname: 'budget-and-dual', n: '2' });
    await g.idle();
    const budgetTicket = await pending(run as string);
    expect(budgetTicket).toMatchObject({ outcome: 'deny', reasons: ['actions_per_hour_exceeded'] });
    await decide(budgetTicket.id, 'slack:U1');
    await g.idle();
    const policyTicket = await pending(run as string);
    expect(policyTicket.id).not.toBe(budgetTicket.id);
    // slack:U1 already counted (on the budget ticket): one more person is asked, and it is not U1.
    expect(policyTicket).toMatchObject({ outcome: 'approval_required', minApprovals: 1 });
    expect((await decide(policyTicket.id, 'slack:U1')).status).toBe(409);
    await decide(policyTicket.id, 'slack:U3');
    await g.idle();
    expect((await g.run(t, run as string)).status).toBe('succeeded');
    expect(executed('budget-and-dual-2')).toBe(1);
    const tickets = (await g.api(t, 'read', 'GET', `/approvals?run=${run}`)).body.approvals;
    expect(tickets).toHaveLength(2);
  });

  it('lets the initiator reject (stop) their own run', async () => {
    const started = await g.api(t, 'ops', 'POST', '/playbooks/prod-destroy/run', {
      params: { n: 'stop-own' },
    });
    await g.idle();
    const ticket = await pending(started.body.run);
    const stop = await decide(ticket.id, 'api:ops', 'reject', { who: 'ops' });
    expect(stop.status).toBe(200);
    expect(stop.body.status).toBe('rejected');
  });
});
