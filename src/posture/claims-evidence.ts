/**
 * The "signed receipts" and "offline-verifiable evidence" claims: sample receipts with the public key
 * and the openssl script, and an evidence bundle (anchored first) with the standalone verify script.
 */
import type { Knex } from 'knex';
import type { Anchoring } from '../ledger/anchor.js';
import { exportBundle } from '../ledger/bundle.js';
import type { Signer } from '../ledger/ed25519.js';
import type { Claim, PackLink } from './claim.js';
import { receiptLabel } from './claim.js';
import { latestReceipts, publicKeyPem } from './latest-receipts.js';
import { publicKeyFile } from './manifest.js';
import { type PackWriter, packageFile } from './pack-writer.js';

/** Newest receipts copied as samples. */
const samples = 3;

export async function receiptsClaim(
  deps: { knex: Knex; writer: PackWriter; signer: Pick<Signer, 'keyId' | 'publicKeyPem'> },
  tenant: string,
): Promise<Claim> {
  const { knex, writer, signer } = deps;
  const pem = (await publicKeyPem(knex, signer.keyId)) ?? signer.publicKeyPem;
  const links: PackLink[] = [
    { href: await writer.write(publicKeyFile, pem), label: `public key ${signer.keyId}` },
    {
      href: await writer.copy(
        packageFile('templates/posture/verify-one-receipt.sh'),
        'receipts/verify-one-receipt.sh',
      ),
      label: 'verify-one-receipt.sh (openssl pkeyutl -verify -rawin)',
    },
  ];
  const newest = await latestReceipts(knex, tenant, { limit: samples });
  for (const [i, receipt] of newest.entries()) {
    const href = await writer.json(`receipts/sample-${i + 1}.json`, receipt);
    links.push({ href, label: receiptLabel(receipt) });
  }
  return {
    id: 'receipts',
    title: 'Signed receipts',
    evidenced: newest.length > 0,
    summary:
      'Every decision is a receipt: Ed25519 over the RFC 8785 bytes of its payload, chained by ' +
      'SHA-256 to the one before. Check a sample with `sh receipts/verify-one-receipt.sh ' +
      'receipts/sample-1.json` (OpenSSL alone).',
    links,
  };
}

export async function evidenceClaim(
  deps: { knex: Knex; writer: PackWriter; anchoring?: Anchoring | undefined },
  tenant: string,
): Promise<Claim> {
  const { knex, writer, anchoring } = deps;
  const anchored = anchoring ? await anchoring.enabled(tenant) : false;
  if (anchoring && anchored) await anchoring.anchor(tenant);
  const bundle = await exportBundle(knex, tenant);
  const links: PackLink[] = [
    {
      href: await writer.json('evidence/bundle.json', bundle),
      label: `evidence bundle: ${bundle.receipts.length} receipt(s), ${bundle.proofs.length} inclusion proof(s)`,
    },
    {
      href: await writer.copy(packageFile('docs/verify-bundle.mjs'), 'evidence/verify-bundle.mjs'),
      label: 'verify-bundle.mjs (plain Node, no packages)',
    },
  ];
  return {
    id: 'evidence',
    title: 'Offline-verifiable evidence',
    evidenced: bundle.receipts.length > 0,
    summary:
      `Run \`node evidence/verify-bundle.mjs evidence/bundle.json\`: it checks digests, signatures, ` +
      `the hash chain${bundle.checkpoint ? ', the RFC 9162 inclusion proofs and the signed checkpoint' : ''} ` +
      `without Warden.${bundle.checkpoint ? '' : ' This tenant is not anchored, so the bundle has no checkpoint.'}`,
    links,
  };
}
