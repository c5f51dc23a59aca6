/** API tokens: generation, hashing and constant-time verification. Only hashes are stored. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import type { Tier, TokenScope } from '../config.js';
import { findLiveTokenByHash } from '../storage/tenants.js';

/** A new token: `wdn_` + 256 random bits, base64url. Shown once, never stored. */
export function generateToken(): string {
  return `wdn_${randomBytes(32).toString('base64url')}`;
}

export function newTokenId(): string {
  return `tok_${randomBytes(8).toString('hex')}`;
}

export function hashToken(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export interface Principal {
  tenant: string;
  tier: Tier;
  scope: TokenScope;
  tokenId: string;
  tokenName: string;
}

/** Does a token of `held` scope grant `needed`? `admin` grants everything; others only themselves. */
export function grants(held: TokenScope, needed: TokenScope): boolean {
  return held === 'admin' || held === needed;
}

/**
 * Resolves a presented token to its tenant. The lookup is by SHA-256 of the token, then the stored hash
 * is compared in constant time. Loopback-only (demo) tokens fail unless the server listens on loopback.
 */
export async function authenticateToken(
  knex: Knex,
  presented: string,
  opts: { serverOnLoopback: boolean },
): Promise<Principal | undefined> {
  if (presented.length === 0 || presented.length > 512) return undefined;
  const hash = hashToken(presented);
  const row = await findLiveTokenByHash(knex, hash);
  if (!row) return undefined;
  if (!timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(hash, 'hex')))
    return undefined;
  if (row.loopback_only && !opts.serverOnLoopback) return undefined;
  return {
    tenant: row.tenant_id,
    tier: row.tier,
    scope: row.scope,
    tokenId: row.id,
    tokenName: row.name,
  };
}
