/**
 * Guardrails, adversarially: budgets under a race (in one process, and between two replicas with
 * their own guardrails), each budget at its limit and one past it, a kill switch engaged between
 * two steps, default deny of destructive steps, dual control, and breakers.
 * Real database (PGlite and PostgreSQL), real Cedar, real API; nothing faked but the probe plugin.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantConfig } from '../../src/config.js';
import { openGuardrails } from '../../src/guardrails/guardrails.js';
import { createEngine } from '../../src/pipeline/engine.js';
import { plugins } from '../../src/plugins/index.js';
import { validatePlugins } from '../../src/plugins/registry.js';
import { createRunLock } from '../../src/storage/run-lock.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';

/** An HTTP target counting the calls it receives. */
function startTarget() {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  return new Promise<{ calls(): number; host: string; close(): Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        calls: () => calls,
        host: `127.0.0.1:${port}`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

const playbook = (name: string, spec: string, steps: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${name} } }
${spec}
  steps:
${steps}
`;

const touch = (id: string, label: string, extra = '') =>
  `    - { id: ${id}, uses: probe.touch, with: { label: ${label}${extra} } }`;

describeEngines('guardrails', ({ db }) => {
  const probe = createProbe();
  let target: Awaited<ReturnType<typeof startTarget>>;
  let g: Awaited<ReturnType<typeof startGuarded>>;
  const t = 'acme';

  beforeAll(async () => {
    target = await startTarget();
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      tenants: [
        {
          id: t,
          plugins: { http: { allowedHosts: [target.host], secrets: {} } },
          playbooks: {
            race: playbook(
              'race',
              '  budgets: { actionsPerHour: 5 }',
              `    - { id: call, uses: http.request, with: { method: POST, url: "http://${target.host}/admin/restart" } }`,
            ),
            blast: playbook(
              'blast',
              '  budgets: { blastRadius: 3 }',
              [
                touch('one', 'b1', ', targets: ["{{ alert.labels.a }}", "{{ alert.labels.b }}"]'),
                touch('two', 'b2', ', targets: ["{{ alert.labels.c }}", "{{ alert.labels.d }}"]'),
              ].join('\n'),
            ),
            cost: playbook(
              'cost',
              '  budgets: { costPerRun: 5 }',
              [
                touch('one', 'c1', ', cost: 2'),
                touch('two', 'c2', ', cost: "{{ alert.labels.cost }}"'),
              ].join('\n'),
            ),
            envs: playbook(
              'envs',
              '  environment: "{{ alert.labels.env }}"\n  budgets: { allowedEnvironments: [staging] }',
              touch('one', 'e1'),
            ),
            replicas: playbook(
              'replicas',
              '  budgets: { actionsPerHour: 4 }',
              touch('act', '"replica-{{ alert.labels.i }}"'),
            ),
            gated: playbook(
              'gated',
              '',
              [
                touch('first', 'k1', ', gate: "{{ alert.labels.gate }}"'),
                touch('second', 'k2'),
              ].join('\n'),
            ),
          },
        },
      ],
    });
  });

  afterAll(async () => {
    await g?.close();
    await target?.close();
  });

  it('lets exactly 5 of 50 concurrent runs act under actionsPerHour: 5, and receipts 45 denials', async () => {
    const runs = (
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => g.fire(t, { alertname: 'race', i: String(i) })),
      )
    ).flat();
    expect(runs).toHaveLength(50);
    await g.idle();
    expect(target.calls()).toBe(5);
    const statuses = await Promise.all(runs.map(async (id) => (await g.run(t, id)).status));
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(5);
    expect(statuses.filter((s) => s === 'denied')).toHaveLength(45);
    const denials = (await g.receipts(t, 'step.denied')).filter((r) =>
      runs.includes(r.run as string),
    );
    expect(denials).toHaveLength(45);
    for (const d of denials) {
      expect(d.reasons).toEqual(['actions_per_hour_exceeded']);
      expect((d.decision as { budgets: unknown }).budgets).toEqual({
        actionsPerHour: { used: 6, limit: 5 },
      });
    }
    const executed = (await g.receipts(t, 'step.executed')).filter((r) =>
      runs.includes(r.run as string),
    );
    const used = executed
      .map((r) => (r.decision as { budgets: { actionsPerHour: { used: number } } }).budgets)
      .map((b) => b.actionsPerHour.used)
      .sort();
    expect(used).toEqual([1, 2, 3, 4, 5]);
  });

  it('lets exactly 4 of 30 runs act under actionsPerHour: 4 when two replicas race for them', async () => {
    // A second process: its own guardrails, engine and run lock, over the same database.
    const tenants = [{ id: t, tier: 'enterprise', plugins: {}, chat: { operators: [] } }];
    const catalog = validatePlugins([...plugins, probe.plugin]);
    const logger = pino({ level: 'silent' });
    const { guard, watch } = await openGuardrails({
      knex: db().knex,
      ledger: g.ledger,
      catalog,
      tenants: tenants as unknown as TenantConfig[],
      logger,
    });
    const replica = createEngine({
      knex: db().knex,
      ledger: g.ledger,
      catalog,
      tenants: new Map(tenants.map((c) => [c.id, c as unknown as TenantConfig])),
      logger,
      guard,
      watch,
      runLock: createRunLock(db().knex, db().engine),
    });
    const fired = await Promise.all(
      Array.from({ length: 30 }, (_, i) => g.fire(t, { alertname: 'replicas', i: String(i) })),
    );
    const runs = fired.flat();
    // Both replicas work every run at once; each run is advanced by whichever holds it.
    await Promise.all(runs.map((id) => replica.process(t, id)));
    await g.idle();
    const acted = probe.calls.filter((c) => c.label.startsWith('replica-'));
    expect(acted).toHaveLength(4);
    const statuses = await Promise.all(runs.map(async (id) => (await g.run(t, id)).status));
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(4);
    expect(statuses.filter((s) => s === 'denied')).toHaveLength(26);
    const used = (await g.receipts(t, 'step.executed'))
      .filter((r) => runs.includes(r.run as string))
      .map((r) => (r.decision as { budgets: { actionsPerHour: { used: number } } }).budgets)
      .map((b) => b.actionsPerHour.used)
      .sort();
    expect(used).toEqual([1, 2, 3, 4]);
  });

  it('allows a blast radius at its limit and denies one past it', async () => {
    const [atLimit] = await g.fire(t, { alertname: 'blast', a: 'x', b: 'y', c: 'z', d: 'x' });
    const [past] = await g.fire(t, { alertname: 'blast', a: 'x', b: 'y', c: 'z', d: 'w' });
    await g.idle();
    expect((await g.run(t, atLimit as string)).status).toBe('succeeded');
    const denied = await g.run(t, past as string);
    expect(denied.status).toBe('denied');
    expect(denied.steps.map((s) => s.status)).toEqual(['succeeded', 'denied']);
    expect(denied.steps[1]?.decision).toMatchObject({
      outcome: 'deny',
      reasons: ['blast_radius_exceeded'],
      budgets: { blastRadius: { used: 4, limit: 3 } },
    });
  });

  it('allows a cost at its limit and denies one past it', async () => {
    const [atLimit] = await g.fire(t, { alertname: 'cost', cost: '3' });
    const [past] = await g.fire(t, { alertname: 'cost', cost: '3.5' });
    await g.idle();
    expect((await g.run(t, atLimit as string)).status).toBe('succeeded');
    const denied = await g.run(t, past as string);
    expect(denied.steps[1]?.decision).toMatchObject({
      reasons: ['cost_per_run_exceeded'],
      budgets: { costPerRun: { used: 5.5, limit: 5 } },
    });
    const labels = probe.calls.map((c) => c.label);
    expect(labels.filter((l) => l === 'c2')).toHaveLength(1);
  });

  it('runs in an allowed environment and denies any other', async () => {
    const [ok] = await g.fire(t, { alertname: 'envs', env: 'staging' });
    const [no] = await g.fire(t, { alertname: 'envs', env: 'production' });
    const [none] = await g.fire(t, { alertname: 'envs' });
    await g.idle();
    expect((await g.run(t, ok as string)).status).toBe('succeeded');
    for (const id of [no, none]) {
      const r = await g.run(t, id as string);
      expect(r.status).toBe('denied');
      expect(r.steps[0]?.decision).toMatchObject({ reasons: ['environment_not_allowed'] });
    }
  });

  it('stops a running playbook at its next step when its kill switch is engaged', async () => {
    const before = probe.calls.filter((c) => c.label === 'k2').length;
    const [id] = await g.fire(t, { alertname: 'gated', gate: 'kill-1' });
    await probe.reached('kill-1');
    const engaged = await g.api(t, 'admin', 'POST', '/kill-switch', {
      scope: 'playbook',
      target: 'gated',
      engaged: true,
      reason: 'test',
    });
    expect(engaged.status).toBe(200);
    expect(engaged.body).toMatchObject({ engaged: true, changed: true });
    probe.open('kill-1');
    await g.idle();
    const r = await g.run(t, id as string);
    expect(r.status).toBe('denied');
    expect(r.steps.map((s) => s.status)).toEqual(['succeeded', 'denied']);
    expect(r.steps[1]?.decision).toMatchObject({ reasons: ['kill_switch:playbook'] });
    expect(probe.calls.filter((c) => c.label === 'k2').length).toBe(before);
    const changes = await g.receipts(t, 'kill_switch.changed');
    expect(changes.at(-1)).toMatchObject({ scope: 'playbook', target: 'gated', engaged: true });
    // Engaging it again changes nothing and leaves no second receipt; releasing it lets runs act.
    const again = await g.api(t, 'admin', 'POST', '/kill-switch', {
      scope: 'playbook',
      target: 'gated',
      engaged: true,
    });
    expect(again.body).toMatchObject({ changed: false, receipts: [] });
    await g.api(t, 'admin', 'POST', '/kill-switch', {
      scope: 'playbook',
      target: 'gated',
      engaged: false,
    });
    const [after] = await g.fire(t, { alertname: 'gated', gate: 'kill-2' });
    await probe.reached('kill-2');
    probe.open('kill-2');
    await g.idle();
    expect((await g.run(t, after as string)).status).toBe('succeeded');
  });

  it('stops a run at its next step when its playbook is disabled while it runs', async () => {
    const before = probe.calls.filter((c) => c.label === 'k2').length;
    const [id] = await g.fire(t, { alertname: 'gated', gate: 'off-1' });
    await probe.reached('off-1');
    const off = await g.api(t, 'admin', 'POST', '/playbooks/gated/disable', { reason: 'test' });
    expect(off.status).toBe(200);
    probe.open('off-1');
    await g.idle();
    const r = await g.run(t, id as string);
    expect(r.status).toBe('denied');
    expect(r.steps.map((s) => s.status)).toEqual(['succeeded', 'denied']);
    expect(r.steps[1]?.decision).toMatchObject({ reasons: ['playbook_disabled'] });
    expect(probe.calls.filter((c) => c.label === 'k2').length).toBe(before);
    expect((await g.api(t, 'admin', 'POST', '/playbooks/gated/enable', {})).status).toBe(200);
    const [after] = await g.fire(t, { alertname: 'gated', gate: 'off-2' });
    await probe.reached('off-2');
    probe.open('off-2');
    await g.idle();
    expect((await g.run(t, after as string)).status).toBe('succeeded');
  });

  it('refuses the global kill switch to a tenant token and obeys it from the operator', async () => {
    const refused = await g.api(t, 'admin', 'POST', '/kill-switch', {
      scope: 'global',
      engaged: true,
    });
    expect(refused.status).toBe(403);
    const on = await g.api(t, 'operator', 'POST', '/kill-switch', {
      scope: 'global',
      engaged: true,
    });
    expect(on.status).toBe(200);
    const [id] = await g.fire(t, { alertname: 'envs', env: 'staging' });
    await g.idle();
    expect((await g.run(t, id as string)).steps[0]?.decision).toMatchObject({
      reasons: ['kill_switch:global'],
    });
    await g.api(t, 'operator', 'POST', '/kill-switch', { scope: 'global', engaged: false });
    const [again] = await g.fire(t, { alertname: 'envs', env: 'staging' });
    await g.idle();
    expect((await g.run(t, again as string)).status).toBe('succeeded');
  });

  describe('kill-switch API', () => {
    it('validates scope targets and tenant', async () => {
      const noTarget = await g.api(t, 'admin', 'POST', '/kill-switch', {
        scope: 'playbook',
        engaged: true,
      });
      expect(noTarget.status).toBe(422);
      const unknown = await g.api(t, 'admin', 'POST', '/kill-switch', {
        scope: 'plugin',
        target: 'nope',
        engaged: true,
      });
      expect(unknown.status).toBe(422);
      const other = await g.api(t, 'admin', 'POST', '/kill-switch', {
        scope: 'tenant',
        tenant: 'globex',
        engaged: true,
      });
      expect(other.status).toBe(403);
      const reader = await g.api(t, 'read', 'POST', '/kill-switch', {
        scope: 'tenant',
        engaged: true,
      });
      expect(reader.status).toBe(403);
      const list = await g.api(t, 'read', 'GET', '/kill-switch');
      expect(list.status).toBe(200);
      expect(list.body.switches.length).toBeGreaterThan(0);
    });
  });

  it('simulates with the decisions and budget use a real run would get, consuming nothing', async () => {
    const sim = await g.api(t, 'read', 'POST', '/playbooks/blast/simulate', {
      alert: { labels: { alertname: 'blast', a: 'p', b: 'q', c: 'r', d: 's' } },
    });
    expect(sim.status).toBe(200);
    expect(sim.body.outcome).toBe('would_be_denied');
    expect(sim.body.steps.map((s: { decision: unknown }) => s.decision)).toEqual([
      {
        outcome: 'allow',
        reasons: ['policy:baseline-permit'],
        budgets: { blastRadius: { used: 2, limit: 3 } },
      },
      {
        outcome: 'deny',
        reasons: ['blast_radius_exceeded'],
        budgets: { blastRadius: { used: 4, limit: 3 } },
        overridable: true,
      },
    ]);
    const ok = await g.api(t, 'read', 'POST', '/playbooks/envs/simulate', {
      alert: { labels: { alertname: 'envs', env: 'staging' } },
    });
    expect(ok.body.outcome).toBe('planned');
    const usage = await db().knex('budget_usage').where({ run_id: 'simulation' }).count();
    expect(Number(usage[0]?.count)).toBe(0);
  });
});
