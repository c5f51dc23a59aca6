/**
 * `/api/v1/ledger`: the tenant's Merkle log — its latest signed checkpoint, a receipt's inclusion
 * proof, and consistency proofs between two checkpointed sizes — for auditors who check the log
 * was never rewritten.
 */
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
import { hashesOf } from '../ledger/anchor.js';
import { consistencyProof, inclusionProof } from '../ledger/merkle.js';
import { getCheckpoint, type StoredCheckpoint } from '../storage/merkle.js';

const Checkpoint = z
  .object({
    origin: z.string(),
    size: z.number(),
    rootHash: z.string().openapi({ description: 'base64 (RFC 6962 tree head)' }),
    note: z.string().openapi({ description: 'the C2SP signed note' }),
    createdAt: z.string(),
  })
  .openapi('Checkpoint');

const view = (cp: StoredCheckpoint) => ({
  origin: cp.note.slice(0, cp.note.indexOf('\n')),
  size: cp.size,
  rootHash: cp.root.toString('base64'),
  note: cp.note,
  createdAt: cp.createdAt,
});

const size = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const checkpointRoute = createRoute({
  method: 'get',
  path: '/ledger/checkpoint',
  summary: "The tenant's latest signed checkpoint (or the one of `size`)",
  security: bearerSecurity,
  request: { query: z.object({ size: size.optional() }) },
  responses: {
    200: { description: 'The checkpoint', content: { 'application/json': { schema: Checkpoint } } },
    404: notFound('Not anchored yet, or no checkpoint of that size'),
    ...errorResponses,
  },
});

const proofRoute = createRoute({
  method: 'get',
  path: '/ledger/proof/{receiptId}',
  summary: "A receipt's inclusion proof against the latest (or a given) checkpoint",
  security: bearerSecurity,
  request: {
    params: z.object({ receiptId: z.string().uuid() }),
    query: z.object({ size: size.optional() }),
  },
  responses: {
    200: {
      description: 'The proof (RFC 9162 audit path, base64) and its checkpoint',
      content: {
        'application/json': {
          schema: z.object({
            receiptId: z.string(),
            leafIndex: z.number(),
            treeSize: z.number(),
            hashes: z.array(z.string()),
            checkpoint: Checkpoint,
          }),
        },
      },
    },
    404: notFound('No such receipt, or not anchored yet'),
    ...errorResponses,
  },
});

const consistencyRoute = createRoute({
  method: 'get',
  path: '/ledger/consistency',
  summary: 'A consistency proof between two checkpointed sizes (the log only grew)',
  security: bearerSecurity,
  request: { query: z.object({ from: size, to: size }) },
  responses: {
    200: {
      description: 'The proof (RFC 9162, base64) and both checkpoints',
      content: {
        'application/json': {
          schema: z.object({
            from: Checkpoint,
            to: Checkpoint,
            hashes: z.array(z.string()),
          }),
        },
      },
    },
    404: notFound('No checkpoint of one of the sizes'),
    ...errorResponses,
  },
});

export function ledgerApi(knex: Knex) {
  const checkpointOf = async (tenant: string, at?: number) => {
    const cp = await getCheckpoint(knex, tenant, at);
    if (!cp) {
      throw new WardenError(
        'not_found',
        at === undefined
          ? 'This tenant has no checkpoint yet (anchoring is off, or nothing was anchored).'
          : `This tenant has no checkpoint of size ${at}.`,
      );
    }
    return cp;
  };
  return createRouter<AuthEnv>()
    .openapi(checkpointRoute, async (c) => {
      const cp = await checkpointOf(c.get('principal').tenant, c.req.valid('query').size);
      return c.json(view(cp), 200);
    })
    .openapi(proofRoute, async (c) => {
      const { tenant } = c.get('principal');
      const row = await knex('receipts')
        .where({ tenant_id: tenant, id: c.req.valid('param').receiptId })
        .first('seq');
      if (!row) throw new WardenError('not_found', 'No receipt with that id in this tenant.');
      const cp = await checkpointOf(tenant, c.req.valid('query').size);
      const leafIndex = Number(row.seq) - 1;
      if (leafIndex >= cp.size) {
        throw new WardenError(
          'not_found',
          `Receipt seq ${row.seq} is newer than checkpoint size ${cp.size}; it is anchored within seconds.`,
        );
      }
      const hashes = await inclusionProof(leafIndex, cp.size, hashesOf(knex, tenant));
      return c.json(
        {
          receiptId: c.req.valid('param').receiptId,
          leafIndex,
          treeSize: cp.size,
          hashes: hashes.map((h) => h.toString('base64')),
          checkpoint: view(cp),
        },
        200,
      );
    })
    .openapi(consistencyRoute, async (c) => {
      const { tenant } = c.get('principal');
      const { from, to } = c.req.valid('query');
      if (from > to) throw new WardenError('invalid', '`from` must not be larger than `to`.');
      const [a, b] = [await checkpointOf(tenant, from), await checkpointOf(tenant, to)];
      const hashes = from === to ? [] : await consistencyProof(from, to, hashesOf(knex, tenant));
      return c.json(
        { from: view(a), to: view(b), hashes: hashes.map((h) => h.toString('base64')) },
        200,
      );
    });
}
