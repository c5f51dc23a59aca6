/** `/api/v1/receipts`: the tenant's receipts, filtered and paginated by `seq` cursor. */
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
import { getReceipt, listReceipts } from '../storage/receipts.js';
import { isoDate, ReceiptSchema } from './schemas.js';

const cursor = {
  encode: (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url'),
  decode: (value: string) => {
    const m = Buffer.from(value, 'base64url')
      .toString()
      .match(/^seq:(\d{1,15})$/);
    if (!m) throw new WardenError('invalid', 'The cursor is not one this API returned.');
    return Number(m[1]);
  },
};

const list = createRoute({
  method: 'get',
  path: '/receipts',
  summary: 'List receipts',
  description: "The tenant's receipts in chain order. Follow `nextCursor` for the next page.",
  security: bearerSecurity,
  request: {
    query: z.object({
      run: z.string().max(200).optional(),
      kind: z.string().max(100).optional(),
      since: isoDate.optional(),
      until: isoDate.optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      cursor: z.string().max(100).optional(),
    }),
  },
  responses: {
    200: {
      description: 'A page of receipts',
      content: {
        'application/json': {
          schema: z.object({ receipts: z.array(ReceiptSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    ...errorResponses,
  },
});

const one = createRoute({
  method: 'get',
  path: '/receipts/{id}',
  summary: 'Get one receipt',
  security: bearerSecurity,
  request: { params: z.object({ id: z.string().max(200) }) },
  responses: {
    200: { description: 'The receipt', content: { 'application/json': { schema: ReceiptSchema } } },
    404: notFound('No such receipt in this tenant'),
    ...errorResponses,
  },
});

export function receiptsApi(knex: Knex) {
  return createRouter<AuthEnv>()
    .openapi(list, async (c) => {
      const q = c.req.valid('query');
      const { tenant } = c.get('principal');
      const rows = await listReceipts(knex, tenant, {
        run: q.run,
        kind: q.kind,
        since: q.since,
        until: q.until,
        afterSeq: q.cursor === undefined ? undefined : cursor.decode(q.cursor),
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > q.limit && last ? cursor.encode(last.seq) : null;
      return c.json({ receipts: page.map(({ seq: _s, ...r }) => r), nextCursor }, 200);
    })
    .openapi(one, async (c) => {
      const receipt = await getReceipt(knex, c.get('principal').tenant, c.req.valid('param').id);
      if (!receipt) throw new WardenError('not_found', 'No receipt with that id in this tenant.');
      return c.json(receipt, 200);
    });
}
