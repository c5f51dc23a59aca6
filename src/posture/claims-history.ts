/**
 * Claims the live system proves only once something has happened: provable deletion (the latest
 * `retention.purged` receipt), DR drills (the latest `dr.drill` receipt) and the latest Trust Report.
 * When nothing happened yet, the claim says so.
 */
import type { Knex } from 'knex';
import { inclusionProofs } from '../ledger/anchor.js';
import { getCheckpoint } from '../storage/merkle.js';
import { getReport, listReports } from '../storage/reports.js';
import { getPurgeManifest } from '../storage/retention.js';
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

/**
 * The latest purge manifest, with what makes it checkable: the stored id lists its digests cover,
 * and its receipt's inclusion proof in the tenant's log against the current checkpoint.
 */
export async function deletionClaim(deps: Deps, tenant: string): Promise<Claim> {
  const claim = await latestReceiptClaim(deps, tenant, {
    id: 'deletion',
    title: 'Provable deletion',
    kind: 'retention.purged',
    path: 'deletion/purge-receipt.json',
    what: 'The latest purge manifest, signed as a receipt: what was deleted, while the Merkle log keeps the leaf hashes so earlier proofs still verify',
    none: 'No purge has run yet for this tenant, so there is no purge manifest to show.',
  });
  const [receipt] = await latestReceipts(deps.knex, tenant, { kind: 'retention.purged', limit: 1 });
  if (!claim.evidenced || !receipt) return claim;
  const id = receipt.payload.id;
  const lists = await getPurgeManifest(deps.knex, tenant, id);
  if (lists) {
    claim.links.push({
      href: await deps.writer.json('deletion/purge-ids.json', lists),
      label: 'the purged ids, from which each category’s idsDigest is recomputed',
    });
  }
  const checkpoint = await getCheckpoint(deps.knex, tenant);
  const seq = receipt.payload.seq;
  if (checkpoint && seq <= checkpoint.size) {
    const [hashes] = await inclusionProofs(deps.knex, tenant, seq - 1, seq, checkpoint.size);
    const proof = {
      receiptId: id,
      leafIndex: seq - 1,
      treeSize: checkpoint.size,
      hashes: (hashes ?? []).map((h) => h.toString('base64')),
      checkpoint: checkpoint.note,
    };
    claim.links.push({
      href: await deps.writer.json('deletion/purge-proof.json', proof),
      label: `its inclusion proof in the log of size ${checkpoint.size} (RFC 9162)`,
    });
  }
  return claim;
}

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
