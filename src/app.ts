/** createApp: mounts the Hono sub-apps on one app; no connections are opened here. */
import { Scalar } from '@scalar/hono-api-reference';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import { exportApi } from './api/export.js';
import { receiptsApi } from './api/receipts.js';
import type { Config } from './config.js';
import { WardenError } from './errors.js';
import { type AuthEnv, requireScope } from './http/auth.js';
import { createErrorHandler, notFoundHandler } from './http/error-handler.js';
import { createRouter } from './http/openapi.js';
import { requestLog } from './http/request-log.js';
import type { Ledger } from './ledger/ledger.js';
import type { Database } from './storage/database.js';

export interface AppDeps {
  config: Pick<Config, 'host'>;
  db: Database;
  ledger: Ledger;
  logger: Logger;
  /** Extra readiness probes (the queue, later); each throws when not ready. */
  probes?: Record<string, () => Promise<void>>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * @example
 * const app = createApp({ config, db, ledger, logger });
 * const res = await app.request('/healthz');
 */
export function createApp(deps: AppDeps) {
  const { db, logger } = deps;
  const auth = { knex: db.knex, serverOnLoopback: isLoopback(deps.config.host) };
  const app = new Hono<AuthEnv>();
  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(requestLog(logger));
  app.use(bodyLimit({ maxSize: 1024 * 1024 }));
  app.onError(createErrorHandler(logger));
  app.notFound(notFoundHandler);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const probes = { storage: () => db.ping(), ...deps.probes };
    const results = await Promise.all(
      Object.entries(probes).map(async ([name, probe]) => [
        name,
        await probe().then(
          () => 'ok',
          () => 'failing',
        ),
      ]),
    );
    const checks = Object.fromEntries(results);
    const failing = results.filter(([, s]) => s !== 'ok').map(([n]) => n);
    if (failing.length > 0) {
      throw new WardenError('not_ready', `Not ready: ${failing.join(', ')} not answering.`, {
        details: checks,
      });
    }
    return c.json({ status: 'ready', checks });
  });

  const api = createRouter<AuthEnv>();
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
  });
  api.use('/receipts/*', requireScope('read', auth)).use('/receipts', requireScope('read', auth));
  api.use('/export', requireScope('read', auth));
  api.route('/', receiptsApi(db.knex));
  api.route('/', exportApi(db.knex));
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    servers: [{ url: '/api/v1' }],
    info: {
      title: 'Warden API',
      version: '1',
      description: 'Every route takes `Authorization: Bearer <token>`; the token fixes the tenant.',
    },
  });
  app.route('/api/v1', api);
  app.get('/docs', Scalar({ url: '/api/v1/openapi.json', pageTitle: 'Warden API' }));
  return app;
}
