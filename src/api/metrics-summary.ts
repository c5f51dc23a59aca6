/**
 * `GET /api/v1/metrics/summary?window=24h|7d|30d` (read): the dashboard's headline figures as JSON —
 * runs by outcome, auto-resolved vs approvals, time saved, coverage, budget enforcement and the
 * playbooks a breaker disabled. The same queries as the dashboard and the Trust Report, so the three
 * never disagree on a definition.
 */
import type { Knex } from 'knex';
import type { AuthEnv } from '../http/auth.js';
import { bearerSecurity, createRoute, createRouter, errorResponses, z } from '../http/openapi.js';
import {
  autoDisables,
  budgetOverTime,
  pendingApprovals,
  runCounts,
} from '../observability/dashboard/queries.js';
import { timeWindow, windowNames } from '../observability/dashboard/time-window.js';
import { coverageSection, timeSavedSection } from '../reports/aggregate-runs.js';

const count = z.number().int().nonnegative();

const Summary = z
  .object({
    window: z.enum(windowNames),
    from: z.string(),
    to: z.string(),
    runs: z.object({
      total: count,
      succeeded: count,
      failed: count,
      denied: count,
      awaitingApproval: count,
      finished: count,
      autoResolved: count,
      withApproval: count,
    }),
    approvalsPending: count,
    timeSavedMinutes: z.number(),
    coverage: z.object({
      share: z.number().nullable(),
      autoResolved: count,
      routineEvents: count,
    }),
    budget: z.object({ actions: count, denied: count }),
    autoDisabled: z.array(
      z.object({ receiptId: z.string(), at: z.string(), playbook: z.string(), reason: z.string() }),
    ),
  })
  .openapi('MetricsSummary');

const summary = createRoute({
  method: 'get',
  path: '/metrics/summary',
  summary: "The tenant's headline figures for a window (the dashboard's tiles, as JSON)",
  security: bearerSecurity,
  request: {
    query: z.object({
      window: z.enum(windowNames).default('7d').openapi({ description: '24h, 7d (default), 30d' }),
    }),
  },
  responses: {
    200: { description: 'The figures', content: { 'application/json': { schema: Summary } } },
    ...errorResponses,
  },
});

export function metricsSummaryApi(knex: Knex, clock: () => Date = () => new Date()) {
  return createRouter<AuthEnv>().openapi(summary, async (c) => {
    const tenant = c.get('principal').tenant;
    const w = timeWindow(c.req.valid('query').window, clock());
    const scope = { knex, tenant, from: w.from, to: w.to, audience: 'customer' as const };
    const [runs, pending, coverage, saved, budget, disables] = await Promise.all([
      runCounts(knex, tenant, w),
      pendingApprovals(knex, tenant),
      coverageSection(scope),
      timeSavedSection(scope),
      budgetOverTime(knex, tenant, w),
      autoDisables(knex, tenant, w),
    ]);
    return c.json(
      {
        window: w.name,
        from: w.from,
        to: w.to,
        runs: {
          total: runs.runs,
          succeeded: runs.succeeded,
          failed: runs.failed,
          denied: runs.denied,
          awaitingApproval: runs.awaiting,
          finished: runs.finished,
          autoResolved: runs.autoResolved,
          withApproval: runs.withApproval,
        },
        approvalsPending: pending,
        timeSavedMinutes: saved.minutes,
        coverage: {
          share: coverage.share,
          autoResolved: coverage.autoResolved,
          routineEvents: coverage.routineEvents,
        },
        budget: {
          actions: budget.reduce((n, b) => n + b.actions, 0),
          denied: budget.reduce((n, b) => n + b.denied, 0),
        },
        autoDisabled: disables.map((d) => ({
          receiptId: d.id,
          at: d.at,
          playbook: d.playbook,
          reason: d.reason,
        })),
      },
      200,
    );
  });
}
