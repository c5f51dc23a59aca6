/** `/api/v1/export`: the tenant's evidence bundle for a time window. */
import type { Knex } from 'knex';
import type { AuthEnv } from '../http/auth.js';
import { bearerSecurity, createRoute, createRouter, errorResponses, z } from '../http/openapi.js';
import type { Anchoring } from '../ledger/anchor.js';
import { exportBundle } from '../ledger/bundle.js';
import { parseDisclosurePolicy } from '../ledger/disclosure.js';
import { BundleSchema, isoDate } from './schemas.js';

const route = createRoute({
  method: 'get',
  path: '/export',
  summary: 'Export an evidence bundle',
  description:
    'A contiguous slice of the chain covering `[since, until)`; verify it with `warden verify`.',
  security: bearerSecurity,
  request: {
    query: z.object({
      since: isoDate.optional(),
      until: isoDate.optional(),
      disclose: z
        .string()
        .regex(/^[A-Za-z0-9_,]*$/, 'a comma-separated list of field names, `all` or `none`')
        .optional()
        .openapi({
          description:
            'Private receipt fields to disclose (e.g. `input,output,actor`), `all`, or `none` (default).',
          example: 'actor,comment',
        }),
    }),
  },
  responses: {
    200: { description: 'The bundle', content: { 'application/json': { schema: BundleSchema } } },
    ...errorResponses,
  },
});

export function exportApi(knex: Knex, anchoring?: Anchoring) {
  return createRouter<AuthEnv>().openapi(route, async (c) => {
    const { since, until, disclose } = c.req.valid('query');
    const { tenant } = c.get('principal');
    if (anchoring && (await anchoring.enabled(tenant))) await anchoring.anchor(tenant);
    const bundle = await exportBundle(knex, tenant, {
      since,
      until,
      disclose: parseDisclosurePolicy(disclose),
    });
    c.header('Content-Disposition', `attachment; filename="warden-evidence-${tenant}.json"`);
    return c.json(bundle, 200);
  });
}
