/**
 * Retention purge end to end on both engines: real ingest, runs, ledger and anchoring seed content
 * 400 days old and fresh; a dry run changes nothing; a purge removes the old content from every
 * table and from a full-disclosure export, leaves fresh content and other tenants alone, keeps the
 * bundle verifiable and earlier inclusion proofs valid, and signs a manifest whose digests match
 * the stored id lists.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAnchoring } from '../../src/ledger/anchor.js';
import { exportBundle } from '../../src/ledger/bundle.js';
import { decodeDisclosure } from '../../src/ledger/disclosure.js';
import { createSigner, generateSigningKey } from '../../src/ledger/ed25519.js';
import { createLedger } from '../../src/ledger/ledger.js';
import { leafHash, verifyInclusion } from '../../src/ledger/merkle.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { idsDigest } from '../../src/retention/ids-digest.js';
import { retentionSchema } from '../../src/retention/policy.js';
import { type PurgeManifest, purge } from '../../src/retention/purge.js';
import { createRetentionJob } from '../../src/retention/schedule.js';
import { getCheckpoint } from '../../src/storage/merkle.js';
import type { TriggerDraft } from '../../src/triggers/trigger-event.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';

const playbook = `
apiVersion: warden/v1
kind: Playbook
metadata: { name: look }
spec:
  on:
    - alert: { match: { alertname: Look } }
  steps:
    - { id: look, uses: probe.look, with: { label: "{{ alert.annotations.note }}" } }
`;

const day = 86_400_000;

describeEngines('retention purge', ({ db }) => {
  const probe = createProbe();
  const signer = createSigner(generateSigningKey());
  const old = new Date(Date.now() - 400 * day);
  let clock = old;
  let g: Awaited<ReturnType<typeof startGuarded>>;
  const knex = () => db().knex;
  const policy = retentionSchema.parse(undefined);
  const now = new Date();
  const anchoring = () =>
    createAnchoring({
      knex: knex(),
      signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async () => true,
      logger: pino({ level: 'silent' }),
    });
  /** Content markers: each appears only in a trigger's annotations and what runs made of them. */
  const marker = { old: `old${randomUUID().slice(0, 8)}`, fresh: `new${randomUUID().slice(0, 8)}` };
  const otherMarker = `oth${randomUUID().slice(0, 8)}`;
  const seeded = { triggers: [] as string[], runs: [] as string[] };

  /** One alert whose annotation `note` the playbook's step takes as input; its trigger and runs. */
  async function fire(tenant: string, note: string, receivedAt: Date) {
    const fingerprint = randomUUID().slice(0, 16);
    const draft: TriggerDraft = {
      source: 'alertmanager',
      kind: 'alert',
      status: 'firing',
      fingerprint,
      dedupKey: `${fingerprint}:firing`,
      labels: { alertname: 'Look' },
      annotations: { note },
      startsAt: receivedAt.toISOString(),
      endsAt: null,
      eventType: null,
      data: null,
      links: { generatorURL: 'https://prometheus.example/graph' },
    };
    const delivery = { bodyDigest: `sha256:${randomUUID()}`, receivedAt, meta: {} };
    const [accepted] = await g.ingest.accept(tenant, delivery, [draft]);
    await g.idle();
    const runs = accepted?.runs ?? [];
    // Runs are stamped by the database clock: age them as the ledger clock aged their receipts.
    await knex()('runs')
      .whereIn('id', runs)
      .update({ created_at: receivedAt, finished_at: receivedAt });
    return { trigger: accepted?.triggerId as string, runs };
  }

  /**
   * Which of the tenant's tables still hold `text`, Disclosures decoded — receipts included: they are
   * kept forever, so what a step was given may only be in their private fields (the Disclosures).
   */
  async function tablesHolding(tenant: string, text: string): Promise<string[]> {
    const { rows } = await knex().raw(
      `select table_name from information_schema.columns
       where column_name = 'tenant_id' and table_schema = current_schema()
       order by table_name`,
    );
    const found: string[] = [];
    for (const { table_name: table } of rows as Array<{ table_name: string }>) {
      const all = await knex().raw('select t::text as row from ?? t where tenant_id = ?', [
        table,
        tenant,
      ]);
      if ((all.rows as Array<{ row: string }>).some((r) => r.row.includes(text))) found.push(table);
    }
    const disclosures = await knex()('receipt_disclosures').where({ tenant_id: tenant });
    if (disclosures.some((d) => JSON.stringify(decodeDisclosure(d.disclosure)).includes(text))) {
      found.push('receipt_disclosures (decoded)');
    }
    return found;
  }

  const receiptCount = async (tenant: string) =>
    Number((await knex()('receipts').where({ tenant_id: tenant }).count())[0]?.count);

  beforeAll(async () => {
    const ledger = await createLedger({ knex: knex(), signer, clock: () => clock });
    g = await startGuarded({
      db: db(),
      ledger,
      extraPlugins: [probe.plugin],
      tenants: [
        { id: 'acme', playbooks: { look: playbook } },
        { id: 'other', playbooks: { look: playbook } },
      ],
    });
    for (let i = 0; i < 3; i++) {
      const { trigger, runs } = await fire('acme', marker.old, new Date(old.getTime() + i));
      seeded.triggers.push(trigger);
      seeded.runs.push(...runs);
    }
    await fire('other', otherMarker, old);
    clock = new Date();
    await fire('acme', marker.fresh, new Date());
  });

  afterAll(async () => {
    await g?.close();
  });

  it('seeds old content that runs carried into every table', async () => {
    expect(seeded.runs).toHaveLength(3);
    expect(probe.calls.filter((c) => c.label === marker.old)).toHaveLength(3);
    expect(await tablesHolding('acme', marker.old)).toEqual([
      'run_steps',
      'runs',
      'triggers',
      'receipt_disclosures (decoded)',
    ]);
  });

  it('computes the manifest on a dry run but deletes nothing and appends no receipt', async () => {
    const before = await receiptCount('acme');
    const dry = await purge(
      { knex: knex(), ledger: g.ledger },
      { tenant: 'acme', policy, now, dryRun: true },
    );
    expect(dry.receipt).toBeUndefined();
    expect(dry.manifest.dryRun).toBe(true);
    expect(dry.ids.triggerBodies).toEqual([...seeded.triggers].sort());
    expect(dry.ids.runDetails).toEqual([...seeded.runs].sort());
    expect(dry.ids.disclosures.length).toBeGreaterThan(0);
    expect(await receiptCount('acme')).toBe(before);
    expect(await tablesHolding('acme', marker.old)).toHaveLength(4);
  });

  it('purges old content everywhere, keeps the rest, and old proofs still verify', async () => {
    const cp = await anchoring().anchor('acme');
    const before = await exportBundle(knex(), 'acme', { disclose: 'all' });
    const oldIds = new Set(
      before.receipts
        .filter((r) => new Date(r.payload.at) < new Date(Date.now() - 300 * day))
        .map((r) => r.payload.id),
    );
    const proof = before.proofs.find((p) =>
      before.disclosures.some((d) => d.receiptId === p.receiptId && oldIds.has(p.receiptId)),
    );
    expect(proof).toBeDefined();
    const dry = await purge(
      { knex: knex(), ledger: g.ledger },
      { tenant: 'acme', policy, now, dryRun: true },
    );

    const done = await purge({ knex: knex(), ledger: g.ledger }, { tenant: 'acme', policy, now });
    expect(done.manifest).toEqual({ ...dry.manifest, dryRun: false });
    expect(done.receipt?.payload).toMatchObject({ kind: 'retention.purged', ...done.manifest });

    // Gone from every table and from a full-disclosure export; fresh content and `other` remain.
    expect(await tablesHolding('acme', marker.old)).toEqual([]);
    expect(await tablesHolding('acme', marker.fresh)).toEqual([
      'run_steps',
      'runs',
      'triggers',
      'receipt_disclosures (decoded)',
    ]);
    expect(await tablesHolding('other', otherMarker)).toHaveLength(4);
    const trigger = await knex()('triggers').where({ id: seeded.triggers[0] }).first();
    expect(trigger).toMatchObject({ labels: {}, annotations: {}, data: null, kind: 'alert' });
    expect(trigger.body_digest).toMatch(/^sha256:/);
    await anchoring().anchor('acme');
    const after = await exportBundle(knex(), 'acme', { disclose: 'all' });
    expect(
      JSON.stringify(after.disclosures.map((d) => decodeDisclosure(d.disclosure))),
    ).not.toContain(marker.old);
    expect(after.disclosures.filter((d) => oldIds.has(d.receiptId))).toEqual([]);
    expect(after.disclosures.length).toBeGreaterThan(0);
    const report = verifyBundle(after);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(after.receipts).toHaveLength(before.receipts.length + 1);

    // The proof taken before the purge still leads from the receipt's stored bytes to the old root.
    const p = proof as (typeof before.proofs)[number];
    const row = await knex()('receipts').where({ id: p.receiptId }).first('body');
    expect(
      verifyInclusion(
        leafHash(Buffer.from(row.body, 'utf8')),
        p.leafIndex,
        p.treeSize,
        p.hashes.map((h) => Buffer.from(h, 'base64')),
        cp?.root as Buffer,
      ),
    ).toBe(true);
    expect((await getCheckpoint(knex(), 'acme'))?.size).toBeGreaterThan(cp?.size as number);
  });

  it('signs a manifest whose digests an auditor recomputes from the stored ids', async () => {
    const row = await knex()('receipts')
      .where({ tenant_id: 'acme', kind: 'retention.purged' })
      .first('id', 'body');
    const signed = JSON.parse(row.body) as PurgeManifest;
    const stored = await knex()('purge_manifests')
      .where({ tenant_id: 'acme', receipt_id: row.id })
      .first('body');
    const ids = stored.body.ids as Record<string, string[]>;
    expect(ids.triggerBodies).toEqual([...seeded.triggers].sort());
    expect(ids.runDetails).toEqual([...seeded.runs].sort());
    for (const c of signed.categories) {
      expect(c.idsDigest).toBe(idsDigest(ids[c.name] ?? []));
      expect(c.count).toBe(ids[c.name]?.length);
    }
    expect(signed.categories.find((c) => c.name === 'disclosures')?.count).toBeGreaterThan(0);
    await expect(knex()('purge_manifests').where({ receipt_id: row.id }).del()).rejects.toThrow(
      /append-only/,
    );
  });

  it('lists nothing twice: a second purge finds nothing left to purge', async () => {
    const again = await purge({ knex: knex(), ledger: g.ledger }, { tenant: 'acme', policy, now });
    expect(again.manifest.categories.map((c) => c.count)).toEqual([0, 0, 0]);
  });

  it("runs as serve's job: purges only the tenants with something past their windows", async () => {
    const job = createRetentionJob({
      knex: knex(),
      ledger: g.ledger,
      logger: pino({ level: 'silent' }),
      tenants: [
        { id: 'acme', retention: policy },
        { id: 'other', retention: policy },
      ],
    });
    const receipts = async (t: string) =>
      (await knex()('receipts').where({ tenant_id: t, kind: 'retention.purged' })).length;
    const [acmeBefore, otherBefore] = [await receipts('acme'), await receipts('other')];
    expect(await job.runOnce(now)).toEqual(['other']); // acme was purged above
    expect(await receipts('acme')).toBe(acmeBefore);
    expect(await receipts('other')).toBe(otherBefore + 1);
    expect(await job.runOnce(now)).toEqual([]);
    expect(await receipts('other')).toBe(otherBefore + 1);
  });
});
