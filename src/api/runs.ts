/** `/api/v1/runs`: the tenant's runs, newest first, and one run with its steps and receipts. */
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import type { AuthEnv } from '../http/auth.js';
import {
  bearerSecurity,
  createRoute,
  createRouter,
  errorResponses,
  notFound,
  z,
} from '../http/openapi.js';
import { runViews } from '../pipeline/run-view.js';
import { getRunRow, listRunRows } from '../storage/runs.js';

const RunSchema = z
  .object({
    id: z.string(),
    playbook: z.object({ name: z.string(), version: z.number(), digest: z.string() }),
    status: z.enum([
      'queued',
      'running',
      'awaiting_approval',
      'succeeded',
      'failed',
      'denied',
      'cancelled',
    ]),
    trigger: z.object({ id: z.string(), source: z.string() }).nullable(),
    steps: z.array(
      z.object({
        id: z.string(),
        uses: z.string(),
        status: z.string(),
        decision: z.object({ outcome: z.string(), reasons: z.array(z.string()) }).nullable(),
        plan: z.unknown(),
        error: z.string().nullable(),
        durationMs: z.number().nullable(),
      }),
    ),
    receipts: z.array(z.string()),
    error: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('Run');

const cursor = {
  encode: (r: { created_at: Date; id: string }) =>
    Buffer.from(JSON.stringify([new Date(r.created_at).toISOString(), r.id])).toString('base64url'),
  decode: (value: string) => {
    try {
      const [createdAt, id] = JSON.parse(Buffer.from(value, 'base64url').toString()) as unknown[];
      if (
        typeof createdAt === 'string' &&
        typeof id === 'string' &&
        !Number.isNaN(Date.parse(createdAt))
      ) {
        return { createdAt, id };
      }
    } catch {}
    throw new WardenError('invalid', 'The cursor is not one this API returned.');
  },
};

const list = createRoute({
  method: 'get',
  path: '/runs',
  summary: 'List runs',
  security: bearerSecurity,
  request: {
    query: z.object({
      status: z.string().max(32).optional(),
      playbook: z.string().max(63).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().max(300).optional(),
    }),
  },
  responses: {
    200: {
      description: 'A page of runs, newest first',
      content: {
        'application/json': {
          schema: z.object({ runs: z.array(RunSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    ...errorResponses,
  },
});

const one = createRoute({
  method: 'get',
  path: '/runs/{id}',
  summary: 'Get one run',
  security: bearerSecurity,
  request: { params: z.object({ id: z.string().max(100) }) },
  responses: {
    200: { description: 'The run', content: { 'application/json': { schema: RunSchema } } },
    404: notFound('No such run in this tenant'),
    ...errorResponses,
  },
});

export function runsApi(knex: Knex) {
  return createRouter<AuthEnv>()
    .openapi(list, async (c) => {
      const q = c.req.valid('query');
      const { tenant } = c.get('principal');
      const rows = await listRunRows(knex, tenant, {
        status: q.status,
        playbook: q.playbook,
        before: q.cursor ? cursor.decode(q.cursor) : undefined,
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const runs = await runViews(knex, tenant, page);
      return c.json(
        { runs, nextCursor: rows.length > q.limit && last ? cursor.encode(last) : null } as never,
        200,
      );
    })
    .openapi(one, async (c) => {
      const run = await getRunRow(knex, c.get('principal').tenant, c.req.valid('param').id);
      if (!run) throw new WardenError('not_found', 'No run with that id in this tenant.');
      const [view] = await runViews(knex, run.tenant_id, [run]);
      return c.json(view as never, 200);
    });
}
