/**
 * `GET /metrics`: the Prometheus exposition of every tenant's figures, so for the operator only — the
 * operator token (`WARDEN_ADMIN_TOKEN`, constant-time), or, when none is configured, a server bound to
 * loopback (a laptop, a demo).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { WardenError } from '../errors.js';
import type { Metrics } from './metrics.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function metricsRoute(
  metrics: Metrics,
  opts: { operatorToken: string | undefined; serverOnLoopback: boolean },
): Hono {
  const expected = opts.operatorToken ? digest(opts.operatorToken) : undefined;
  return new Hono().get('/metrics', async (c) => {
    if (expected) {
      const presented = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
      if (!presented || !timingSafeEqual(digest(presented), expected)) {
        throw new WardenError('unauthenticated', 'Show the operator token (WARDEN_ADMIN_TOKEN).');
      }
    } else if (!opts.serverOnLoopback) {
      throw new WardenError(
        'forbidden',
        'Set WARDEN_ADMIN_TOKEN to scrape /metrics from a server that is not on loopback.',
      );
    }
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': metrics.registry.contentType });
  });
}
