/**
 * `/api/v1/reports`: the tenant's Trust Reports — list and read them (read), download one (read), and
 * make one for a week on demand, optionally delivered to the tenant's targets (admin).
 */
import type { Knex } from 'knex';
import { reportFileName } from '../delivery/report-targets.js';
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
import type { MadeReport, ReportRequest } from '../reports/trust-report.js';
import { deliveriesOf, getReport, listReports, type ReportRow } from '../storage/reports.js';

export interface ReportsApiDeps {
  knex: Knex;
  /** Makes a report (the service, wired with its renderer and delivery). */
  make(req: ReportRequest): Promise<MadeReport | undefined>;
}

const Report = z
  .object({
    id: z.string(),
    week: z.string(),
    format: z.enum(['pdf', 'html']),
    contentType: z.string(),
    sha256: z.string(),
    size: z.number(),
    audience: z.string(),
    origin: z.enum(['schedule', 'manual']),
    receiptId: z.string(),
    createdAt: z.string(),
  })
  .openapi('Report');

const Delivery = z.object({
  id: z.string(),
  target: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number(),
  location: z.string().nullable(),
  lastError: z.string().nullable(),
  latencyMs: z.number().nullable(),
  alternateFor: z.string().nullable(),
});

const view = (r: ReportRow) => ({
  id: r.id,
  week: r.week,
  format: r.format,
  contentType: r.content_type,
  sha256: r.sha256,
  size: r.size,
  audience: r.audience,
  origin: r.origin,
  receiptId: r.receipt_id,
  createdAt: r.created_at,
});

const id = z.object({ id: z.string().uuid() });

const list = createRoute({
  method: 'get',
  path: '/reports',
  summary: 'Trust Reports, newest first',
  security: bearerSecurity,
  responses: {
    200: {
      description: 'Reports',
      content: { 'application/json': { schema: z.object({ reports: z.array(Report) }) } },
    },
    ...errorResponses,
  },
});

const one = createRoute({
  method: 'get',
  path: '/reports/{id}',
  summary: 'One report and its deliveries',
  security: bearerSecurity,
  request: { params: id },
  responses: {
    200: {
      description: 'The report',
      content: {
        'application/json': {
          schema: Report.extend({ deliveries: z.array(Delivery) }),
        },
      },
    },
    404: notFound('No such report in this tenant'),
    ...errorResponses,
  },
});

const content = createRoute({
  method: 'get',
  path: '/reports/{id}/content',
  summary: 'The report itself (PDF or HTML); its SHA-256 is in the report receipt',
  security: bearerSecurity,
  request: { params: id },
  responses: {
    200: { description: 'The artifact' },
    404: notFound('No such report in this tenant'),
    ...errorResponses,
  },
});

const make = createRoute({
  method: 'post',
  path: '/reports',
  summary: "Make the week's Trust Report now (admin), and deliver it if asked",
  security: bearerSecurity,
  request: {
    body: {
      content: {
        'application/json': {
          schema: z.object({
            week: z.string().regex(/^\d{4}-W\d{2}$/, 'expected an ISO week, YYYY-Www'),
            deliver: z.boolean().default(false),
            format: z.enum(['pdf', 'html']).optional(),
          }),
        },
      },
    },
  },
  responses: {
    201: {
      description: 'The report made, its links and queued deliveries',
      content: {
        'application/json': {
          schema: z.object({
            report: Report,
            links: z.array(z.object({ url: z.string(), expiresAt: z.string() })),
            deliveries: z.array(z.string()),
            warning: z.string().optional(),
          }),
        },
      },
    },
    ...errorResponses,
  },
});

export function reportsApi(deps: ReportsApiDeps) {
  const { knex } = deps;
  const found = async (tenant: string, reportId: string) => {
    const r = await getReport(knex, tenant, reportId);
    if (!r) throw new WardenError('not_found', `No report with id ${reportId} in this tenant.`);
    return r;
  };
  return createRouter<AuthEnv>()
    .openapi(list, async (c) => {
      const { tenant } = c.get('principal');
      return c.json({ reports: (await listReports(knex, tenant)).map(view) }, 200);
    })
    .openapi(one, async (c) => {
      const { tenant } = c.get('principal');
      const r = await found(tenant, c.req.valid('param').id);
      const deliveries = (await deliveriesOf(knex, tenant, r.id)).map((d) => ({
        id: d.id,
        target: d.target,
        status: d.status,
        attempts: d.attempts,
        location: d.location,
        lastError: d.last_error,
        latencyMs: d.latency_ms === null ? null : Number(d.latency_ms),
        alternateFor: d.alternate_for,
      }));
      return c.json({ ...view(r), deliveries }, 200);
    })
    .openapi(content, async (c) => {
      const { tenant } = c.get('principal');
      const r = await found(tenant, c.req.valid('param').id);
      return c.body(new Uint8Array(r.body), 200, {
        'content-type': r.content_type,
        'content-disposition': `attachment; filename="${reportFileName(r)}"`,
        'cache-control': 'private, no-store',
      });
    })
    .openapi(make, async (c) => {
      const { tenant } = c.get('principal');
      const { week, deliver, format } = c.req.valid('json');
      const made = await deps.make({ tenant, week, deliver, ...(format ? { format } : {}) });
      if (!made) throw new WardenError('conflict', `The report of ${week} is being made already.`);
      return c.json(
        {
          report: view(made.report),
          links: made.links,
          deliveries: made.deliveries,
          ...(made.warning ? { warning: made.warning } : {}),
        },
        201,
      );
    });
}
