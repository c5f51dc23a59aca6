/** Hooks-app: the webhook ingress, one route per source (CONTRACT.md), documented in OpenAPI. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { z } from '../http/openapi.js';
import { alertmanagerHook } from './alertmanager.js';
import { eventsHook } from './events.js';
import { grafanaHook } from './grafana.js';
import { type HookDeps, mountHook } from './hook-route.js';
import { pagerdutyHook } from './pagerduty.js';

export function createHooksApp(deps: HookDeps): Hono {
  const app = new Hono();
  mountHook(app, '/:tenant/alertmanager', deps, alertmanagerHook);
  mountHook(app, '/:tenant/grafana', deps, grafanaHook);
  mountHook(app, '/:tenant/pagerduty', deps, pagerdutyHook);
  mountHook(app, '/:tenant/events/:source', deps, eventsHook);
  return app;
}

const Accepted = z
  .object({
    accepted: z.array(
      z.object({
        triggerId: z.string(),
        duplicate: z.boolean().openapi({ description: 'A redelivery of a state already stored.' }),
        runs: z.array(z.string()).openapi({ description: 'Runs started by this trigger.' }),
      }),
    ),
  })
  .openapi('HookAccepted');

const hooks = [
  ['alertmanager', 'Alertmanager webhook (v4)', 'Authorization: Bearer <ingest token>', ['bearer']],
  [
    'grafana',
    'Grafana webhook contact point',
    'Bearer token, or X-Grafana-Alerting-Signature',
    ['bearer'],
  ],
  ['pagerduty', 'PagerDuty v3 webhook', 'X-PagerDuty-Signature: v1=<hmac>', []],
  [
    'events/{source}',
    'Signed event (Standard Webhooks)',
    'webhook-id, webhook-timestamp, webhook-signature',
    [],
  ],
] as const;

/** Adds the hook routes to the OpenAPI document (validation happens after auth, in the handler). */
export function documentHooks(api: OpenAPIHono<never>): void {
  for (const [path, summary, auth, security] of hooks) {
    api.openAPIRegistry.registerPath({
      method: 'post',
      path: `/hooks/{tenant}/${path}`,
      tags: ['hooks'],
      summary,
      description: `Authentication: ${auth}. Answered 202 only after the triggers and their receipts are committed. Errors: 400 malformed JSON, 401 bad credentials or unknown tenant, 413 too large, 415 not JSON, 422 not this source's payload, 429 rate limited (Retry-After), 503 storage unavailable (retry).`,
      security: security.map((s) => ({ [s]: [] })),
      request: {
        params: z.object({
          tenant: z.string(),
          ...(path.includes('{source}') ? { source: z.string() } : {}),
        }),
        body: {
          content: { 'application/json': { schema: z.object({}).passthrough() } },
          required: true,
        },
      },
      responses: {
        202: {
          description: 'Accepted and durable',
          content: { 'application/json': { schema: Accepted } },
        },
      },
    });
  }
}
