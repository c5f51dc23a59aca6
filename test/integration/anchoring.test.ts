/**
 * Anchoring end to end on both engines: receipts are appended to the tenant's Merkle log in
 * batches, checkpoints are C2SP signed notes by the ledger key, an export carries an inclusion
 * proof for every covered receipt and verifies offline; one flipped byte in a proof, the checkpoint
 * or a receipt fails; consistency proofs show the log only grew; the log refuses rewrites.
 */
import pino from 'pino';
import { beforeAll, expect, it } from 'vitest';
import { createAnchoring, hashesOf } from '../../src/ledger/anchor.js';
import { exportBundle } from '../../src/ledger/bundle.js';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { createSigner, generateSigningKey, rawPublicKey } from '../../src/ledger/ed25519.js';
import { createLedger, type Ledger } from '../../src/ledger/ledger.js';
import { consistencyProof, verifyConsistency } from '../../src/ledger/merkle.js';
import { verifierKey } from '../../src/ledger/signed-note.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { Secret } from '../../src/secret.js';
import { getCheckpoint } from '../../src/storage/merkle.js';
import { createTenant, createToken } from '../../src/tenancy/tenants.js';
import { buildApp } from '../helpers/app.js';
import { describeEngines } from '../helpers/database.js';

describeEngines('anchoring', ({ db }) => {
  const signer = createSigner(generateSigningKey());
  let ledger: Ledger;
  const tenant = 'anchored';
  const origin = `warden.test/${tenant}`;
  const anchoring = () =>
    createAnchoring({
      knex: db().knex,
      signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async () => true,
      logger: pino({ level: 'silent' }),
      batch: 128,
    });
  const append = (n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        ledger.append(tenant, { kind: 'trigger.received', data: { i } }),
      ),
    );

  beforeAll(async () => {
    ledger = await createLedger({ knex: db().knex, signer });
    await createTenant({ knex: db().knex, ledger }, { id: tenant, tier: 'enterprise' }, 'test');
  });

  it('anchors every receipt in batches and signs a checkpoint the ledger key verifies', async () => {
    await append(300);
    const cp = await anchoring().anchor(tenant);
    const total = Number(
      (await db().knex('receipts').where({ tenant_id: tenant }).count())[0]?.count,
    );
    expect(cp?.size).toBe(total);
    const vkey = verifierKey(origin, rawPublicKey(signer.publicKey));
    const v = verifyCheckpoint(cp?.note ?? '', vkey, origin);
    expect(v.ok).toBe(true);
    expect(v.checkpoint?.rootHash.equals(cp?.root as Buffer)).toBe(true);
    // Nothing pending: anchoring again adds no checkpoint.
    expect((await anchoring().anchor(tenant))?.size).toBe(total);
  });

  it('exports a bundle whose every receipt is proven, and any flipped byte fails', async () => {
    const bundle = await exportBundle(db().knex, tenant);
    expect(bundle.proofs).toHaveLength(bundle.receipts.length);
    const report = verifyBundle(bundle);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.find((c) => c.name === 'inclusion')?.detail).toMatch(
      /receipt\(s\) proven/,
    );

    const flipProof = structuredClone(bundle);
    const h = Buffer.from(flipProof.proofs[7]?.hashes[0] as string, 'base64');
    h[0] = (h[0] as number) ^ 1;
    (flipProof.proofs[7] as { hashes: string[] }).hashes[0] = h.toString('base64');
    expect(verifyBundle(flipProof).checks.find((c) => c.name === 'inclusion')?.ok).toBe(false);

    const flipCheckpoint = structuredClone(bundle);
    flipCheckpoint.checkpoint = (bundle.checkpoint as string).replace(
      /\n(\d+)\n/,
      (_, n) => `\n${Number(n) - 1}\n`,
    );
    expect(verifyBundle(flipCheckpoint).checks.find((c) => c.name === 'checkpoint')?.ok).toBe(
      false,
    );

    const dropProof = structuredClone(bundle);
    dropProof.proofs.splice(3, 1);
    expect(verifyBundle(dropProof).ok).toBe(false);
  });

  it('proves the log only grew, and refuses to rewrite it', async () => {
    const before = await getCheckpoint(db().knex, tenant);
    await append(77);
    const after = await anchoring().anchor(tenant);
    const proof = await consistencyProof(
      before?.size as number,
      after?.size as number,
      hashesOf(db().knex, tenant),
    );
    expect(
      verifyConsistency(
        before?.size as number,
        after?.size as number,
        proof,
        before?.root as Buffer,
        after?.root as Buffer,
      ),
    ).toBe(true);
    // The same, carried in a bundle for a reader who holds the older checkpoint.
    const bundle = await exportBundle(db().knex, tenant, { sinceCheckpoint: before?.note });
    const report = verifyBundle(bundle);
    expect(report.checks.find((c) => c.name === 'consistency')).toMatchObject({ ok: true });
    expect(report.ok).toBe(true);
    const forged = structuredClone(bundle);
    (forged.consistency as { hashes: string[] }).hashes.reverse();
    expect(verifyBundle(forged).checks.find((c) => c.name === 'consistency')?.ok).toBe(false);
    await expect(
      db()
        .knex('merkle_nodes')
        .where({ tenant_id: tenant })
        .update({ hash: Buffer.alloc(32) }),
    ).rejects.toThrow(/append-only/);
    await expect(db().knex.raw('truncate merkle_nodes')).rejects.toThrow(/append-only/);
    await expect(db().knex('checkpoints').where({ tenant_id: tenant }).delete()).rejects.toThrow(
      /append-only/,
    );
  });

  it('serves the checkpoint and proofs over the API, scoped to the token’s tenant', async () => {
    const token = (
      await createToken(
        { knex: db().knex, ledger },
        { tenant, name: 'r', scope: 'read', source: 'cli' },
      )
    ).value;
    const app = buildApp({ db: db(), ledger });
    const get = async (path: string) => {
      const res = await app.request(`/api/v1${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const cp = await get('/ledger/checkpoint');
    expect(cp.status).toBe(200);
    expect(cp.body.origin).toBe(origin);
    const first = (await db().knex('receipts').where({ tenant_id: tenant, seq: 5 }).first('id')).id;
    const proof = await get(`/ledger/proof/${first}`);
    expect(proof.body).toMatchObject({ leafIndex: 4, treeSize: cp.body.size });
    const consistency = await get(`/ledger/consistency?from=${300}&to=${cp.body.size}`);
    expect([200, 404]).toContain(consistency.status);
    expect((await get('/ledger/proof/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('measures anchoring lag: the age of the oldest receipt not yet in the log, 0 once anchored', async () => {
    await anchoring().anchor(tenant); // what earlier tests left pending
    // A receipt recorded a minute ago by its clock and not anchored since.
    const late = await createLedger({
      knex: db().knex,
      signer,
      clock: () => new Date(Date.now() - 60_000),
    });
    await late.append(tenant, { kind: 'trigger.received', data: { late: true } });
    const a = anchoring();
    const lagOf = async () => (await a.lag()).find((l) => l.tenant === tenant)?.seconds;
    expect(await lagOf()).toBeGreaterThanOrEqual(59);

    const metrics = createMetrics({ anchoringLag: () => a.lag() });
    const app = buildApp({
      db: db(),
      ledger,
      metrics,
      adminToken: new Secret('operator-secret', 'literal'),
    });
    const scrape = (token?: string) =>
      app.request('/metrics', token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect((await scrape()).status).toBe(401);
    expect((await scrape('wrong')).status).toBe(401);
    const before = await (await scrape('operator-secret')).text();
    const line = new RegExp(`^warden_anchoring_lag_seconds\\{tenant="${tenant}"\\} (\\S+)$`, 'm');
    expect(Number(line.exec(before)?.[1])).toBeGreaterThanOrEqual(59);

    await a.anchor(tenant);
    expect(await lagOf()).toBe(0);
    const after = await (await scrape('operator-secret')).text();
    expect(line.exec(after)?.[1]).toBe('0');
    expect(after).toContain('# TYPE warden_checkpoints_signed_total counter');
  });

  it('does not report lag for tenants that are not anchored', async () => {
    const off = createAnchoring({
      knex: db().knex,
      signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async (t) => t !== tenant,
      logger: pino({ level: 'silent' }),
    });
    expect((await off.lag()).some((l) => l.tenant === tenant)).toBe(false);
  });
});
