/**
 * `/api/v1/playbooks`: current versions, dry-run simulation, manual runs (admin), and disabling and
 * enabling a playbook (admin).
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import { WardenError } from '../errors.js';
import type { Guard } from '../guardrails/decision.js';
import { disablePlaybook, enablePlaybook, maxReasonLength } from '../guardrails/playbook-switch.js';
import type { AuthEnv } from '../http/auth.js';
import {
  bearerSecurity,
  createRoute,
  createRouter,
  errorResponses,
  notFound,
  z,
} from '../http/openapi.js';
import type { Ledger } from '../ledger/ledger.js';
import type { JsonValue } from '../ledger/receipt.js';
import { dryRun } from '../pipeline/dry-run.js';
import { createRun } from '../pipeline/start-runs.js';
import type { StepCatalog } from '../pipeline/step-context.js';
import type { RunQueue } from '../queue/run-queue.js';
import { playbookStates } from '../storage/playbook-state.js';
import { currentVersions } from '../storage/playbooks.js';
import { grants, type Principal } from '../tenancy/api-token.js';

export interface PlaybooksApiDeps {
  knex: Knex;
  ledger: Ledger;
  catalog: StepCatalog;
  tenants: ReadonlyMap<string, TenantConfig>;
  queue: RunQueue;
  logger: Logger;
  guard?: Guard;
}

const name = z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) });
const labels = z.record(z.string().max(256), z.string().max(4096));
/** Any JSON value (z.json() is recursive, which the OpenAPI generator cannot walk). */
const json = z
  .unknown()
  .openapi({ description: 'any JSON value' }) as unknown as z.ZodType<JsonValue>;
const Example = z
  .object({
    alert: z
      .object({
        labels: labels.optional(),
        annotations: labels.optional(),
        source: z.enum(['alertmanager', 'grafana', 'pagerduty']).optional(),
      })
      .optional(),
    event: z
      .object({
        source: z.string().max(63),
        type: z.string().max(256).optional(),
        data: json.optional(),
      })
      .optional(),
    params: z.record(z.string().max(128), json).optional(),
  })
  .openapi('ExampleEvent');

const list = createRoute({
  method: 'get',
  path: '/playbooks',
  summary: "List the tenant's playbooks (current versions)",
  security: bearerSecurity,
  responses: {
    200: {
      description: 'Playbooks',
      content: {
        'application/json': {
          schema: z.object({
            playbooks: z.array(
              z.object({
                name: z.string(),
                version: z.number(),
                digest: z.string(),
                disabled: z.boolean(),
                disabledReason: z.string().nullable(),
                description: z.string().nullable(),
                on: z.array(z.unknown()),
                steps: z.array(z.object({ id: z.string(), uses: z.string() })),
              }),
            ),
          }),
        },
      },
    },
    ...errorResponses,
  },
});

const simulate = createRoute({
  method: 'post',
  path: '/playbooks/{name}/simulate',
  summary: 'Simulate a playbook against an example event (no side effects; receipted)',
  security: bearerSecurity,
  request: { params: name, body: { content: { 'application/json': { schema: Example } } } },
  responses: {
    200: {
      description: 'The plan, or the denial',
      content: { 'application/json': { schema: z.object({}).passthrough() } },
    },
    404: notFound('No such playbook'),
    ...errorResponses,
  },
});

const run = createRoute({
  method: 'post',
  path: '/playbooks/{name}/run',
  summary: 'Run a playbook now (admin)',
  security: bearerSecurity,
  request: {
    params: name,
    body: {
      content: {
        'application/json': {
          schema: z.object({ params: z.record(z.string().max(128), json).optional() }),
        },
      },
      required: false,
    },
  },
  responses: {
    202: {
      description: 'Queued',
      content: { 'application/json': { schema: z.object({ run: z.string() }) } },
    },
    404: notFound('No such playbook'),
    ...errorResponses,
  },
});

const SwitchAnswer = z
  .object({
    playbook: z.string(),
    disabled: z.boolean(),
    /** False when the playbook already was in that state (no receipt). */
    changed: z.boolean(),
    receipt: z.string().nullable(),
  })
  .openapi('PlaybookSwitch');

/** `POST /playbooks/{name}/disable` and `…/enable` (admin): one route definition each. */
const switchRoute = (action: 'disable' | 'enable') =>
  createRoute({
    method: 'post',
    path: `/playbooks/{name}/${action}`,
    summary:
      action === 'disable'
        ? 'Disable a playbook: it starts no runs until enabled (admin; receipted)'
        : 'Enable a disabled playbook; its breakers start clean (admin; receipted)',
    security: bearerSecurity,
    request: {
      params: name,
      body: {
        content: {
          'application/json': {
            schema: z.object({ reason: z.string().trim().min(1).max(maxReasonLength).optional() }),
          },
        },
        required: false,
      },
    },
    responses: {
      200: {
        description: "The playbook's state, and whether this request changed it",
        content: { 'application/json': { schema: SwitchAnswer } },
      },
      404: notFound('No such playbook'),
      ...errorResponses,
    },
  });

/** The admin behind a switch route (app.ts guards it; this refuses if that guard is ever missing). */
function adminOf(principal: Principal | undefined): Principal {
  if (!principal) throw new WardenError('unauthenticated', 'Missing bearer token.');
  if (!grants(principal.scope, 'admin')) {
    throw new WardenError(
      'forbidden',
      `This token has scope ${principal.scope}; this route needs admin.`,
    );
  }
  return principal;
}

export function playbooksApi(deps: PlaybooksApiDeps) {
  const find = async (tenant: string, playbook: string) => {
    const v = (await currentVersions(deps.knex, tenant)).find((p) => p.name === playbook);
    if (!v) throw new WardenError('not_found', `No playbook named ${playbook} in this tenant.`);
    return v;
  };
  return createRouter<AuthEnv>()
    .openapi(list, async (c) => {
      const { tenant } = c.get('principal');
      const [versions, states] = await Promise.all([
        currentVersions(deps.knex, tenant),
        playbookStates(deps.knex, tenant),
      ]);
      const playbooks = versions.map((v) => ({
        name: v.name,
        version: v.version,
        digest: v.digest,
        disabled: v.disabled,
        disabledReason: v.disabled ? (states.get(v.name)?.disabledReason ?? null) : null,
        description: v.definition.metadata.description ?? null,
        on: v.definition.spec.on,
        steps: v.definition.spec.steps.map((s) => ({ id: s.id, uses: s.uses })),
      }));
      return c.json({ playbooks }, 200);
    })
    .openapi(simulate, async (c) => {
      const { tenant, tokenName } = c.get('principal');
      const version = await find(tenant, c.req.valid('param').name);
      const result = await dryRun({
        version,
        example: c.req.valid('json'),
        catalog: deps.catalog,
        config: deps.tenants.get(tenant),
        ledger: deps.ledger,
        logger: deps.logger,
        initiator: `api:${tokenName}`,
        ...(deps.guard ? { guard: deps.guard } : {}),
      });
      return c.json(result as never, 200);
    })
    .openapi(run, async (c) => {
      const { tenant, tokenName } = c.get('principal');
      const version = await find(tenant, c.req.valid('param').name);
      if (version.disabled)
        throw new WardenError('conflict', `Playbook ${version.name} is disabled.`);
      const body = (await c.req.json().catch(() => ({}))) as { params?: Record<string, never> };
      // The token that starts a run is its initiator: it may not approve the run's steps.
      const id = await deps.knex.transaction((trx) =>
        createRun(trx, version, null, body.params ?? {}, `api:${tokenName}`),
      );
      await deps.queue.enqueue(tenant, id);
      return c.json({ run: id }, 202);
    })
    .openapi(switchRoute('disable'), async (c) => {
      const { tenant, tokenName } = adminOf(c.get('principal'));
      const playbook = c.req.valid('param').name;
      const actor = `api:${tokenName}`;
      const reason = c.req.valid('json').reason ?? `Disabled by ${actor}.`;
      const result = await disablePlaybook(deps, tenant, playbook, { actor, reason });
      return c.json(
        { playbook, disabled: true, changed: result.changed, receipt: result.receiptId ?? null },
        200,
      );
    })
    .openapi(switchRoute('enable'), async (c) => {
      const { tenant, tokenName } = adminOf(c.get('principal'));
      const playbook = c.req.valid('param').name;
      const { reason } = c.req.valid('json');
      const result = await enablePlaybook(deps, tenant, playbook, {
        actor: `api:${tokenName}`,
        ...(reason === undefined ? {} : { reason }),
      });
      return c.json(
        { playbook, disabled: false, changed: result.changed, receipt: result.receiptId ?? null },
        200,
      );
    });
}
