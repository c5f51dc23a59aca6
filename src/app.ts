/** createApp: mounts the Hono sub-apps on one app; no connections are opened here. */
import { Scalar } from '@scalar/hono-api-reference';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import { approvalsApi } from './api/approvals.js';
import { exportApi } from './api/export.js';
import { killSwitchApi } from './api/kill-switch.js';
import { ledgerApi } from './api/ledger.js';
import { metricsSummaryApi } from './api/metrics-summary.js';
import { playbooksApi } from './api/playbooks.js';
import { type PostureApiDeps, postureApi } from './api/posture.js';
import { receiptsApi } from './api/receipts.js';
import { type ReportsApiDeps, reportsApi } from './api/reports.js';
import { runsApi } from './api/runs.js';
import { approvalPages } from './chat/web/approval-page.js';
import type { Config } from './config.js';
import { linkRoutes } from './delivery/link-route.js';
import { WardenError } from './errors.js';
import type { Guard } from './guardrails/decision.js';
import { type AuthEnv, operatorOrScope, requireScope } from './http/auth.js';
import { createErrorHandler, notFoundHandler } from './http/error-handler.js';
import { createRouter } from './http/openapi.js';
import { createRateLimiter, type RateLimiter } from './http/rate-limit.js';
import { requestLog } from './http/request-log.js';
import type { Anchoring } from './ledger/anchor.js';
import type { Ledger } from './ledger/ledger.js';
import { dashboardRoutes } from './observability/dashboard/routes.js';
import type { Metrics } from './observability/metrics.js';
import { metricsRoute } from './observability/metrics-route.js';
import type { StepCatalog } from './pipeline/step-context.js';
import type { RunQueue } from './queue/run-queue.js';
import type { Database } from './storage/database.js';
import type { HookDeps } from './triggers/hook-route.js';
import { createHooksApp, documentHooks } from './triggers/hooks-app.js';
import type { Ingest } from './triggers/ingest.js';

export interface AppDeps {
  config: Pick<Config, 'host' | 'tenants'> & Partial<Pick<Config, 'adminToken'>>;
  db: Database;
  ledger: Ledger;
  ingest: Ingest;
  catalog: StepCatalog;
  queue: RunQueue;
  logger: Logger;
  /** The guardrails, for simulations' decisions (without it a simulation shows every step allowed). */
  guard?: Guard;
  /** Anchoring, so that an export first anchors what is pending (every receipt gets its proof). */
  anchoring?: Anchoring;
  /** Chat routes (`/slack/events`, `/teams/messages`), mounted at '/' unless the role is worker. */
  chatRoutes?: Hono[];
  /** `worker` serves only /healthz, /readyz and /metrics. @defaultValue 'all' */
  role?: 'all' | 'ingress' | 'worker';
  /** Makes a Trust Report on demand (`POST /api/v1/reports`); without it that route is 503. */
  reports?: ReportsApiDeps['make'];
  /** Builds a Provable Posture Pack (`POST /api/v1/posture`); without it that route is 503. */
  posture?: PostureApiDeps['build'];
  /** The process's metrics, served at `/metrics` to the operator. */
  metrics?: Metrics;
  /** Extra readiness probes (the queue, later); each throws when not ready. */
  probes?: Record<string, () => Promise<void>>;
}

function hookDeps(deps: AppDeps): HookDeps {
  const tenants = new Map(deps.config.tenants.map((t) => [t.id, t]));
  const limiters = new Map<string, RateLimiter>();
  return {
    knex: deps.db.knex,
    ingest: deps.ingest,
    tenants,
    serverOnLoopback: isLoopback(deps.config.host),
    limits: hookLimits,
    onDenied: (tenant, source, reason) =>
      deps.logger.info({ tenant, source, reason }, 'hook delivery refused'),
    rateLimiter(tenant) {
      let limiter = limiters.get(tenant);
      if (!limiter) {
        const rate = tenants.get(tenant)?.ingest.rateLimit ?? defaultRate;
        limiter = createRateLimiter({ perSecond: rate.perSecond, burst: rate.burst });
        limiters.set(tenant, limiter);
      }
      return limiter;
    },
  };
}

/** An Alertmanager group of a few thousand alerts fits; anything larger is refused with 413/422. */
const hookLimits = { maxBytes: 5 * 1024 * 1024, maxDepth: 32, maxKeys: 100_000 };

/** Deliveries per second for tenants without their own `ingest.rateLimit`. */
const defaultRate = { perSecond: 200, burst: 400 };

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
  // Hooks enforce their own (larger) limits while reading the body; see hookLimits.
  app.use('/api/*', bodyLimit({ maxSize: 1024 * 1024 }));
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

  if (deps.metrics) {
    const operatorToken = deps.config.adminToken?.reveal();
    app.route(
      '/',
      metricsRoute(deps.metrics, { operatorToken, serverOnLoopback: auth.serverOnLoopback }),
    );
  }
  if (deps.role === 'worker') return app;
  app.route('/hooks', createHooksApp(hookDeps(deps)));
  for (const routes of deps.chatRoutes ?? []) app.route('/', routes);
  app.route('/', approvalPages());
  app.route('/', linkRoutes({ knex: db.knex, ledger: deps.ledger }));
  app.route(
    '/',
    dashboardRoutes({
      knex: db.knex,
      ledger: deps.ledger,
      queue: deps.queue,
      operatorToken: deps.config.adminToken?.reveal(),
      serverOnLoopback: auth.serverOnLoopback,
      logger,
    }),
  );

  // One OpenAPI document for the whole service: /api/v1 routes and the hooks.
  const api = createRouter<AuthEnv>();
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
  });
  const read = requireScope('read', auth);
  const admin = requireScope('admin', auth);
  api.use('/api/v1/receipts', read).use('/api/v1/receipts/*', read).use('/api/v1/export', read);
  api.use('/api/v1/ledger/*', read);
  api.use('/api/v1/runs', read).use('/api/v1/runs/*', read).use('/api/v1/playbooks', read);
  api.use('/api/v1/playbooks/:name/simulate', read).use('/api/v1/playbooks/:name/run', admin);
  api.use('/api/v1/playbooks/:name/disable', admin).use('/api/v1/playbooks/:name/enable', admin);
  api.use('/api/v1/approvals', read).use('/api/v1/approvals/:id', read);
  api.use('/api/v1/approvals/:id/decision', admin);
  api.get('/api/v1/reports', read).get('/api/v1/reports/*', read).post('/api/v1/reports', admin);
  const operatorToken = deps.config.adminToken?.reveal();
  api.post('/api/v1/kill-switch', operatorOrScope('admin', { ...auth, operatorToken }));
  api.get('/api/v1/kill-switch', read);
  api.get('/api/v1/metrics/summary', read).post('/api/v1/posture', admin);
  api.route('/api/v1', receiptsApi(db.knex));
  api.route('/api/v1', exportApi(db.knex, deps.anchoring));
  api.route('/api/v1', ledgerApi(db.knex));
  api.route('/api/v1', runsApi(db.knex));
  api.route(
    '/api/v1',
    playbooksApi({
      knex: db.knex,
      ledger: deps.ledger,
      catalog: deps.catalog,
      tenants: new Map(deps.config.tenants.map((t) => [t.id, t])),
      queue: deps.queue,
      logger,
      ...(deps.guard ? { guard: deps.guard } : {}),
    }),
  );
  api.route(
    '/api/v1',
    reportsApi({
      knex: db.knex,
      make:
        deps.reports ??
        (() => {
          throw new WardenError('not_ready', 'Reports are not made by this process.');
        }),
    }),
  );
  api.route('/api/v1', metricsSummaryApi(db.knex));
  api.route(
    '/api/v1',
    postureApi({
      build:
        deps.posture ??
        (() => {
          throw new WardenError('not_ready', 'Posture packs are not made by this process.');
        }),
    }),
  );
  api.route('/api/v1', approvalsApi({ knex: db.knex, ledger: deps.ledger, queue: deps.queue }));
  api.route(
    '/api/v1',
    killSwitchApi({ knex: db.knex, ledger: deps.ledger, catalog: deps.catalog }),
  );
  documentHooks(api as never);
  api.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Warden API',
      version: '1',
      description:
        'API routes take `Authorization: Bearer <token>`; the token fixes the tenant. Hooks authenticate as each source does.',
    },
  });
  app.route('/', api);
  app.get('/docs', Scalar({ url: '/api/v1/openapi.json', pageTitle: 'Warden API' }));
  return app;
}
