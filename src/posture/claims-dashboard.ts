/**
 * Claims-dashboard: what the tenant's dashboard shows now, as a screenshot taken by the warm
 * Chromium of the same page `/dashboard` serves (the last 7 days), kept in the pack with its digest.
 */
import type { Knex } from 'knex';
import { overviewView } from '../observability/dashboard/overview.js';
import { createDashboardRenderer } from '../observability/dashboard/render.js';
import { timeWindow } from '../observability/dashboard/time-window.js';
import type { PdfRenderer } from '../reports/pdf.js';
import type { Claim } from './claim.js';
import type { PackWriter } from './pack-writer.js';

export async function dashboardClaim(
  ctx: { knex: Knex; writer: PackWriter },
  tenant: { id: string; name: string },
  browser: PdfRenderer | undefined,
  now: Date,
): Promise<Claim> {
  const base = { id: 'dashboard', title: 'The live dashboard' };
  if (!browser) {
    return {
      ...base,
      evidenced: false,
      summary: 'No screenshot: Chromium is not available where this pack was made.',
      links: [],
    };
  }
  const { render, css } = createDashboardRenderer();
  const w = timeWindow('7d', now);
  const html = render('overview', {
    ...(await overviewView(ctx.knex, tenant.id, w)),
    chrome: {
      title: `${tenant.name} · Dashboard`,
      cssHref: 'dashboard.css',
      signedIn: true,
      isOperator: false,
      who: `posture pack · ${tenant.id} · read`,
      csrf: '',
    },
    tenant: tenant.name,
    window: w.name,
    windowLabel: w.label,
    windows: [],
    notice: null,
    canDecide: false,
  }).replace(/<link rel="stylesheet"[^>]*>/, () => `<style>${css}</style>`);
  await ctx.writer.write('dashboard.png', await browser.screenshot(html, { width: 1280 }));
  return {
    ...base,
    evidenced: true,
    summary: `The tenant's dashboard over the last 7 days as it rendered at ${now.toISOString()}: runs, coverage, failures, approvals, time saved and MTTM, from the same data as everything else here.`,
    links: [
      {
        href: 'dashboard.png',
        label: 'dashboard.png (screenshot; its SHA-256 is in the manifest)',
      },
    ],
  };
}
