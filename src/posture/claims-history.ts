/**
 * Claims the live system proves only once something has happened: provable deletion (the latest
 * `retention.purged` receipt), DR drills (the latest `dr.drill` receipt) and the latest Trust Report.
 * When nothing happened yet, the claim says so.
 */
import type { Knex } from 'knex';
import { getReport, listReports } from '../storage/reports.js';
import { type Claim, receiptFacts, receiptLabel } from './claim.js';
import { latestReceipts } from './latest-receipts.js';
import type { PackWriter } from './pack-writer.js';

interface Deps {
  knex: Knex;
  writer: PackWriter;
}

async function latestReceiptClaim(
  { knex, writer }: Deps,
  tenant: string,
  c: { id: string; title: string; kind: string; path: string; what: string; none: string },
): Promise<Claim> {
  const [receipt] = await latestReceipts(knex, tenant, { kind: c.kind, limit: 1 });
  if (!receipt) return { id: c.id, title: c.title, evidenced: false, summary: c.none, links: [] };
  const facts = receiptFacts(receipt);
  return {
    id: c.id,
    title: c.title,
    evidenced: true,
    summary: `${c.what}${facts ? ` (${facts})` : ''}.`,
    links: [{ href: await writer.json(c.path, receipt), label: receiptLabel(receipt) }],
  };
}

export const deletionClaim = (deps: Deps, tenant: string) =>
  latestReceiptClaim(deps, tenant, {
    id: 'deletion',
    title: 'Provable deletion',
    kind: 'retention.purged',
    path: 'deletion/purge-receipt.json',
    what: 'The latest purge manifest, signed as a receipt: what was deleted, while the Merkle log keeps the leaf hashes so earlier proofs still verify',
    none: 'No purge has run yet for this tenant, so there is no purge manifest to show.',
  });

export const drClaim = (deps: Deps, tenant: string) =>
  latestReceiptClaim(deps, tenant, {
    id: 'dr',
    title: 'DR drills with RPO/RTO',
    kind: 'dr.drill',
    path: 'dr/drill-receipt.json',
    what: 'The latest DR drill: backup restored into a scratch database and its ledger verified, with the measured RPO and RTO',
    none: 'No DR drill has run yet (`warden dr-drill`), so there are no RPO/RTO figures to show.',
  });

export async function reportClaim({ knex, writer }: Deps, tenant: string): Promise<Claim> {
  const [latest] = await listReports(knex, tenant, 1);
  const report = latest ? await getReport(knex, tenant, latest.id) : undefined;
  if (!report) {
    return {
      id: 'reports',
      title: 'Weekly Trust Reports',
      evidenced: false,
      summary: 'No Trust Report has been made for this tenant yet (`warden report --week last`).',
      links: [],
    };
  }
  const href = await writer.write(
    `reports/trust-report-${report.week}.${report.format}`,
    report.body,
  );
  return {
    id: 'reports',
    title: 'Weekly Trust Reports',
    evidenced: true,
    summary: `The latest Trust Report (${report.week}, sha256 ${report.sha256}, receipt ${report.receipt_id}).`,
    links: [{ href, label: `Trust Report ${report.week} (${report.format.toUpperCase()})` }],
  };
}
