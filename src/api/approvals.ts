/**
 * `/api/v1/approvals`: the "Approval Needed" switchboard — tickets for blocked steps (read), and a
 * person's decision on one (admin; the chat adapters use the same core with verified identities).
 */
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import { decideApproval } from '../guardrails/approvals.js';
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
import type { RunQueue } from '../queue/run-queue.js';
import { getApproval, listApprovals, type Ticket } from '../storage/approvals.js';

export interface ApprovalsApiDeps {
  knex: Knex;
  ledger: Ledger;
  queue: RunQueue;
}

const statuses = ['pending', 'approved', 'rejected', 'expired'] as const;

const Approval = z
  .object({
    id: z.string(),
    runId: z.string(),
    stepId: z.string(),
    playbook: z.string(),
    inputDigest: z.string(),
    outcome: z.enum(['approval_required', 'deny']),
    reasons: z.array(z.string()),
    nextSteps: z.array(z.string()),
    evidence: z.array(z.object({ label: z.string(), url: z.string() })),
    rollback: z.unknown(),
    approvers: z.array(z.string()),
    minApprovals: z.number(),
    initiator: z.string(),
    status: z.enum(statuses),
    requestReceiptId: z.string().nullable(),
    expiresAt: z.string(),
    createdAt: z.string(),
    decidedAt: z.string().nullable(),
    votes: z.array(
      z.object({
        actor: z.string(),
        decision: z.enum(['approve', 'reject']),
        comment: z.string().nullable(),
        receiptId: z.string(),
        at: z.string(),
      }),
    ),
  })
  .openapi('Approval');

const id = z.object({ id: z.string().uuid() });
const view = ({ tenant: _t, ...t }: Ticket) => t;

const list = createRoute({
  method: 'get',
  path: '/approvals',
  summary: 'Approval tickets, newest first',
  security: bearerSecurity,
  request: {
    query: z.object({
      status: z.enum(statuses).optional(),
      run: z.string().uuid().optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: {
      description: 'Tickets',
      content: { 'application/json': { schema: z.object({ approvals: z.array(Approval) }) } },
    },
    ...errorResponses,
  },
});

const one = createRoute({
  method: 'get',
  path: '/approvals/{id}',
  summary: 'One approval ticket with its votes',
  security: bearerSecurity,
  request: { params: id },
  responses: {
    200: { description: 'The ticket', content: { 'application/json': { schema: Approval } } },
    404: notFound('No such ticket in this tenant'),
    ...errorResponses,
  },
});

const decide = createRoute({
  method: 'post',
  path: '/approvals/{id}/decision',
  summary: "Record a person's approval or rejection (admin; every attempt is receipted)",
  security: bearerSecurity,
  request: {
    params: id,
    body: {
      content: {
        'application/json': {
          schema: z.object({
            decision: z.enum(['approve', 'reject']),
            actor: z
              .string()
              .max(256)
              .regex(/^[a-z]+:\S.*$/, 'expected a qualified identity such as slack:U012AB3CD'),
            comment: z.string().max(2000).optional(),
          }),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'The ticket after this decision',
      content: { 'application/json': { schema: Approval } },
    },
    404: notFound('No such ticket in this tenant'),
    409: notFound('Already decided, expired, or this approver already voted'),
    ...errorResponses,
  },
});

export function approvalsApi(deps: ApprovalsApiDeps) {
  const core = {
    knex: deps.knex,
    ledger: deps.ledger,
    enqueue: deps.queue.enqueue.bind(deps.queue),
  };
  return createRouter<AuthEnv>()
    .openapi(list, async (c) => {
      const q = c.req.valid('query');
      const tickets = await listApprovals(deps.knex, c.get('principal').tenant, {
        limit: q.limit,
        ...(q.status ? { status: q.status } : {}),
        ...(q.run ? { runId: q.run } : {}),
      });
      return c.json({ approvals: tickets.map(view) }, 200);
    })
    .openapi(one, async (c) => {
      const ticket = await getApproval(
        deps.knex,
        c.get('principal').tenant,
        c.req.valid('param').id,
      );
      if (!ticket) throw new WardenError('not_found', 'No approval with that id in this tenant.');
      return c.json(view(ticket), 200);
    })
    .openapi(decide, async (c) => {
      const principal = c.get('principal');
      const body = c.req.valid('json');
      const ticket = await decideApproval(core, principal.tenant, c.req.valid('param').id, {
        decision: body.decision,
        actor: body.actor,
        comment: body.comment,
        via: `api:${principal.tokenName}`,
      });
      return c.json(view(ticket), 200);
    });
}
