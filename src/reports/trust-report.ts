/**
 * Trust Report: makes one tenant's report for one ISO week — aggregate (SQL) → HTML (Handlebars) →
 * PDF (the warm Chromium) — keeps the artifact, receipts its SHA-256 (`report.generated`), and hands
 * it to the tenant's delivery targets: secure links at once, buckets, webhooks and chat through the
 * outbox. Without Chromium the HTML is still made and kept, and the answer says how to get PDFs.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import { mintLink } from '../delivery/link.js';
import type { Outbox } from '../delivery/outbox.js';
import type { ReportTargets } from '../delivery/report-targets.js';
import { isWardenError, WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { insertReport, type ReportRow } from '../storage/reports.js';
import { type AggregateDeps, aggregateTrustReport, type DisclosureAudience } from './aggregate.js';
import type { PdfRenderer } from './pdf.js';
import { renderReportHtml } from './render-html.js';

export interface TrustReportDeps extends AggregateDeps {
  knex: Knex;
  ledger: Ledger;
  logger: Logger;
  tenants: readonly TenantConfig[];
  /** The warm PDF renderer (made on first use). */
  pdf: () => Promise<PdfRenderer>;
  /** Absolute base of secure links, e.g. `https://warden.example.com`. */
  publicUrl: string;
  outbox?: Outbox;
  targets?: ReportTargets;
}

export interface ReportRequest {
  tenant: string;
  week: string;
  /** @defaultValue the tenant's `reports.format` (pdf) */
  format?: 'pdf' | 'html';
  /** @defaultValue the tenant's `reports.audience` (customer) */
  audience?: DisclosureAudience;
  /** `schedule`: made at most once per tenant and week, across replicas. @defaultValue 'manual' */
  origin?: 'schedule' | 'manual';
  /** Hand it to the tenant's delivery targets. */
  deliver?: boolean;
  now?: Date;
}

export interface MadeReport {
  report: ReportRow;
  body: Buffer;
  /** Secure links made for whoever asked (the tenant's `link` target). */
  links: Array<{ url: string; expiresAt: string }>;
  /** Outbox deliveries queued (buckets, webhooks, chat). */
  deliveries: string[];
  /** Set when a PDF was asked for but only HTML could be made (why, and how to fix it). */
  warning?: string;
}

const contentTypes = { pdf: 'application/pdf', html: 'text/html; charset=utf-8' } as const;

/**
 * @returns the report, or undefined when a scheduled report of that week exists already.
 * @example
 * const made = await makeTrustReport(deps, { tenant: 'acme', week: '2026-W47', deliver: true });
 */
export async function makeTrustReport(
  deps: TrustReportDeps,
  req: ReportRequest,
): Promise<MadeReport | undefined> {
  const config = deps.tenants.find((t) => t.id === req.tenant)?.reports;
  const audience = req.audience ?? config?.audience ?? 'customer';
  const wanted = req.format ?? config?.format ?? 'pdf';
  const now = req.now ?? new Date();
  const model = await aggregateTrustReport(
    deps.knex,
    { tenant: req.tenant, week: req.week, now, audience },
    deps,
  );
  const html = renderReportHtml(model);
  let format: 'pdf' | 'html' = 'html';
  let body = Buffer.from(html, 'utf8');
  let warning: string | undefined;
  if (wanted === 'pdf') {
    try {
      const label = `${model.tenant.name} · Trust Report ${req.week}`;
      body = Buffer.from(await (await deps.pdf()).render(html, { footerLabel: label }));
      format = 'pdf';
    } catch (err) {
      if (!isWardenError(err)) throw err;
      warning = `No PDF: ${err.message} The HTML report was made instead.`;
      deps.logger.warn({ tenant: req.tenant, week: req.week, err }, 'report PDF failed; kept HTML');
    }
  }
  const sha256 = createHash('sha256').update(body).digest('hex');
  const id = randomUUID();
  const origin = req.origin ?? 'manual';
  const report = await deps.knex
    .transaction(async (trx) => {
      const [receipt] = await deps.ledger.appendIn(trx, req.tenant, [
        {
          kind: 'report.generated',
          data: {
            report: id,
            week: req.week,
            format,
            sha256,
            size: body.length,
            audience,
            disclosed: model.disclosure?.disclosed ?? [],
            origin,
            checkpoint: model.anchoring?.treeSize ?? null,
          },
        },
      ]);
      const row: Omit<ReportRow, 'created_at'> = {
        id,
        tenant_id: req.tenant,
        week: req.week,
        format,
        content_type: contentTypes[format],
        sha256,
        size: body.length,
        audience,
        origin,
        receipt_id: receipt?.payload.id as string,
      };
      if (!(await insertReport(trx, { ...row, body }))) throw new AlreadyMade();
      return { ...row, created_at: now.toISOString() };
    })
    .catch((err: unknown) => {
      if (err instanceof AlreadyMade) return undefined;
      throw err;
    });
  if (!report) return undefined;
  const made: MadeReport = {
    report,
    body,
    links: [],
    deliveries: [],
    ...(warning ? { warning } : {}),
  };
  if (req.deliver) await deliver(deps, made, now);
  return made;
}

class AlreadyMade extends Error {}

/** Mints the `link` target's secure link (receipted) and queues the other targets in the outbox. */
async function deliver(deps: TrustReportDeps, made: MadeReport, now: Date): Promise<void> {
  const { report } = made;
  const tenant = report.tenant_id;
  if (!deps.targets || !deps.outbox) {
    throw new WardenError('not_ready', 'Report delivery is not running in this process.');
  }
  if (deps.targets.wantsLink(tenant)) {
    const ttlMs = deps.tenants.find((t) => t.id === tenant)?.reports.linkTtl ?? 7 * 86_400_000;
    const link = await mintLink(deps.knex, { tenant, reportId: report.id, ttlMs, now });
    await deps.ledger.append(tenant, {
      kind: 'delivery.finished',
      data: {
        delivery: `link:${link.id}`,
        report: report.id,
        target: 'link',
        attempt: 1,
        destination: 'secure link',
        outcome: 'delivered',
        status: null,
        error: null,
        latencyMs: 0,
        expiresAt: link.expiresAt.toISOString(),
      },
    });
    made.links.push({
      url: `${deps.publicUrl}${link.path}`,
      expiresAt: link.expiresAt.toISOString(),
    });
  }
  made.deliveries = await deps.outbox.enqueue(tenant, report.id, deps.targets.queued(tenant));
  if (made.deliveries.length > 0) void deps.outbox.work();
}
