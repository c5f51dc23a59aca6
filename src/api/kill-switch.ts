/**
 * `/api/v1/kill-switch`: engage or release a kill switch (admin; the global one needs the operator
 * token, `WARDEN_ADMIN_TOKEN`, which may also act for any tenant), and list them (read).
 */
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import { setSwitch } from '../guardrails/kill-switch.js';
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
import type { StepCatalog } from '../pipeline/step-context.js';
import { listKillSwitches } from '../storage/kill-switches.js';
import { getTenant } from '../storage/tenants.js';

export interface KillSwitchApiDeps {
  knex: Knex;
  ledger: Ledger;
  catalog: StepCatalog;
}

const Switch = z
  .object({
    scope: z.enum(['global', 'tenant', 'playbook', 'plugin']),
    tenant: z.string().nullable(),
    target: z.string(),
    engaged: z.boolean(),
    actor: z.string(),
    reason: z.string().nullable(),
    updatedAt: z.string(),
  })
  .openapi('KillSwitch');

const set = createRoute({
  method: 'post',
  path: '/kill-switch',
  summary: 'Engage or release a kill switch (admin; global: operator token; receipted)',
  security: bearerSecurity,
  request: {
    body: {
      content: {
        'application/json': {
          schema: z.object({
            scope: z.enum(['global', 'tenant', 'playbook', 'plugin']),
            target: z.string().max(128).optional(),
            engaged: z.boolean(),
            reason: z.string().trim().min(1).max(1000).optional(),
            tenant: z
              .string()
              .max(63)
              .optional()
              .openapi({ description: 'operator token only: the tenant to act for' }),
          }),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'The switch, and whether this request moved it',
      content: {
        'application/json': {
          schema: z.object({
            scope: z.string(),
            target: z.string(),
            engaged: z.boolean(),
            changed: z.boolean(),
            receipts: z.array(z.string()),
          }),
        },
      },
    },
    404: notFound('No such playbook or tenant'),
    ...errorResponses,
  },
});

const list = createRoute({
  method: 'get',
  path: '/kill-switch',
  summary: "The tenant's kill switches and the global one, engaged or not",
  security: bearerSecurity,
  responses: {
    200: {
      description: 'Switches, newest change first',
      content: { 'application/json': { schema: z.object({ switches: z.array(Switch) }) } },
    },
    ...errorResponses,
  },
});

export function killSwitchApi(deps: KillSwitchApiDeps) {
  return createRouter<AuthEnv>()
    .openapi(set, async (c) => {
      const body = c.req.valid('json');
      const operator = c.get('operator') === true;
      let tenant: string | null;
      if (operator) {
        tenant = body.scope === 'global' ? null : (body.tenant ?? null);
        if (body.scope !== 'global' && !tenant) {
          throw new WardenError('invalid', 'With the operator token, name the tenant in "tenant".');
        }
        if (tenant && !(await getTenant(deps.knex, tenant))) {
          throw new WardenError('not_found', `No tenant named ${tenant}.`);
        }
      } else {
        const principal = c.get('principal');
        if (body.scope === 'global') {
          throw new WardenError(
            'forbidden',
            'The global kill switch needs the operator token (WARDEN_ADMIN_TOKEN).',
          );
        }
        if (body.tenant !== undefined && body.tenant !== principal.tenant) {
          throw new WardenError('forbidden', 'A tenant token acts only for its own tenant.');
        }
        tenant = principal.tenant;
      }
      if ((body.scope === 'playbook' || body.scope === 'plugin') && !body.target) {
        throw new WardenError('invalid', `A ${body.scope} kill switch needs a "target".`);
      }
      const result = await setSwitch(deps, {
        scope: body.scope,
        tenant,
        target: body.target ?? '',
        engaged: body.engaged,
        actor: operator ? 'operator' : `api:${c.get('principal').tokenName}`,
        reason: body.reason,
      });
      return c.json(result, 200);
    })
    .openapi(list, async (c) => {
      const switches = await listKillSwitches(deps.knex, c.get('principal').tenant);
      return c.json({ switches }, 200);
    });
}
