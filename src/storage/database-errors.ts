/**
 * Database-errors: what a failed statement says about what happened. A server's refusal (an error
 * with a SQLSTATE) means nothing of the statement committed; anything else — a connection lost
 * after the statement was sent, a timeout waiting for a connection — leaves that unknown.
 */

interface ServerError {
  code?: unknown;
  severity?: unknown;
  constraint?: unknown;
  cause?: unknown;
}

/** The server refused the statement (also when wrapped, as a WardenError's cause): it did not commit. */
export function refusedByDatabase(err: unknown): boolean {
  for (let e = err as ServerError | undefined, depth = 0; e && depth < 3; depth++) {
    if (typeof e.code === 'string' && typeof e.severity === 'string') return true;
    e = e.cause as ServerError | undefined;
  }
  return false;
}

/** A foreign key that names a tenant (`<table>_tenant_id_foreign`) found none: no such tenant. */
export function isMissingTenant(err: unknown): boolean {
  const { code, constraint } = (err ?? {}) as ServerError;
  return (
    code === '23503' && typeof constraint === 'string' && constraint.endsWith('_tenant_id_foreign')
  );
}
