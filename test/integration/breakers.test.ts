/**
 * Breakers against real rows: runs, steps and triggers inserted with controlled timestamps, checked
 * at a controlled `now` — what each rule counts, its edges, re-enabling, and tenant isolation.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AutoDisable, checkBreakers, checkRefire } from '../../src/guardrails/breakers.js';
import type { RunStatus, StepStatus } from '../../src/storage/runs.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

const tenant = 'brk';
const other = 'brk-other';
const t0 = Date.parse('2026-03-01T12:00:00Z');
/** `t0` plus `m` minutes. */
const at = (m: number) => new Date(t0 + m * 60_000);
const minute = 60_000;

const rules = (r: Partial<AutoDisable>): AutoDisable => r as AutoDisable;

interface NewRun {
  playbook: string;
  status: RunStatus;
  /** Minutes after t0; null for an unfinished run. @defaultValue created + 1 */
  finished?: number | null;
  /** Minutes after t0. @defaultValue finished − 1 */
  created?: number;
  tenant?: string;
  trigger?: string;
  steps?: Array<{ status: StepStatus; finished?: number }>;
}

describeEngines('breakers', ({ db }) => {
  const knex = () => db().knex;

  beforeAll(async () => {
    const { ledger } = await createTestLedger(db());
    for (const id of [tenant, other]) {
      await createTenant({ knex: knex(), ledger }, { id, tier: 'enterprise' }, 'test');
    }
  });

  /** A playbook of that name in both tenants (each test uses its own name). */
  async function playbook(name: string): Promise<string> {
    for (const t of [tenant, other]) {
      const id = `${t}:${name}`;
      await knex()('playbook_versions').insert({
        id,
        tenant_id: t,
        name,
        version: 1,
        digest: `sha256:${t}:${name}`,
        definition: JSON.stringify({}),
      });
      await knex()('playbooks').insert({ tenant_id: t, name, current_version_id: id });
    }
    return name;
  }

  async function run(r: NewRun): Promise<string> {
    const t = r.tenant ?? tenant;
    const finished = r.finished === undefined ? (r.created ?? 0) + 1 : r.finished;
    const created = r.created ?? (finished ?? 1) - 1;
    const id = randomUUID();
    await knex()('runs').insert({
      id,
      tenant_id: t,
      playbook_version_id: `${t}:${r.playbook}`,
      playbook_name: r.playbook,
      trigger_id: r.trigger ?? null,
      status: r.status,
      context: JSON.stringify({}),
      created_at: at(created).toISOString(),
      updated_at: at(finished ?? created).toISOString(),
      finished_at: finished === null ? null : at(finished).toISOString(),
    });
    for (const [position, s] of (r.steps ?? []).entries()) {
      await knex()('run_steps').insert({
        run_id: id,
        tenant_id: t,
        step_id: `s${position}`,
        position,
        uses: 'http.request',
        status: s.status,
        finished_at: s.finished === undefined ? null : at(s.finished).toISOString(),
      });
    }
    return id;
  }

  async function trigger(fingerprint: string, t = tenant): Promise<string> {
    const id = randomUUID();
    await knex()('triggers').insert({
      id,
      tenant_id: t,
      source: 'alertmanager',
      kind: 'alert',
      status: 'firing',
      fingerprint,
      dedup_key: id,
      labels: JSON.stringify({ alertname: 'Lag' }),
      annotations: JSON.stringify({}),
      links: JSON.stringify({}),
      delivery: JSON.stringify({}),
      body_digest: 'sha256:0',
      received_at: at(0).toISOString(),
      receipt_id: randomUUID(),
    });
    return id;
  }

  const failures = (playbook: string, minutes: number[], t = tenant) =>
    Promise.all(
      minutes.map((finished) => run({ playbook, status: 'failed', finished, tenant: t })),
    );

  describe('consecutiveFailures', () => {
    const three = rules({ consecutiveFailures: 3 });

    it('trips at exactly N failed runs in a row, not at N−1', async () => {
      const p = await playbook('cf-exact');
      const [first, second] = await failures(p, [1, 2]);
      expect(await checkBreakers(knex(), tenant, p, three, at(10))).toBeUndefined();
      const third = await run({ playbook: p, status: 'failed', finished: 3 });
      const trip = await checkBreakers(knex(), tenant, p, three, at(10));
      expect(trip).toEqual({
        rule: 'consecutiveFailures',
        reason: '3 consecutive failed runs (limit 3)',
        figures: {
          count: 3,
          limit: 3,
          windowStart: at(1).toISOString(),
          windowEnd: at(3).toISOString(),
          runs: [third, second, first],
        },
      });
    });

    it('starts again after a success, and a denied run also breaks the streak', async () => {
      const p = await playbook('cf-reset');
      await failures(p, [1, 2]);
      await run({ playbook: p, status: 'succeeded', finished: 3 });
      await failures(p, [4, 5]);
      expect(await checkBreakers(knex(), tenant, p, three, at(10))).toBeUndefined();
      await run({ playbook: p, status: 'denied', finished: 6 });
      await failures(p, [7, 8]);
      expect(await checkBreakers(knex(), tenant, p, three, at(10))).toBeUndefined();
      await failures(p, [9]);
      expect((await checkBreakers(knex(), tenant, p, three, at(10)))?.rule).toBe(
        'consecutiveFailures',
      );
    });

    it('ignores cancelled and unfinished runs, and runs finished after `now`', async () => {
      const p = await playbook('cf-ignore');
      await failures(p, [1, 2]);
      await run({ playbook: p, status: 'cancelled', finished: 3 });
      await run({ playbook: p, status: 'running', created: 3, finished: null });
      await run({ playbook: p, status: 'awaiting_approval', created: 3, finished: null });
      await run({ playbook: p, status: 'succeeded', finished: 20 });
      await failures(p, [4]);
      const trip = await checkBreakers(knex(), tenant, p, three, at(10));
      expect(trip?.figures.count).toBe(3);
      // At 20 minutes the success that finished then is the newest settled run.
      expect(await checkBreakers(knex(), tenant, p, three, at(20))).toBeUndefined();
    });

    it('counts only this playbook', async () => {
      const p = await playbook('cf-mine');
      const q = await playbook('cf-theirs');
      await failures(p, [1, 2]);
      await failures(q, [3, 4, 5]);
      expect(await checkBreakers(knex(), tenant, p, three, at(10))).toBeUndefined();
    });
  });

  describe('failureRate', () => {
    const rate = rules({ failureRate: { above: 0.5, window: 60 * minute, minRuns: 4 } });

    it('waits for minRuns settled runs in the window', async () => {
      const p = await playbook('fr-min');
      await failures(p, [1, 2, 3]);
      expect(await checkBreakers(knex(), tenant, p, rate, at(30))).toBeUndefined();
      await run({ playbook: p, status: 'succeeded', finished: 4 });
      expect(await checkBreakers(knex(), tenant, p, rate, at(30))).toMatchObject({
        rule: 'failureRate',
        reason: '3 of 4 runs failed in the last 1h (75% > 50%, at least 4 runs)',
        figures: {
          failed: 3,
          total: 4,
          rate: 0.75,
          above: 0.5,
          minRuns: 4,
          windowMs: 3_600_000,
          windowStart: at(-30).toISOString(),
          windowEnd: at(30).toISOString(),
        },
      });
    });

    it('trips only strictly above the rate; denied runs count as settled, cancelled do not', async () => {
      const p = await playbook('fr-above');
      await failures(p, [1, 2]);
      await run({ playbook: p, status: 'succeeded', finished: 3 });
      await run({ playbook: p, status: 'denied', finished: 4 });
      await run({ playbook: p, status: 'cancelled', finished: 5 });
      expect(await checkBreakers(knex(), tenant, p, rate, at(30))).toBeUndefined(); // 2/4 = 0.5
      const third = await run({ playbook: p, status: 'failed', finished: 6 });
      const trip = await checkBreakers(knex(), tenant, p, rate, at(30));
      expect(trip?.figures).toMatchObject({ failed: 3, total: 5, rate: 0.6 });
      expect(trip?.figures.runs).toEqual([third, expect.any(String), expect.any(String)]);
    });

    it('forgets runs that finished before the window', async () => {
      const p = await playbook('fr-window');
      await failures(p, [1, 2, 3, 4]);
      expect((await checkBreakers(knex(), tenant, p, rate, at(60)))?.rule).toBe('failureRate');
      expect(await checkBreakers(knex(), tenant, p, rate, at(62))).toBeUndefined();
    });
  });

  describe('denials', () => {
    const denials = rules({ denials: { count: 3, window: 30 * minute } });

    it('counts denied steps finished in the window, not older ones nor other statuses', async () => {
      const p = await playbook('dn');
      await run({
        playbook: p,
        status: 'denied',
        finished: 5,
        steps: [{ status: 'denied', finished: 5 }],
      });
      const old = await run({
        playbook: p,
        status: 'denied',
        finished: 10,
        steps: [{ status: 'denied', finished: 10 }],
      });
      await run({
        playbook: p,
        status: 'failed',
        finished: 41,
        steps: [
          { status: 'failed', finished: 41 },
          { status: 'rolled_back', finished: 41 },
        ],
      });
      const twice = await run({
        playbook: p,
        status: 'denied',
        finished: 45,
        steps: [
          { status: 'succeeded', finished: 44 },
          { status: 'denied', finished: 45 },
        ],
      });
      expect(await checkBreakers(knex(), tenant, p, denials, at(50))).toBeUndefined();
      const last = await run({
        playbook: p,
        status: 'awaiting_approval',
        finished: null,
        created: 47,
        steps: [
          { status: 'denied', finished: 48 },
          { status: 'denied', finished: 49 },
        ],
      });
      const trip = await checkBreakers(knex(), tenant, p, denials, at(50));
      expect(trip).toEqual({
        rule: 'denials',
        reason: '3 denied steps in the last 30m (limit 3)',
        figures: {
          count: 3,
          limit: 3,
          windowMs: 1_800_000,
          windowStart: at(20).toISOString(),
          windowEnd: at(50).toISOString(),
          runs: [last, twice],
          steps: [`${last}/s1`, `${last}/s0`, `${twice}/s1`],
        },
      });
      expect(JSON.stringify(trip)).not.toContain(old);
    });

    it('does not count another playbook’s denials', async () => {
      const p = await playbook('dn-mine');
      const q = await playbook('dn-theirs');
      await run({
        playbook: q,
        status: 'denied',
        steps: [1, 2, 3].map(() => ({ status: 'denied', finished: 1 })),
      });
      await run({ playbook: p, status: 'denied', steps: [{ status: 'denied', finished: 1 }] });
      expect(await checkBreakers(knex(), tenant, p, denials, at(2))).toBeUndefined();
      expect((await checkBreakers(knex(), tenant, q, denials, at(2)))?.rule).toBe('denials');
    });
  });

  describe('refire', () => {
    const within = 15 * minute;

    it('trips when the alert fires again within refireWithin of a successful run for it', async () => {
      const p = await playbook('rf');
      const trig = await trigger('fp-rf');
      const mitigation = await run({
        playbook: p,
        status: 'succeeded',
        finished: 10,
        trigger: trig,
      });
      expect(await checkRefire(knex(), tenant, p, within, 'fp-rf', at(20))).toEqual({
        rule: 'refire',
        reason: `alert fp-rf fired again 10m after run ${mitigation} mitigated it (limit 15m)`,
        figures: {
          fingerprint: 'fp-rf',
          run: mitigation,
          trigger: trig,
          mitigatedAt: at(10).toISOString(),
          refiredAt: at(20).toISOString(),
          afterMs: 600_000,
          limitMs: 900_000,
          windowStart: at(5).toISOString(),
          windowEnd: at(20).toISOString(),
        },
      });
    });

    it('does not trip outside the window, for another fingerprint, or after a failed run', async () => {
      const p = await playbook('rf-not');
      await run({ playbook: p, status: 'succeeded', finished: 10, trigger: await trigger('fp-a') });
      await run({ playbook: p, status: 'failed', finished: 18, trigger: await trigger('fp-b') });
      await run({ playbook: p, status: 'denied', finished: 18, trigger: await trigger('fp-b') });
      expect(await checkRefire(knex(), tenant, p, within, 'fp-a', at(26))).toBeUndefined();
      expect((await checkRefire(knex(), tenant, p, within, 'fp-a', at(24)))?.rule).toBe('refire');
      expect(await checkRefire(knex(), tenant, p, within, 'fp-c', at(20))).toBeUndefined();
      expect(await checkRefire(knex(), tenant, p, within, 'fp-b', at(20))).toBeUndefined();
      expect(await checkRefire(knex(), tenant, p, undefined, 'fp-a', at(20))).toBeUndefined();
      expect(await checkRefire(knex(), tenant, p, within, null, at(20))).toBeUndefined();
    });

    it('names the newest mitigation and ignores another playbook’s', async () => {
      const p = await playbook('rf-newest');
      const q = await playbook('rf-other-playbook');
      const trig = await trigger('fp-n');
      await run({ playbook: p, status: 'succeeded', finished: 10, trigger: trig });
      const newest = await run({ playbook: p, status: 'succeeded', finished: 12, trigger: trig });
      await run({ playbook: q, status: 'succeeded', finished: 14, trigger: trig });
      expect((await checkRefire(knex(), tenant, p, within, 'fp-n', at(20)))?.figures.run).toBe(
        newest,
      );
      expect(await checkRefire(knex(), tenant, p, within, 'fp-n', at(28))).toBeUndefined();
    });
  });

  describe('re-enabling and rules', () => {
    it('counts only runs created after the playbook was last enabled', async () => {
      const p = await playbook('re');
      const all = rules({
        consecutiveFailures: 2,
        failureRate: { above: 0.1, window: 60 * minute, minRuns: 1 },
        denials: { count: 1, window: 60 * minute },
        refireWithin: 60 * minute,
      });
      const trig = await trigger('fp-re');
      await failures(p, [1, 2]);
      await run({
        playbook: p,
        status: 'denied',
        finished: 3,
        steps: [{ status: 'denied', finished: 3 }],
      });
      await run({ playbook: p, status: 'succeeded', finished: 4, trigger: trig });
      // Created at 4, finished at 6: started before the enable, so it does not count either.
      await run({ playbook: p, status: 'failed', created: 4, finished: 6 });
      expect(await checkBreakers(knex(), tenant, p, all, at(10))).toBeDefined();
      expect(await checkRefire(knex(), tenant, p, all.refireWithin, 'fp-re', at(10))).toBeDefined();

      await knex()('playbooks')
        .where({ tenant_id: tenant, name: p })
        .update({ enabled_at: at(5).toISOString() });
      expect(await checkBreakers(knex(), tenant, p, all, at(10))).toBeUndefined();
      expect(
        await checkRefire(knex(), tenant, p, all.refireWithin, 'fp-re', at(10)),
      ).toBeUndefined();

      const fresh = await failures(p, [7, 8]);
      expect(await checkBreakers(knex(), tenant, p, all, at(10))).toMatchObject({
        rule: 'consecutiveFailures',
        figures: { runs: fresh.reverse() },
      });
    });

    it('checks only the rules given', async () => {
      const p = await playbook('none');
      await failures(p, [1, 2, 3, 4, 5]);
      await run({ playbook: p, status: 'denied', steps: [{ status: 'denied', finished: 6 }] });
      expect(await checkBreakers(knex(), tenant, p, rules({}), at(10))).toBeUndefined();
      expect(
        (
          await checkBreakers(
            knex(),
            tenant,
            p,
            rules({ denials: { count: 1, window: minute * 60 } }),
            at(10),
          )
        )?.rule,
      ).toBe('denials');
    });

    it('uses the database clock without `now`: a run settled in the same transaction counts', async () => {
      const p = await playbook('clock');
      const trip = await knex().transaction(async (trx) => {
        for (let i = 0; i < 2; i++) {
          await trx('runs').insert({
            id: randomUUID(),
            tenant_id: tenant,
            playbook_version_id: `${tenant}:${p}`,
            playbook_name: p,
            status: 'failed',
            context: JSON.stringify({}),
            finished_at: trx.fn.now(),
          });
        }
        return checkBreakers(trx, tenant, p, rules({ consecutiveFailures: 2 }));
      });
      expect(trip?.rule).toBe('consecutiveFailures');
    });
  });

  describe('tenant isolation', () => {
    it('never counts another tenant’s runs, denials or mitigations', async () => {
      const p = await playbook('iso');
      const trig = await trigger('fp-iso', other);
      await run({ playbook: p, tenant: other, status: 'succeeded', finished: 1, trigger: trig });
      await failures(p, [2, 3], other);
      await run({
        playbook: p,
        tenant: other,
        status: 'failed',
        finished: 4,
        steps: [{ status: 'denied', finished: 4 }],
      });
      const each = [
        { consecutiveFailures: 1 },
        { failureRate: { above: 0, window: 60 * minute, minRuns: 1 } },
        { denials: { count: 1, window: 60 * minute } },
      ].map(rules);
      for (const r of each) {
        expect(await checkBreakers(knex(), tenant, p, r, at(10))).toBeUndefined();
        // The same rows do trip the tenant they belong to.
        expect(await checkBreakers(knex(), other, p, r, at(10))).toBeDefined();
      }
      expect(await checkRefire(knex(), tenant, p, minute * 60, 'fp-iso', at(10))).toBeUndefined();
      expect(await checkRefire(knex(), other, p, minute * 60, 'fp-iso', at(10))).toBeDefined();
    });
  });
});
