/** Auth: bearer-token middleware; the token fixes the tenant and its scope must grant the route's. */
import type { MiddlewareHandler } from 'hono';
import type { Knex } from 'knex';
import type { TokenScope } from '../config.js';
import { WardenError } from '../errors.js';
import { authenticateToken, grants, type Principal } from '../tenancy/api-token.js';

export interface AuthEnv {
  Variables: { principal: Principal; requestId: string };
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
