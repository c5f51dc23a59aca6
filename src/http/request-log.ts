/** Request-log: one pino line per request with its id, status and duration; never headers or bodies. */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';

export function requestLog(
  logger: Logger,
): MiddlewareHandler<{ Variables: { requestId: string } }> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const line = {
      requestId: c.get('requestId'),
      method: c.req.method,
      // A secure link's path is its credential: log only that it was one.
      path: c.req.path.startsWith('/r/') ? '/r/…' : c.req.path,
      status: c.res.status,
      ms,
    };
    if (c.res.status >= 500) logger.warn(line, 'request');
    else logger.debug(line, 'request');
  };
}
