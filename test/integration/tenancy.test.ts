import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type TokenScope } from '../../src/config.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import type { ReceiptPayload } from '../../src/ledger/receipt.js';
import { getTenant } from '../../src/storage/tenants.js';
import { authenticateToken, grants } from '../../src/tenancy/api-token.js';
import { createTenant, createToken, syncTenants } from '../../src/tenancy/tenants.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const onLoopback = { serverOnLoopback: true };

describe('grants', () => {
  it('lets admin do everything and read or ingest only themselves', () => {
    const scopes: TokenScope[] = ['ingest', 'read', 'admin'];
    const table = scopes.map((held) => scopes.map((needed) => grants(held, needed)));
    expect(table).toEqual([
      [true, false, false],
      [false, true, false],
      [true, true, true],
    ]);
  });
});

describeEngines('tenancy', ({ db }) => {
  let ledger: Ledger;
  const deps = () => ({ knex: db().knex, ledger });

  /** The tenant's stored receipts, in chain order. */
  async function receiptsOf(tenant: string): Promise<ReceiptPayload[]> {
    const rows = await db()
      .knex('receipts')
      .where({ tenant_id: tenant })
      .orderBy('seq')
      .select('body');
    return rows.map((r: { body: string }) => JSON.parse(r.body) as ReceiptPayload);
  }

  async function tokenRows(tenant: string): Promise<Array<Record<string, unknown>>> {
    return db().knex('api_tokens').where({ tenant_id: tenant }).orderBy('created_at').select('*');
  }

  /** A ledger whose appends inside a transaction always fail. */
  function brokenLedger(): Ledger {
    return {
      ...ledger,
      appendIn: async () => {
        throw new Error('ledger unavailable');
      },
    };
  }

  beforeAll(async () => {
    ({ ledger } = await createTestLedger(db()));
  });

  describe('createTenant', () => {
    it('stores the tenant and a tenant.created receipt', async () => {
      const receipt = await createTenant(
        deps(),
        { id: 'ct-one', name: 'One Inc', tier: 'pro' },
        'cli',
      );
      expect(await getTenant(db().knex, 'ct-one')).toEqual({
        id: 'ct-one',
        name: 'One Inc',
        tier: 'pro',
      });
      const stored = await receiptsOf('ct-one');
      expect(stored).toEqual([receipt.payload]);
      expect(receipt.payload).toMatchObject({
        tenant: 'ct-one',
        seq: 1,
        prev: null,
        kind: 'tenant.created',
        name: 'One Inc',
        tier: 'pro',
        via: 'cli',
      });
    });

    it('rejects a duplicate id with conflict and writes no extra receipt', async () => {
      await createTenant(deps(), { id: 'ct-dup', tier: 'free' }, 'cli');
      await expect(
        createTenant(deps(), { id: 'ct-dup', tier: 'enterprise' }, 'cli'),
      ).rejects.toMatchObject({ name: 'WardenError', code: 'conflict' });
      expect((await receiptsOf('ct-dup')).map((r) => r.kind)).toEqual(['tenant.created']);
      expect((await getTenant(db().knex, 'ct-dup'))?.tier).toBe('free');
    });

    it('creates no tenant when its receipt cannot be written', async () => {
      await expect(
        createTenant(
          { knex: db().knex, ledger: brokenLedger() },
          { id: 'ct-atomic', tier: 'pro' },
          'cli',
        ),
      ).rejects.toThrow('ledger unavailable');
      expect(await getTenant(db().knex, 'ct-atomic')).toBeUndefined();
    });
  });

  describe('createToken', () => {
    it('stores only the SHA-256 of a generated token and receipts it without the value', async () => {
      await createTenant(deps(), { id: 'tk-hash', tier: 'pro' }, 'cli');
      const token = await createToken(deps(), {
        tenant: 'tk-hash',
        name: 'oncall',
        scope: 'admin',
        source: 'cli',
      });
      expect(token.value).toMatch(/^wdn_[A-Za-z0-9_-]{43}$/);
      const rows = await tokenRows('tk-hash');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        id: token.id,
        token_hash: sha256(token.value),
        scope: 'admin',
      });
      expect(JSON.stringify(rows)).not.toContain(token.value);
      expect(token.receipt.payload).toMatchObject({
        kind: 'token.created',
        tokenId: token.id,
        name: 'oncall',
        scope: 'admin',
        source: 'cli',
      });
      expect(JSON.stringify(token.receipt)).not.toContain(token.value);
      const stored = await db().knex('receipts').where({ tenant_id: 'tk-hash' }).select('*');
      expect(stored).toHaveLength(2);
      expect(JSON.stringify(stored)).not.toContain(token.value);
    });

    it('stores only the hash of a value given by the config', async () => {
      await createTenant(deps(), { id: 'tk-given', tier: 'pro' }, 'cli');
      const value = 'wdn_given_by_config_5d1e8a0b';
      const token = await createToken(deps(), {
        tenant: 'tk-given',
        name: 'alertmanager',
        scope: 'ingest',
        source: 'config',
        value,
      });
      expect(token.value).toBe(value);
      const rows = await tokenRows('tk-given');
      expect(rows[0]?.token_hash).toBe(sha256(value));
      expect(JSON.stringify(rows)).not.toContain(value);
      expect(JSON.stringify(await receiptsOf('tk-given'))).not.toContain(value);
    });

    it('rejects a token for an unknown tenant with not_found', async () => {
      await expect(
        createToken(deps(), { tenant: 'tk-ghost', name: 'x', scope: 'read', source: 'cli' }),
      ).rejects.toMatchObject({ code: 'not_found' });
      expect(await tokenRows('tk-ghost')).toEqual([]);
    });

    it('rejects a second live token with the same name with conflict and no receipt', async () => {
      await createTenant(deps(), { id: 'tk-name', tier: 'pro' }, 'cli');
      await createToken(deps(), { tenant: 'tk-name', name: 'bot', scope: 'read', source: 'cli' });
      await expect(
        createToken(deps(), { tenant: 'tk-name', name: 'bot', scope: 'admin', source: 'cli' }),
      ).rejects.toMatchObject({ code: 'conflict' });
      expect((await receiptsOf('tk-name')).map((r) => r.kind)).toEqual([
        'tenant.created',
        'token.created',
      ]);
      expect(await tokenRows('tk-name')).toHaveLength(1);
    });

    it('stores no token when its receipt cannot be written', async () => {
      await createTenant(deps(), { id: 'tk-atomic', tier: 'pro' }, 'cli');
      const value = 'wdn_never_committed_2f7a9c41';
      await expect(
        createToken(
          { knex: db().knex, ledger: brokenLedger() },
          { tenant: 'tk-atomic', name: 'bot', scope: 'admin', source: 'cli', value },
        ),
      ).rejects.toThrow('ledger unavailable');
      expect(await tokenRows('tk-atomic')).toEqual([]);
      expect(await authenticateToken(db().knex, value, onLoopback)).toBeUndefined();
    });
  });

  describe('authenticateToken', () => {
    it('resolves each token to its tenant, tier and scope', async () => {
      await createTenant(deps(), { id: 'auth-a', tier: 'enterprise' }, 'cli');
      for (const scope of ['ingest', 'read', 'admin'] as const) {
        const t = await createToken(deps(), {
          tenant: 'auth-a',
          name: scope,
          scope,
          source: 'cli',
        });
        expect(await authenticateToken(db().knex, t.value, onLoopback)).toEqual({
          tenant: 'auth-a',
          tier: 'enterprise',
          scope,
          tokenId: t.id,
          tokenName: scope,
        });
      }
    });

    it('rejects a token that is close to a real one but not equal, and an empty one', async () => {
      await createTenant(deps(), { id: 'auth-near', tier: 'pro' }, 'cli');
      const t = await createToken(deps(), {
        tenant: 'auth-near',
        name: 'bot',
        scope: 'read',
        source: 'cli',
      });
      expect(await authenticateToken(db().knex, t.value, onLoopback)).toBeDefined();
      for (const presented of [
        `${t.value}x`,
        t.value.slice(0, -1),
        t.value.toUpperCase(),
        ` ${t.value}`,
        '',
      ]) {
        expect(await authenticateToken(db().knex, presented, onLoopback)).toBeUndefined();
      }
    });

    it('rejects a loopbackOnly token unless the server is on loopback', async () => {
      await createTenant(deps(), { id: 'auth-loop', tier: 'free' }, 'cli');
      const t = await createToken(deps(), {
        tenant: 'auth-loop',
        name: 'demo',
        scope: 'read',
        source: 'cli',
        loopbackOnly: true,
      });
      expect((await authenticateToken(db().knex, t.value, onLoopback))?.tenant).toBe('auth-loop');
      expect(
        await authenticateToken(db().knex, t.value, { serverOnLoopback: false }),
      ).toBeUndefined();
    });
  });

  describe('syncTenants', () => {
    /** Loads the YAML through loadConfig (as at start) and syncs its tenants. */
    async function sync(yaml: string, env: Record<string, string>) {
      const cwd = mkdtempSync(join(tmpdir(), 'warden-sync-'));
      writeFileSync(join(cwd, 'warden.yaml'), yaml);
      const config = loadConfig({ env, cwd });
      return syncTenants(deps(), config.tenants);
    }

    const twoTenants = (prefix: string, tierB = 'free') =>
      [
        'tenants:',
        `  - id: ${prefix}-a`,
        '    name: Sync A',
        '    tier: pro',
        '    tokens:',
        '      - { name: alertmanager, scope: ingest, value: env:A_INGEST }',
        '      - { name: reader, scope: read, value: env:A_READ }',
        `  - id: ${prefix}-b`,
        `    tier: ${tierB}`,
        '    tokens:',
        '      - { name: oncall, scope: admin, value: env:B_ADMIN }',
      ].join('\n');
    /** Token values are unique across tenants (even revoked ones), so each test has its own. */
    const envFor = (prefix: string) => ({
      A_INGEST: `wdn_${prefix}_a_ingest_0c4b7e19`,
      A_READ: `wdn_${prefix}_a_read_93d2f6a8`,
      B_ADMIN: `wdn_${prefix}_b_admin_5e81a3c7`,
    });
    const kinds = async (tenant: string) => (await receiptsOf(tenant)).map((r) => r.kind);
    const auth = (value: string) => authenticateToken(db().knex, value, onLoopback);

    it('lets replicas starting together sync the same config once', async () => {
      const env = envFor('s0');
      const cwd = mkdtempSync(join(tmpdir(), 'warden-sync-'));
      writeFileSync(join(cwd, 'warden.yaml'), twoTenants('s0'));
      const { tenants } = loadConfig({ env, cwd });
      // Five concurrent syncs: on PostgreSQL each runs on its own pooled connection.
      const results = await Promise.all(
        Array.from({ length: 5 }, () => syncTenants(deps(), tenants)),
      );
      expect(results.flatMap((r) => r.created).sort()).toEqual(['s0-a', 's0-b']);
      expect(await kinds('s0-a')).toEqual(['tenant.created', 'token.created', 'token.created']);
      expect(await kinds('s0-b')).toEqual(['tenant.created', 'token.created']);
    });

    it('creates the tenants and their tokens, each with a receipt, on first sync', async () => {
      const env = envFor('s1');
      expect(await sync(twoTenants('s1'), env)).toEqual({ created: ['s1-a', 's1-b'], updated: [] });
      expect(await getTenant(db().knex, 's1-a')).toEqual({
        id: 's1-a',
        name: 'Sync A',
        tier: 'pro',
      });
      expect(await getTenant(db().knex, 's1-b')).toEqual({
        id: 's1-b',
        name: 's1-b',
        tier: 'free',
      });
      expect(await kinds('s1-a')).toEqual(['tenant.created', 'token.created', 'token.created']);
      expect(await kinds('s1-b')).toEqual(['tenant.created', 'token.created']);
      expect((await receiptsOf('s1-a'))[0]).toMatchObject({ via: 'config', tier: 'pro' });
      expect(await auth(env.A_INGEST)).toMatchObject({ tenant: 's1-a', scope: 'ingest' });
      expect(await auth(env.A_READ)).toMatchObject({ tenant: 's1-a', scope: 'read' });
      expect(await auth(env.B_ADMIN)).toMatchObject({ tenant: 's1-b', scope: 'admin' });
      const rows = await tokenRows('s1-a');
      expect(rows.map((r) => r.source)).toEqual(['config', 'config']);
      expect(JSON.stringify(rows)).not.toContain(env.A_INGEST);
      expect(JSON.stringify(await receiptsOf('s1-a'))).not.toContain(env.A_INGEST);
    });

    it('changes nothing and writes no receipt when synced twice with the same config', async () => {
      const env = envFor('s2');
      await sync(twoTenants('s2'), env);
      const before = {
        a: await receiptsOf('s2-a'),
        b: await receiptsOf('s2-b'),
        tokens: await tokenRows('s2-a'),
      };
      expect(await sync(twoTenants('s2'), env)).toEqual({ created: [], updated: [] });
      expect(await receiptsOf('s2-a')).toEqual(before.a);
      expect(await receiptsOf('s2-b')).toEqual(before.b);
      expect(await tokenRows('s2-a')).toEqual(before.tokens);
    });

    it('rotates a token whose value changed: old revoked with a receipt, new one works', async () => {
      const env = envFor('s3');
      await sync(twoTenants('s3'), env);
      const old = await auth(env.A_READ);
      const rotated = { ...env, A_READ: 'wdn_sync_a_read_rotated_7b3c' };
      expect(await sync(twoTenants('s3'), rotated)).toEqual({ created: [], updated: [] });
      const receipts = await receiptsOf('s3-a');
      expect(receipts.map((r) => r.kind)).toEqual([
        'tenant.created',
        'token.created',
        'token.created',
        'token.revoked',
        'token.created',
      ]);
      expect(receipts[3]).toMatchObject({ tokenId: old?.tokenId, name: 'reader' });
      expect(receipts[4]).toMatchObject({ name: 'reader', scope: 'read', source: 'config' });
      expect(await auth(env.A_READ)).toBeUndefined();
      expect(await auth(rotated.A_READ)).toMatchObject({ tenant: 's3-a', tokenName: 'reader' });
      expect(await auth(env.A_INGEST)).toMatchObject({ tenant: 's3-a', tokenName: 'alertmanager' });
      expect(JSON.stringify(receipts)).not.toContain(rotated.A_READ);
    });

    it('revokes a token removed from the config, with a receipt', async () => {
      const env = envFor('s4');
      await sync(twoTenants('s4'), env);
      const removed = await auth(env.A_INGEST);
      const without = twoTenants('s4').replace(/^.*name: alertmanager.*\n/m, '');
      expect(without).not.toContain('alertmanager');
      await sync(without, env);
      const receipts = await receiptsOf('s4-a');
      expect(receipts.map((r) => r.kind)).toEqual([
        'tenant.created',
        'token.created',
        'token.created',
        'token.revoked',
      ]);
      expect(receipts[3]).toMatchObject({ tokenId: removed?.tokenId, name: 'alertmanager' });
      expect(await auth(env.A_INGEST)).toBeUndefined();
      expect(await auth(env.A_READ)).toMatchObject({ tenant: 's4-a' });
    });

    it('leaves tokens created from the CLI alone', async () => {
      const env = envFor('s5');
      await sync(twoTenants('s5'), env);
      const cli = await createToken(deps(), {
        tenant: 's5-a',
        name: 'script',
        scope: 'read',
        source: 'cli',
      });
      const noTokens = twoTenants('s5').replace(
        / {4}tokens:\n.*alertmanager.*\n.*reader.*\n/,
        '    tokens: []\n',
      );
      expect(noTokens).not.toMatch(/alertmanager|reader/);
      await sync(noTokens, env);
      expect(await auth(cli.value)).toMatchObject({ tenant: 's5-a', tokenName: 'script' });
      expect(await auth(env.A_READ)).toBeUndefined();
    });

    it('records a tenant.updated receipt when the tier changes', async () => {
      const env = envFor('s6');
      await sync(twoTenants('s6'), env);
      expect(await sync(twoTenants('s6', 'enterprise'), env)).toEqual({
        created: [],
        updated: ['s6-b'],
      });
      const receipts = await receiptsOf('s6-b');
      expect(receipts.map((r) => r.kind)).toEqual([
        'tenant.created',
        'token.created',
        'tenant.updated',
      ]);
      expect(receipts[2]).toMatchObject({ tier: 'enterprise', previousTier: 'free' });
      expect((await getTenant(db().knex, 's6-b'))?.tier).toBe('enterprise');
      expect(await auth(env.B_ADMIN)).toMatchObject({ tenant: 's6-b', tier: 'enterprise' });
      expect(await kinds('s6-a')).toHaveLength(3);
    });
  });
});
