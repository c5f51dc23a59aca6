/** Auth: bearer-token middleware; the token fixes the tenant and its scope must grant the route's. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Knex } from 'knex';
import type { TokenScope } from '../config.js';
import { WardenError } from '../errors.js';
import { authenticateToken, grants, type Principal } from '../tenancy/api-token.js';

export interface AuthEnv {
  /** `operator` is set instead of `principal` when the operator token (WARDEN_ADMIN_TOKEN) was shown. */
  Variables: { principal: Principal; requestId: string; operator?: boolean };
}

export interface AuthOptions {
  knex: Knex;
  /** Loopback-only (demo) tokens are accepted only when this is true. */
  serverOnLoopback: boolean;
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/**
 * @example
 * app.use('/api/v1/*', requireScope('read', { knex, serverOnLoopback: true }));
 */
export function requireScope(scope: TokenScope, opts: AuthOptions): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const presented = bearerToken(c.req.header('authorization'));
    if (!presented) {
      throw new WardenError(
        'unauthenticated',
        'Missing bearer token. Send Authorization: Bearer <token>.',
      );
    }
    const principal = await authenticateToken(opts.knex, presented, opts);
    if (!principal) throw new WardenError('unauthenticated', 'The token is invalid or revoked.');
    if (!grants(principal.scope, scope)) {
      throw new WardenError(
        'forbidden',
        `This token has scope ${principal.scope}; this route needs ${scope}.`,
      );
    }
    c.set('principal', principal);
    await next();
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Accepts the operator token (`WARDEN_ADMIN_TOKEN`, compared in constant time) or, failing that,
 * a tenant token of `scope`. Routes read `c.get('operator')` to tell them apart.
 */
export function operatorOrScope(
  scope: TokenScope,
  opts: AuthOptions & { operatorToken: string | undefined },
): MiddlewareHandler<AuthEnv> {
  const tenantAuth = requireScope(scope, opts);
  const expected = opts.operatorToken ? digest(opts.operatorToken) : undefined;
  return async (c, next) => {
    const presented = bearerToken(c.req.header('authorization'));
    if (expected && presented && timingSafeEqual(digest(presented), expected)) {
      c.set('operator', true);
      return next();
    }
    return tenantAuth(c, next);
  };
}
