/**
 * Ingest under a race: two ingests over one database (two replicas receiving the same deliveries
 * at once, as from an Alertmanager HA pair) store each alert state once, answer the other copy
 * as a duplicate with the same trigger id, and start its runs once. On PostgreSQL their
 * transactions overlap, so a dedup key stored by one while the other is under way makes the
 * other's insert fail on the unique key and its batch go again; PGlite runs them in turn.
 */
import { expect, it } from 'vitest';
import { exportBundle } from '../../src/ledger/bundle.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { parsePlaybook } from '../../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../../src/pipeline/playbook-versions.js';
import { createStartRuns } from '../../src/pipeline/start-runs.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { createIngest } from '../../src/triggers/ingest.js';
import type { Accepted, TriggerDraft } from '../../src/triggers/trigger-event.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

const playbook = `
apiVersion: warden/v1
kind: Playbook
metadata: { name: race, owner: team }
spec:
  on:
    - alert: { match: { alertname: Race } }
  steps:
    - id: wait
      uses: wait.sleep
      with: { ms: 1 }
`;

function alert(i: number): TriggerDraft {
  return {
    source: 'alertmanager',
    kind: 'alert',
    status: 'firing',
    fingerprint: `race-${i}`,
    dedupKey: `race-${i}:firing`,
    labels: { alertname: 'Race', i: String(i) },
    annotations: {},
    startsAt: '2026-11-24T10:00:00Z',
    endsAt: null,
    eventType: null,
    data: null,
    links: {},
  };
}

describeEngines('ingest: two replicas receive the same alerts at once', ({ db }) => {
  it('stores each alert state once, answers the copies as duplicates and starts each run once', async () => {
    const tenant = 'race';
    const knex = db().knex;
    const { ledger } = await createTestLedger(db());
    await createTenant({ knex, ledger }, { id: tenant, tier: 'pro' }, 'test');
    const parsed = parsePlaybook(playbook, 'race.yaml');
    if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
    await syncPlaybookVersions({ knex, ledger }, tenant, [{ file: 'race.yaml', ...parsed }]);
    // Two replicas: each its own ingest (group commit) and its own ledger, over one database.
    const { ledger: other } = await createTestLedger(db());
    const replicas = [ledger, other].map((l) =>
      createIngest({ knex, ledger: l, startRuns: createStartRuns() }),
    );
    const n = 40;
    const delivery = (r: number) => ({
      bodyDigest: `sha256:${r}`,
      receivedAt: new Date(),
      meta: { replica: r },
    });
    // Each alert arrives at both replicas at once, alone and in small deliveries of three.
    const answers: Accepted[] = [];
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const drafts = i % 2 === 0 ? [alert(i)] : [alert(i), alert((i + 1) % n), alert(i)];
        const both = await Promise.all(
          replicas.map((ingest, r) => ingest.accept(tenant, delivery(r), drafts)),
        );
        answers.push(...both.flat());
      }),
    );

    const stored = await knex('triggers').where({ tenant_id: tenant }).select('id', 'dedup_key');
    expect(stored).toHaveLength(n);
    const idOf = new Map(stored.map((t: { id: string; dedup_key: string }) => [t.dedup_key, t.id]));
    // Every answer names the one stored trigger of its key; exactly one answer per key is fresh.
    const fresh = answers.filter((a) => !a.duplicate);
    expect(fresh).toHaveLength(n);
    expect(new Set(fresh.map((a) => a.triggerId))).toEqual(new Set(idOf.values()));
    for (const a of answers) {
      expect([...idOf.values()]).toContain(a.triggerId);
      if (a.duplicate) expect(a.runs).toEqual([]);
      else expect(a.runs).toHaveLength(1);
    }
    const runs = await knex('runs').where({ tenant_id: tenant }).select('trigger_id');
    expect(runs).toHaveLength(n);
    expect(new Set(runs.map((r: { trigger_id: string }) => r.trigger_id)).size).toBe(n);
    // One trigger.received receipt per stored trigger, in one chain both replicas wrote to.
    const bundle = await exportBundle(knex, tenant);
    const received = bundle.receipts.filter((r) => r.payload.kind === 'trigger.received');
    expect(received.map((r) => r.payload.trigger).sort()).toEqual([...idOf.values()].sort());
    expect(verifyBundle(bundle).ok).toBe(true);
  });
});
