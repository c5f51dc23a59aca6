import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { setKillSwitch, stepStops } from '../../src/storage/kill-switches.js';
import {
  chainedRunChanges,
  claimedOf,
  claimSteps,
  setRunStatuses,
  updateRunsAndSteps,
  updateSteps,
} from '../../src/storage/run-changes.js';
import {
  getRunRow,
  getRunWithSteps,
  getSteps,
  insertRun,
  insertRuns,
} from '../../src/storage/runs.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

describeEngines('run storage: batched updates', ({ db }) => {
  const tenant = 'store';
  const other = 'store-other';
  let versionId = '';

  beforeAll(async () => {
    const { ledger } = await createTestLedger(db());
    const deps = { knex: db().knex, ledger };
    await createTenant(deps, { id: tenant, tier: 'pro' }, 'test');
    await createTenant(deps, { id: other, tier: 'pro' }, 'test');
    versionId = randomUUID();
    for (const t of [tenant, other]) {
      await db()
        .knex('playbook_versions')
        .insert({
          id: `${versionId}-${t}`,
          tenant_id: t,
          name: 'p',
          version: 1,
          digest: `sha256:${t}`,
          source_file: 'p.yaml',
          definition: JSON.stringify({}),
        });
    }
  });

  async function newRun(t = tenant): Promise<string> {
    const id = randomUUID();
    await insertRun(db().knex, {
      id,
      tenant: t,
      versionId: `${versionId}-${t}`,
      playbook: 'p',
      triggerId: null,
      context: {},
      initiator: 'playbook:p',
      steps: [
        { id: 'a', uses: 'wait.sleep' },
        { id: 'b', uses: 'wait.sleep' },
      ],
    });
    return id;
  }

  it('applies updates of different shapes, to many runs, in one call', async () => {
    const [r1, r2] = [await newRun(), await newRun()];
    await updateSteps(db().knex, tenant, [
      { run: r1, step: 'a', fields: { plan: { x: 1 }, input_digest: 'sha256:1' } },
      { run: r2, step: 'a', fields: { plan: { x: 2 }, input_digest: 'sha256:2' } },
      {
        run: r1,
        step: 'b',
        fields: { status: 'failed', error: 'boom', duration_ms: 7, finished: true },
      },
      { run: r2, step: 'b', fields: { status: 'succeeded', output: { ok: [1, 'two'] } } },
    ]);
    const s1 = await getSteps(db().knex, tenant, r1);
    const s2 = await getSteps(db().knex, tenant, r2);
    expect(
      s1.map((s) => [s.step_id, s.status, s.plan, s.input_digest, s.error, s.duration_ms]),
    ).toEqual([
      ['a', 'pending', { x: 1 }, 'sha256:1', null, null],
      ['b', 'failed', null, null, 'boom', 7],
    ]);
    expect(s2.map((s) => [s.step_id, s.status, s.plan, s.output])).toEqual([
      ['a', 'pending', { x: 2 }, null],
      ['b', 'succeeded', null, { ok: [1, 'two'] }],
    ]);
    const finished = await db()
      .knex('run_steps')
      .where({ run_id: r1 })
      .orderBy('position')
      .pluck('finished_at');
    expect(finished[0]).toBeNull();
    expect(finished[1]).toBeInstanceOf(Date);
  });

  it('applies two updates of one step in order', async () => {
    const r = await newRun();
    await updateSteps(db().knex, tenant, [
      { run: r, step: 'a', fields: { status: 'running' } },
      { run: r, step: 'a', fields: { status: 'succeeded' } },
    ]);
    expect((await getSteps(db().knex, tenant, r))[0]?.status).toBe('succeeded');
  });

  it('never touches another tenant’s rows', async () => {
    const mine = await newRun(other);
    await updateSteps(db().knex, tenant, [{ run: mine, step: 'a', fields: { status: 'failed' } }]);
    await setRunStatuses(db().knex, tenant, [{ run: mine, status: 'failed', error: 'x' }]);
    expect((await getSteps(db().knex, other, mine))[0]?.status).toBe('pending');
    expect((await getRunRow(db().knex, other, mine))?.status).toBe('queued');
  });

  it('sets run statuses and stamps finished_at only for a finished status', async () => {
    const [r1, r2] = [await newRun(), await newRun()];
    await setRunStatuses(db().knex, tenant, [
      { run: r1, status: 'running', error: null },
      { run: r2, status: 'failed', error: 'step b failed' },
    ]);
    const a = await getRunRow(db().knex, tenant, r1);
    const b = await getRunRow(db().knex, tenant, r2);
    expect([a?.status, a?.error, a?.finished_at]).toEqual(['running', null, null]);
    expect([b?.status, b?.error]).toEqual(['failed', 'step b failed']);
    expect(b?.finished_at).toBeInstanceOf(Date);
  });

  it('applies step updates of two shapes and run statuses in one statement', async () => {
    const [r1, r2] = [await newRun(), await newRun()];
    const sql: string[] = [];
    const count = (q: { sql: string }) => sql.push(q.sql);
    db().knex.on('query', count);
    try {
      await updateRunsAndSteps(
        db().knex,
        tenant,
        [
          { run: r1, step: 'a', fields: { plan: { p: 1 }, input_digest: 'sha256:1' } },
          { run: r1, step: 'b', fields: { plan: { p: 2 }, input_digest: 'sha256:2' } },
          { run: r2, step: 'a', fields: { status: 'succeeded', duration_ms: 3, finished: true } },
        ],
        [
          { run: r1, status: 'running', error: null },
          { run: r2, status: 'succeeded', error: null },
        ],
      );
    } finally {
      db().knex.off('query', count);
    }
    expect(sql).toHaveLength(1);
    const one = await getRunWithSteps(db().knex, tenant, r1);
    const two = await getRunWithSteps(db().knex, tenant, r2);
    expect(one?.run.status).toBe('running');
    expect(one?.steps.map((s) => [s.plan, s.input_digest])).toEqual([
      [{ p: 1 }, 'sha256:1'],
      [{ p: 2 }, 'sha256:2'],
    ]);
    expect(two?.run.status).toBe('succeeded');
    expect(two?.steps[0]).toMatchObject({ status: 'succeeded', duration_ms: 3 });
  });

  it('applies a step updated twice in one call in order, one statement at a time', async () => {
    const id = await newRun();
    await updateRunsAndSteps(
      db().knex,
      tenant,
      [
        { run: id, step: 'a', fields: { status: 'running' } },
        { run: id, step: 'a', fields: { status: 'failed', error: 'late' } },
      ],
      [{ run: id, status: 'failed', error: 'late' }],
    );
    const found = await getRunWithSteps(db().knex, tenant, id);
    expect(found?.steps[0]).toMatchObject({ status: 'failed', error: 'late' });
    expect(found?.run.status).toBe('failed');
  });

  it('never moves a finished run back', async () => {
    const id = await newRun();
    await setRunStatuses(db().knex, tenant, [{ run: id, status: 'succeeded', error: null }]);
    await setRunStatuses(db().knex, tenant, [{ run: id, status: 'running', error: null }]);
    expect((await getRunRow(db().knex, tenant, id))?.status).toBe('succeeded');
  });

  it('claims pending steps in one statement, and no step twice or of another tenant', async () => {
    const [r1, r2] = [await newRun(), await newRun()];
    const theirs = await newRun(other);
    const first = await claimSteps(db().knex, tenant, [
      { run: r1, step: 'a' },
      { run: r2, step: 'a' },
      { run: theirs, step: 'a' },
    ]);
    expect([...first].sort()).toEqual([`${r1}\u0000a`, `${r2}\u0000a`].sort());
    const again = await claimSteps(db().knex, tenant, [
      { run: r1, step: 'a' },
      { run: r1, step: 'b' },
    ]);
    expect([...again]).toEqual([`${r1}\u0000b`]);
    expect((await getSteps(db().knex, other, theirs))[0]?.status).toBe('pending');
  });

  it('reads a run with its steps in order, in one query, within its tenant', async () => {
    const id = await newRun();
    await updateSteps(db().knex, tenant, [
      { run: id, step: 'b', fields: { status: 'failed', error: 'no', duration_ms: 12 } },
      { run: id, step: 'a', fields: { plan: { n: 1 }, input_digest: 'sha256:a' } },
    ]);
    const found = await getRunWithSteps(db().knex, tenant, id);
    expect(found?.run).toEqual(await getRunRow(db().knex, tenant, id));
    const steps = await getSteps(db().knex, tenant, id);
    expect(found?.steps).toEqual(
      steps.map((s) => ({
        step_id: s.step_id,
        position: s.position,
        uses: s.uses,
        status: s.status,
        decision: s.decision,
        plan: s.plan,
        input_digest: s.input_digest,
        output: s.output,
        output_digest: s.output_digest,
        error: s.error,
        duration_ms: s.duration_ms,
        receipt_id: s.receipt_id,
      })),
    );
    expect(found?.steps.map((s) => [s.step_id, s.status, s.duration_ms])).toEqual([
      ['a', 'pending', null],
      ['b', 'failed', 12],
    ]);
    expect(await getRunWithSteps(db().knex, other, id)).toBeUndefined();
  });

  it('inserts a batch of runs with their steps', async () => {
    const runs = Array.from({ length: 3 }, (_, i) => ({
      id: randomUUID(),
      tenant,
      versionId: `${versionId}-${tenant}`,
      playbook: 'p',
      triggerId: null,
      context: { i },
      initiator: 'playbook:p',
      steps: Array.from({ length: i + 1 }, (_, j) => ({ id: `s${j}`, uses: 'wait.sleep' })),
    }));
    await insertRuns(db().knex, runs);
    for (const [i, run] of runs.entries()) {
      const found = await getRunWithSteps(db().knex, tenant, run.id);
      expect(found?.run).toMatchObject({ status: 'queued', context: { i } });
      expect(found?.steps.map((s) => [s.step_id, s.position, s.status])).toEqual(
        run.steps.map((s, j) => [s.id, j, 'pending']),
      );
    }
  });

  it('finds what stops a step — each switch over it, a disabled playbook — in one query', async () => {
    const stops = () => stepStops(db().knex, tenant, 'p', 'http');
    expect(await stops()).toEqual({ switches: [], disabled: false });
    const set = (
      scope: 'global' | 'tenant' | 'playbook' | 'plugin',
      engaged: boolean,
      t = tenant,
    ) =>
      setKillSwitch(db().knex, {
        scope,
        tenant: scope === 'global' ? null : t,
        target:
          scope === 'global' ? '' : scope === 'tenant' ? t : scope === 'playbook' ? 'p' : 'http',
        engaged,
        actor: 'test',
        reason: null,
      });
    await set('plugin', true);
    await set('playbook', true, other); // another tenant's switch stops nothing here
    await db()
      .knex('playbooks')
      .insert({
        tenant_id: tenant,
        name: 'p',
        current_version_id: `${versionId}-${tenant}`,
        disabled: true,
      });
    const found = await stops();
    expect(found).toEqual({ switches: ['plugin'], disabled: true });
    await set('global', true);
    await set('tenant', true);
    expect((await stops()).switches.sort()).toEqual(['global', 'plugin', 'tenant']);
    for (const scope of ['global', 'tenant', 'plugin'] as const) await set(scope, false);
    await db()
      .knex('playbooks')
      .where({ tenant_id: tenant, name: 'p' })
      .update({ disabled: false });
    expect(await stops()).toEqual({ switches: [], disabled: false });
  });

  it('commits step updates, run statuses and claims inside the append; a lost claim changes nothing', async () => {
    const { ledger } = await createTestLedger(db());
    const [r1, r2] = [await newRun(), await newRun()];
    const theirs = await newRun(other);
    await claimSteps(db().knex, tenant, [{ run: r2, step: 'a' }]); // another worker got there first
    const plan = (step: string) => ({ plan: { step }, input_digest: `sha256:${step}` });
    const parts = chainedRunChanges(tenant, {
      steps: [r1, r2, theirs].flatMap((run) => [
        { run, step: 'a', fields: plan('a') },
        { run, step: 'b', fields: plan('b') },
      ]),
      runs: [r1, r2].map((run) => ({ run, status: 'running' as const, error: null })),
      claims: [r1, r2, theirs].map((run) => ({ run, step: 'a' })),
    });
    if (!parts) throw new Error('no repeats here: expected parts of one statement');
    const { receipts, returned } = await ledger.appendWith(
      tenant,
      [{ kind: 'run.simulated', run: r1 }],
      parts,
    );
    expect(receipts).toHaveLength(1);
    expect([...claimedOf(returned)]).toEqual([`${r1}\u0000a`]);
    const [a1, b1] = await getSteps(db().knex, tenant, r1);
    expect([a1?.status, a1?.plan, a1?.input_digest]).toEqual([
      'running',
      { step: 'a' },
      'sha256:a',
    ]);
    expect([b1?.status, b1?.plan]).toEqual(['pending', { step: 'b' }]);
    const [a2, b2] = await getSteps(db().knex, tenant, r2);
    expect([a2?.status, a2?.plan, b2?.plan]).toEqual(['running', null, { step: 'b' }]);
    expect((await getRunRow(db().knex, tenant, r1))?.status).toBe('running');
    const [t1] = await getSteps(db().knex, other, theirs);
    expect([t1?.status, t1?.plan]).toEqual(['pending', null]);
  });

  it('leaves repeated rows to a transaction, and refuses a claim that sets a status', () => {
    const step = { run: 'r', step: 'a', fields: { error: 'x' } };
    expect(
      chainedRunChanges(tenant, { steps: [step, step], runs: [], claims: [] }),
    ).toBeUndefined();
    expect(() =>
      chainedRunChanges(tenant, {
        steps: [],
        runs: [],
        claims: [{ run: 'r', step: 'a', fields: { status: 'succeeded' } }],
      }),
    ).toThrow(/sets the status itself/);
  });
});
