/**
 * Disabling and enabling playbooks: the row, the receipt (kind and data, in the receipts table),
 * idempotence, one winner among concurrent switches, unknown and other tenants' playbooks.
 */
import { beforeAll, expect, it } from 'vitest';
import type { BreakerTrip } from '../../src/guardrails/breakers.js';
import { disablePlaybook, enablePlaybook } from '../../src/guardrails/playbook-switch.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { parsePlaybook } from '../../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../../src/pipeline/playbook-versions.js';
import { markDisabled } from '../../src/storage/playbook-state.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

const tenant = 'sw';
const other = 'sw-other';

describeEngines('playbook switch', ({ db, engine }) => {
  let ledger: Ledger;
  const deps = () => ({ knex: db().knex, ledger });

  beforeAll(async () => {
    ({ ledger } = await createTestLedger(db()));
    for (const id of [tenant, other]) {
      await createTenant(deps(), { id, tier: 'enterprise' }, 'test');
    }
  });

  async function playbook(name: string, t = tenant): Promise<void> {
    const id = `${t}:${name}`;
    await db()
      .knex('playbook_versions')
      .insert({
        id,
        tenant_id: t,
        name,
        version: 1,
        digest: `sha256:${name}`,
        definition: JSON.stringify({}),
      });
    await db().knex('playbooks').insert({ tenant_id: t, name, current_version_id: id });
  }

  const row = (name: string, t = tenant) =>
    db()
      .knex('playbooks')
      .where({ tenant_id: t, name })
      .first('disabled', 'disabled_reason', 'disabled_at', 'enabled_at');

  /** The receipts of `kind` about playbook `name`, oldest first, as their signed payloads. */
  async function receipts(kind: string, name: string, t = tenant) {
    const rows: Array<{ id: string; body: string }> = await db()
      .knex('receipts')
      .where({ tenant_id: t, kind })
      .orderBy('seq')
      .select('id', 'body');
    return rows
      .map((r) => ({ id: r.id, payload: JSON.parse(r.body) as Record<string, unknown> }))
      .filter((r) => r.payload.playbook === name);
  }

  it('disables a playbook with a playbook.disabled receipt, once', async () => {
    await playbook('p1');
    const first = await disablePlaybook(deps(), tenant, 'p1', {
      actor: 'api:bot',
      reason: 'noisy',
    });
    expect(first).toEqual({ changed: true, receiptId: expect.any(String) });
    expect(await row('p1')).toMatchObject({ disabled: true, disabled_reason: 'noisy' });
    expect((await row('p1'))?.disabled_at).toBeInstanceOf(Date);
    const [receipt, ...more] = await receipts('playbook.disabled', 'p1');
    expect(more).toEqual([]);
    expect(receipt?.id).toBe(first.receiptId);
    expect(receipt?.payload).toMatchObject({
      kind: 'playbook.disabled',
      tenant,
      playbook: 'p1',
      version: 1,
      digest: 'sha256:p1',
      actor: 'api:bot',
      reason: 'noisy',
    });
    expect(receipt?.payload).not.toHaveProperty('rule');

    const again = await disablePlaybook(deps(), tenant, 'p1', { actor: 'cli', reason: 'again' });
    expect(again).toEqual({ changed: false });
    expect(await receipts('playbook.disabled', 'p1')).toHaveLength(1);
    expect((await row('p1'))?.disabled_reason).toBe('noisy');
  });

  it('enables it again: clears the reason, stamps enabled_at, one playbook.enabled receipt', async () => {
    const result = await enablePlaybook(deps(), tenant, 'p1', { actor: 'cli', reason: 'fixed' });
    expect(result).toEqual({ changed: true, receiptId: expect.any(String) });
    const state = await row('p1');
    expect(state).toMatchObject({ disabled: false, disabled_reason: null, disabled_at: null });
    expect(state?.enabled_at).toBeInstanceOf(Date);
    const [receipt] = await receipts('playbook.enabled', 'p1');
    expect(receipt?.id).toBe(result.receiptId);
    expect(receipt?.payload).toMatchObject({
      kind: 'playbook.enabled',
      playbook: 'p1',
      digest: 'sha256:p1',
      actor: 'cli',
      reason: 'fixed',
    });

    expect(await enablePlaybook(deps(), tenant, 'p1', { actor: 'cli' })).toEqual({
      changed: false,
    });
    expect(await receipts('playbook.enabled', 'p1')).toHaveLength(1);
    expect((await row('p1'))?.enabled_at).toEqual(state?.enabled_at);
  });

  it('records the rule and figures of a tripped breaker', async () => {
    await playbook('p2');
    const trip: BreakerTrip = {
      rule: 'consecutiveFailures',
      reason: '3 consecutive failed runs (limit 3)',
      figures: { count: 3, limit: 3, runs: ['r3', 'r2', 'r1'] },
    };
    await disablePlaybook(deps(), tenant, 'p2', { actor: 'breaker', reason: trip.reason, trip });
    const [receipt] = await receipts('playbook.disabled', 'p2');
    expect(receipt?.payload).toMatchObject({
      actor: 'breaker',
      reason: '3 consecutive failed runs (limit 3)',
      rule: 'consecutiveFailures',
      figures: { count: 3, limit: 3, runs: ['r3', 'r2', 'r1'] },
    });
    expect((await row('p2'))?.disabled_reason).toBe('3 consecutive failed runs (limit 3)');
  });

  it('lets exactly one of concurrent disables (and enables) change the playbook', async () => {
    await playbook('p3');
    const disables = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        disablePlaybook(deps(), tenant, 'p3', { actor: `api:t${i}`, reason: `r${i}` }),
      ),
    );
    expect(disables.filter((r) => r.changed)).toHaveLength(1);
    const disabled = await receipts('playbook.disabled', 'p3');
    expect(disabled).toHaveLength(1);
    expect(disabled[0]?.id).toBe(disables.find((r) => r.changed)?.receiptId);

    const enables = await Promise.all(
      Array.from({ length: 8 }, () => enablePlaybook(deps(), tenant, 'p3', { actor: 'cli' })),
    );
    expect(enables.filter((r) => r.changed)).toHaveLength(1);
    expect(await receipts('playbook.enabled', 'p3')).toHaveLength(1);
  });

  it("answers not_found for an unknown playbook and for another tenant's, changing nothing", async () => {
    await playbook('theirs', other);
    for (const name of ['nope', 'theirs']) {
      await expect(
        disablePlaybook(deps(), tenant, name, { actor: 'cli', reason: 'x' }),
      ).rejects.toMatchObject({ name: 'WardenError', code: 'not_found' });
      await expect(enablePlaybook(deps(), tenant, name, { actor: 'cli' })).rejects.toMatchObject({
        code: 'not_found',
      });
    }
    expect((await row('theirs', other))?.disabled).toBe(false);
    expect(await receipts('playbook.disabled', 'theirs', other)).toEqual([]);
  });
  // PGlite runs one transaction at a time: only PostgreSQL can interleave the two.
  it.skipIf(engine === 'pglite')(
    'lets a playbook sync and a disable in flight both commit (rows, then the chain head)',
    async () => {
      const t = 'sw-sync';
      await createTenant(deps(), { id: t, tier: 'enterprise' }, 'test');
      const file = (name: string, revision: number) => {
        const parsed = parsePlaybook(
          `apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name}, owner: test, description: "revision ${revision}" }
spec:
  on: [{ alert: { match: { alertname: ${name} } } }]
  steps: [{ id: pause, uses: wait.sleep, with: { seconds: 1 } }]
`,
          `${name}.yaml`,
        );
        if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
        return { file: `${name}.yaml`, ...parsed };
      };
      await syncPlaybookVersions(deps(), t, [file('p1', 1), file('p2', 1)]);
      // A disable of p2 as switchPlaybook makes it (the row, then the receipt), held open between
      // the two while another replica starts and syncs a changed p1.
      let marked = () => {};
      const isMarked = new Promise<void>((r) => {
        marked = r;
      });
      const disable = db().knex.transaction(async (trx) => {
        await markDisabled(trx, t, 'p2', 'test');
        marked();
        await new Promise((r) => setTimeout(r, 300));
        await ledger.appendIn(trx, t, [{ kind: 'playbook.disabled', data: { playbook: 'p2' } }]);
      });
      await isMarked;
      const sync = syncPlaybookVersions(deps(), t, [file('p1', 2), file('p2', 1)]);
      const settled = await Promise.allSettled([disable, sync]);
      expect(settled.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status))).toEqual([
        'fulfilled',
        'fulfilled',
      ]);
      expect((await row('p2', t))?.disabled).toBe(true);
      expect((await receipts('playbook.version', 'p1', t)).map((r) => r.payload.version)).toEqual([
        1, 2,
      ]);
    },
  );
});
