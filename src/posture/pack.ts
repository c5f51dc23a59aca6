/**
 * Provable Posture Pack: a folder generated from the live system in which every claim links to an
 * artifact the reader can verify — policies and a real denial, sample receipts with the public key
 * and the openssl script, an evidence bundle with the standalone verifier, the latest purge and DR
 * drill receipts, the latest Trust Report — plus the evaluation kit, a MANIFEST.json of every file's
 * SHA-256, and a `posture.generated` receipt that signs the manifest.
 */
import { mkdir } from 'node:fs/promises';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import { WardenError } from '../errors.js';
import type { Anchoring } from '../ledger/anchor.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Receipt } from '../ledger/receipt.js';
import type { PdfRenderer } from '../reports/pdf.js';
import { getTenant } from '../storage/tenants.js';
import type { Claim } from './claim.js';
import { dashboardClaim } from './claims-dashboard.js';
import { evidenceClaim, receiptsClaim } from './claims-evidence.js';
import { deletionClaim, drClaim, reportClaim } from './claims-history.js';
import { policyClaim } from './claims-policy.js';
import { checklist, exitCriteria, plan } from './evaluation.js';
import {
  describeArtifacts,
  listPackFiles,
  manifestFile,
  manifestFormat,
  manifestReceiptFile,
  type PostureManifest,
  sha256Hex,
} from './manifest.js';
import { createPackWriter } from './pack-writer.js';
import { createPostureRenderer } from './render.js';
import { successMetrics } from './success-metrics.js';

export interface PostureDeps {
  knex: Knex;
  ledger: Ledger;
  logger: Logger;
  /** Anchors the tenant before the export, when it is anchored. */
  anchoring?: Anchoring;
  /** Renders posture.pdf; without it (or when Chromium fails) the pack is HTML only, with a note. */
  pdf?: PdfRenderer;
  /** The configured tenants, for the tenant's own policies file. */
  tenants?: ReadonlyArray<Pick<TenantConfig, 'id' | 'policies'>>;
  /** @defaultValue () => new Date() */
  clock?: () => Date;
}

export interface PostureResult {
  manifest: PostureManifest;
  /** The `posture.generated` receipt holding the manifest's SHA-256. */
  receipt: Receipt;
  claims: Claim[];
}

/**
 * Builds the pack into `outDir` (created if needed; existing files of the same name are replaced).
 * @example
 * const { manifest } = await buildPosturePack({ knex, ledger, logger, anchoring }, { tenant: 'acme', outDir: './posture' });
 */
export async function buildPosturePack(
  deps: PostureDeps,
  input: { tenant: string; outDir: string },
): Promise<PostureResult> {
  const { knex, ledger, logger } = deps;
  const tenant = await getTenant(knex, input.tenant);
  if (!tenant) throw new WardenError('not_found', `Tenant ${input.tenant} does not exist.`);
  const now = (deps.clock ?? (() => new Date()))();
  const generatedAt = now.toISOString();
  await mkdir(input.outDir, { recursive: true });
  const writer = createPackWriter(input.outDir);
  const ctx = { knex, writer };
  const policyFile = deps.tenants?.find((t) => t.id === tenant.id)?.policies;
  const claims = [
    await policyClaim(ctx, tenant.id, policyFile),
    await receiptsClaim({ ...ctx, signer: ledger.signer }, tenant.id),
    await evidenceClaim({ ...ctx, anchoring: deps.anchoring }, tenant.id),
    await deletionClaim(ctx, tenant.id),
    await drClaim(ctx, tenant.id),
    await reportClaim(ctx, tenant.id),
    await dashboardClaim(ctx, tenant, deps.pdf, now).catch((err: unknown) => {
      logger.warn({ err }, 'dashboard screenshot not taken');
      return {
        id: 'dashboard',
        title: 'The live dashboard',
        evidenced: false,
        summary: `No screenshot: ${(err as Error).message}`,
        links: [],
      };
    }),
  ];
  const render = createPostureRenderer();
  const view = { tenant: { id: tenant.id, name: tenant.name, tier: tenant.tier }, generatedAt };
  const { week, metrics } = await successMetrics(knex, tenant.id, {
    now,
    ...(deps.anchoring ? { anchoring: deps.anchoring } : {}),
  });
  await writer.json('evaluation/metrics.json', { week, generatedAt, metrics });
  await writer.write(
    'evaluation/plan.html',
    render.plan({
      ...view,
      week,
      plan,
      checklist: checklist.map((c) => ({ ...c, statusClass: c.status.replace(' ', '-') })),
      reportLinks: claims.find((c) => c.id === 'reports')?.links ?? [],
      metrics: metrics.map((m) => ({ ...m, met: m.met === null ? '—' : m.met ? 'yes' : 'no' })),
      exitCriteria,
    }),
  );
  const artifacts = await describeArtifacts(input.outDir, await listPackFiles(input.outDir));
  const pages = { ...view, keyId: ledger.signer.keyId, claims, artifacts };
  let pdfNote: string | null = deps.pdf ? null : 'No PDF: Chromium is not available here.';
  if (deps.pdf) {
    try {
      const html = render.index({ ...pages, pdfNote: null });
      const footerLabel = `${tenant.name} · Provable Posture Pack`;
      await writer.write('posture.pdf', await deps.pdf.render(html, { footerLabel }));
    } catch (err) {
      logger.warn({ err }, 'posture.pdf not rendered');
      pdfNote = `No PDF: ${(err as Error).message}`;
    }
  }
  await writer.write('index.html', render.index({ ...pages, pdfNote }));
  const manifest: PostureManifest = {
    format: manifestFormat,
    tenant: tenant.id,
    generatedAt,
    artifacts: await describeArtifacts(input.outDir, await listPackFiles(input.outDir)),
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  await writer.write(manifestFile, manifestText);
  const receipt = await ledger.append(tenant.id, {
    kind: 'posture.generated',
    data: {
      manifestSha256: sha256Hex(Buffer.from(manifestText)),
      artifacts: manifest.artifacts.length,
      claims: claims.map((c) => `${c.id}:${c.evidenced ? 'evidenced' : 'not-yet'}`),
    },
  });
  await writer.json(manifestReceiptFile, receipt);
  return { manifest, receipt, claims };
}
