/** Tenant storage: tenants and their hashed API tokens. */
import type { Knex } from 'knex';
import type { Tier, TokenScope } from '../config.js';

export interface TenantRow {
  id: string;
  name: string;
  tier: Tier;
}

export interface TokenRow {
  id: string;
  tenant_id: string;
  name: string;
  scope: TokenScope;
  token_hash: string;
  source: 'config' | 'cli';
  loopback_only: boolean;
}

export async function getTenant(knex: Knex, id: string): Promise<TenantRow | undefined> {
  return knex('tenants').where({ id }).first('id', 'name', 'tier');
}

/** Inserts a tenant; returns false when the id is taken. */
export async function insertTenant(knex: Knex, tenant: TenantRow): Promise<boolean> {
  const rows = await knex('tenants').insert(tenant).onConflict('id').ignore().returning('id');
  return rows.length === 1;
}

export async function updateTenant(knex: Knex, tenant: TenantRow): Promise<void> {
  await knex('tenants')
    .where({ id: tenant.id })
    .update({ name: tenant.name, tier: tenant.tier, updated_at: knex.fn.now() });
}

export async function insertToken(knex: Knex, token: TokenRow): Promise<void> {
  await knex('api_tokens').insert(token);
}

/** Live tokens of a tenant, optionally of one source. */
export async function listTokens(
  knex: Knex,
  tenant: string,
  source?: TokenRow['source'],
): Promise<TokenRow[]> {
  const q = knex('api_tokens').where({ tenant_id: tenant }).whereNull('revoked_at');
  if (source) q.andWhere({ source });
  return q.orderBy('name').select('*');
}

export async function revokeToken(knex: Knex, tenant: string, id: string): Promise<void> {
  await knex('api_tokens').where({ tenant_id: tenant, id }).update({ revoked_at: knex.fn.now() });
}

/** The live token with this hash, with its tenant's tier; the only lookup not scoped by tenant. */
export async function findLiveTokenByHash(
  knex: Knex,
  hash: string,
): Promise<(TokenRow & { tier: Tier }) | undefined> {
  return knex('api_tokens as t')
    .join('tenants as n', 'n.id', 't.tenant_id')
    .where('t.token_hash', hash)
    .whereNull('t.revoked_at')
    .first('t.*', 'n.tier');
}
