/**
 * Tenants: creating tenants and tokens (each emits a receipt in the same transaction) and syncing the
 * tenants and tokens declared in the config file at start.
 */
import type { Knex } from 'knex';
import type { TenantConfig, Tier, TokenScope } from '../config.js';
import { WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Receipt } from '../ledger/receipt.js';
import {
  getTenant,
  insertTenant,
  insertToken,
  listTokens,
  revokeToken,
  type TokenRow,
  updateTenant,
} from '../storage/tenants.js';
import { generateToken, hashToken, newTokenId } from './api-token.js';

export interface TenancyDeps {
  knex: Knex;
  ledger: Ledger;
}

export interface NewTenant {
  id: string;
  name?: string;
  tier: Tier;
}

/** Creates a tenant and its `tenant.created` receipt; 409 `conflict` if the id exists. */
export async function createTenant(deps: TenancyDeps, t: NewTenant, via: string): Promise<Receipt> {
  return deps.knex.transaction(async (trx) => {
    const row = { id: t.id, name: t.name ?? t.id, tier: t.tier };
    if (!(await insertTenant(trx, row))) {
      throw new WardenError('conflict', `Tenant ${t.id} already exists.`);
    }
    const [receipt] = await deps.ledger.appendIn(trx, t.id, [
      { kind: 'tenant.created', data: { name: row.name, tier: row.tier, via } },
    ]);
    return receipt as Receipt;
  });
}

export interface NewToken {
  tenant: string;
  name: string;
  scope: TokenScope;
  source: TokenRow['source'];
  /** Given for config tokens; generated otherwise. */
  value?: string;
  loopbackOnly?: boolean;
}

/** Creates a token (stored as a hash) and its `token.created` receipt; returns the value once. */
export async function createToken(
  deps: TenancyDeps,
  t: NewToken,
): Promise<{ id: string; value: string; receipt: Receipt }> {
  const value = t.value ?? generateToken();
  return deps.knex.transaction(async (trx) => {
    if (!(await getTenant(trx, t.tenant))) {
      throw new WardenError('not_found', `Tenant ${t.tenant} does not exist. Create it first.`);
    }
    const id = newTokenId();
    await insertToken(trx, {
      id,
      tenant_id: t.tenant,
      name: t.name,
      scope: t.scope,
      token_hash: hashToken(value),
      source: t.source,
      loopback_only: t.loopbackOnly ?? false,
    }).catch((err: { code?: string }) => {
      if (err.code !== '23505') throw err;
      throw new WardenError(
        'conflict',
        `Tenant ${t.tenant} already has a live token named ${t.name}, or this token value is already in use.`,
      );
    });
    const [receipt] = await deps.ledger.appendIn(trx, t.tenant, [
      {
        kind: 'token.created',
        data: { tokenId: id, name: t.name, scope: t.scope, source: t.source },
      },
    ]);
    return { id, value, receipt: receipt as Receipt };
  });
}

async function revoke(deps: TenancyDeps, token: TokenRow, reason: string): Promise<void> {
  await deps.knex.transaction(async (trx) => {
    await revokeToken(trx, token.tenant_id, token.id);
    await deps.ledger.appendIn(trx, token.tenant_id, [
      { kind: 'token.revoked', data: { tokenId: token.id, name: token.name, reason } },
    ]);
  });
}

/**
 * Makes the database match the config file: creates or updates tenants, creates declared tokens,
 * rotates changed ones and revokes config tokens no longer declared. Each change is receipted.
 */
export async function syncTenants(
  deps: TenancyDeps,
  tenants: readonly TenantConfig[],
): Promise<{ created: string[]; updated: string[] }> {
  const created: string[] = [];
  const updated: string[] = [];
  for (const t of tenants) {
    // Replicas starting together sync the same config: one at a time per tenant, each re-reading
    // what the previous one wrote, so the second finds nothing left to do.
    await deps.knex.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`warden:tenant-sync:${t.id}`]);
      const tx = { knex: trx, ledger: deps.ledger };
      const existing = await getTenant(trx, t.id);
      if (!existing) {
        await createTenant(tx, t, 'config');
        created.push(t.id);
      } else if (existing.name !== t.name || existing.tier !== t.tier) {
        await updateTenant(trx, { id: t.id, name: t.name, tier: t.tier });
        await deps.ledger.appendIn(trx, t.id, [
          {
            kind: 'tenant.updated',
            data: { name: t.name, tier: t.tier, previousTier: existing.tier },
          },
        ]);
        updated.push(t.id);
      }
      await syncTokens(tx, t);
    });
  }
  return { created, updated };
}

async function syncTokens(deps: TenancyDeps, t: TenantConfig): Promise<void> {
  const live = await listTokens(deps.knex, t.id, 'config');
  const declared = new Map(t.tokens.map((tok) => [tok.name, tok]));
  for (const row of live) {
    const want = declared.get(row.name);
    const same =
      want &&
      want.scope === row.scope &&
      want.loopbackOnly === row.loopback_only &&
      hashToken(want.value.reveal()) === row.token_hash;
    if (same) declared.delete(row.name);
    else await revoke(deps, row, want ? 'changed in config' : 'removed from config');
  }
  for (const tok of declared.values()) {
    await createToken(deps, {
      tenant: t.id,
      name: tok.name,
      scope: tok.scope,
      source: 'config',
      value: tok.value.reveal(),
      loopbackOnly: tok.loopbackOnly,
    });
  }
}
