/**
 * Report targets: a tenant's configured report destinations (`reports.deliver[i]`, `reports.alternate`)
 * as outbox targets. A bucket or webhook gets the artifact itself through the delivery port; `chat`
 * gets a secure link posted into the tenant's channels; `link` makes a secure link for whoever asked
 * (the API answer, the CLI output) — minted when the report is delivered, never stored in clear.
 */
import type { Knex } from 'knex';
import type { ReportLinkView } from '../chat/views.js';
import type { TenantConfig } from '../config.js';
import type { DeliveryRow, ReportRow } from '../storage/reports.js';
import { createDeliveryTarget, type DeliveryTarget } from './delivery.js';
import { mintLink } from './link.js';
import type { ReportTarget } from './outbox.js';

type ReportTargetSpec = TenantConfig['reports']['deliver'][number];

export interface ReportTargetsDeps {
  knex: Knex;
  tenants: readonly TenantConfig[];
  /** Where `/r/<token>` is served, e.g. `https://warden.example.com`. */
  publicUrl: string;
  /** The chat port's link poster, when chat is configured. */
  postReportLink?: (tenant: string, view: ReportLinkView) => Promise<unknown>;
}

export interface ReportTargets {
  /** The target a delivery row names (`deliver[0]`, `alternate`), if the tenant still has it. */
  target(tenant: string, name: string): ReportTarget | undefined;
  /** The names of the tenant's targets the outbox delivers to (all but `link`). */
  queued(tenant: string): string[];
  /** Whether the tenant wants links handed to whoever asked for the report. */
  wantsLink(tenant: string): boolean;
  hasAlternate(tenant: string): boolean;
  close(): void;
}

/** The file name a report travels under, e.g. `acme-trust-report-2026-W47.pdf`. */
export const reportFileName = (r: Pick<ReportRow, 'tenant_id' | 'week' | 'format'>) =>
  `${r.tenant_id}-trust-report-${r.week}.${r.format}`;

export function createReportTargets(deps: ReportTargetsDeps): ReportTargets {
  const byTenant = new Map(deps.tenants.map((t) => [t.id, t]));
  const open: DeliveryTarget[] = [];
  const cache = new Map<string, ReportTarget>();

  function specOf(tenant: string, name: string): ReportTargetSpec | undefined {
    const reports = byTenant.get(tenant)?.reports;
    if (!reports) return undefined;
    if (name === 'alternate') return reports.alternate;
    const m = /^deliver\[(\d+)\]$/.exec(name);
    return m ? reports.deliver[Number(m[1])] : undefined;
  }

  function build(tenant: string, spec: ReportTargetSpec): ReportTarget {
    if (spec.type === 'bucket' || spec.type === 'webhook') {
      const port = createDeliveryTarget(spec);
      open.push(port);
      return {
        describe: () => port.describe(),
        async deliver(report, d: DeliveryRow) {
          const result = await port.deliver({
            id: d.id,
            tenant,
            kind: 'report',
            name: reportFileName(report),
            contentType: report.content_type,
            body: report.body,
            sha256: report.sha256,
            metadata: { week: report.week, report: report.id },
          });
          return { location: result.location, ...(result.status ? { status: result.status } : {}) };
        },
      };
    }
    const ttlMs = byTenant.get(tenant)?.reports.linkTtl ?? 7 * 86_400_000;
    if (spec.type === 'chat') {
      return {
        describe: () => 'chat (secure link)',
        async deliver(report) {
          if (!deps.postReportLink) throw new Error('chat is not configured on this server');
          const link = await mintLink(deps.knex, { tenant, reportId: report.id, ttlMs });
          await deps.postReportLink(tenant, {
            tenant,
            week: report.week,
            url: `${deps.publicUrl}${link.path}`,
            expiresAt: link.expiresAt.toISOString(),
            receiptId: report.receipt_id,
          });
          return { location: `chat: link ${link.id} until ${link.expiresAt.toISOString()}` };
        },
      };
    }
    return {
      describe: () => 'secure link',
      async deliver(report) {
        const link = await mintLink(deps.knex, { tenant, reportId: report.id, ttlMs });
        return { location: `link ${link.id} until ${link.expiresAt.toISOString()}` };
      },
    };
  }

  return {
    target(tenant, name) {
      const key = `${tenant}\n${name}`;
      const known = cache.get(key);
      if (known) return known;
      const spec = specOf(tenant, name);
      if (!spec) return undefined;
      const target = build(tenant, spec);
      cache.set(key, target);
      return target;
    },
    queued(tenant) {
      const deliver = byTenant.get(tenant)?.reports.deliver ?? [];
      return deliver.flatMap((spec, i) => (spec.type === 'link' ? [] : [`deliver[${i}]`]));
    },
    wantsLink: (tenant) =>
      (byTenant.get(tenant)?.reports.deliver ?? []).some((spec) => spec.type === 'link'),
    hasAlternate: (tenant) => byTenant.get(tenant)?.reports.alternate !== undefined,
    close() {
      for (const t of open) t.close?.();
    },
  };
}
