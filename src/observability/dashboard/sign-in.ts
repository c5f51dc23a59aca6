/**
 * Sign-in: who a presented token is — the operator (WARDEN_ADMIN_TOKEN, compared in constant time),
 * or a tenant's read or admin API token (verified as the API verifies it) — and whether a session
 * made from it still stands (token not revoked, operator token not rotated).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { authenticateToken, grants } from '../../tenancy/api-token.js';
import { liveToken } from './queries.js';
import type { Principal, Session, SessionCodec } from './session.js';

export interface SignInDeps {
  knex: Knex;
  operatorToken?: string | undefined;
  serverOnLoopback: boolean;
  codec: SessionCodec;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

function isOperator(deps: SignInDeps, presented: string): boolean {
  if (!deps.operatorToken) return false;
  return timingSafeEqual(digest(presented), digest(deps.operatorToken));
}

/**
 * The principal a token signs in as; undefined for an unknown, revoked or ingest-only token.
 * @example
 * const who = await principalOf(deps, form.token);
 */
export async function principalOf(
  deps: SignInDeps,
  presented: string,
): Promise<Principal | undefined> {
  const token = presented.trim();
  if (token.length === 0 || token.length > 512) return undefined;
  if (isOperator(deps, token)) {
    return {
      kind: 'operator',
      tenant: null,
      scope: 'operator',
      tokenId: null,
      tokenName: 'operator',
      operator: deps.codec.operatorMark(token),
    };
  }
  const principal = await authenticateToken(deps.knex, token, deps);
  if (!principal || !grants(principal.scope, 'read')) return undefined;
  return {
    kind: 'tenant',
    tenant: principal.tenant,
    scope: principal.scope === 'admin' ? 'admin' : 'read',
    tokenId: principal.tokenId,
    tokenName: principal.tokenName,
  };
}

/** Whether the token behind a session is still good: not revoked, the operator token unchanged. */
export async function sessionStands(deps: SignInDeps, session: Session): Promise<boolean> {
  if (session.kind === 'operator') {
    const mark = deps.operatorToken ? deps.codec.operatorMark(deps.operatorToken) : undefined;
    return mark !== undefined && session.operator === mark;
  }
  if (!session.tenant || !session.tokenId) return false;
  const token = await liveToken(deps.knex, session.tenant, session.tokenId);
  if (!token || (token.loopbackOnly && !deps.serverOnLoopback)) return false;
  return token.scope === session.scope;
}
