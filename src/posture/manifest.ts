/**
 * Posture manifest: every artifact of a pack with its SHA-256 and size, and the offline check that
 * re-hashes the folder and verifies the `posture.generated` receipt that signs the manifest.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { canonicalBytes } from '../ledger/canonical-json.js';
import { publicKeyFromPem, verifyEd25519 } from '../ledger/ed25519.js';
import { digestOf, type Receipt } from '../ledger/receipt.js';

export const manifestFormat = 'warden-posture/v1';
export const manifestFile = 'MANIFEST.json';
export const manifestReceiptFile = 'MANIFEST.receipt.json';
/** The key the manifest receipt is checked with, inside the pack. */
export const publicKeyFile = 'receipts/public-key.pem';

export interface ManifestArtifact {
  /** Relative to the pack folder, with `/`. */
  path: string;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  size: number;
}

export interface PostureManifest {
  format: typeof manifestFormat;
  tenant: string;
  generatedAt: string;
  artifacts: ManifestArtifact[];
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Every file under `dir` except the manifest and its receipt, sorted, with `/` separators. */
export async function listPackFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((p) => p !== manifestFile && p !== manifestReceiptFile)
    .sort();
}

/** Hashes the given files of the pack. */
export async function describeArtifacts(dir: string, paths: string[]): Promise<ManifestArtifact[]> {
  return Promise.all(
    paths.map(async (path) => {
      const bytes = await readFile(join(dir, path));
      return { path, sha256: sha256Hex(bytes), size: bytes.length };
    }),
  );
}

export interface ManifestCheck {
  ok: boolean;
  /** One line per problem: a changed, missing or unlisted file, or a receipt that does not match. */
  problems: string[];
}

/**
 * Re-checks a pack offline: each listed file's digest and size, no unlisted file, and the
 * `posture.generated` receipt — its digest over the RFC 8785 payload, its Ed25519 signature with
 * `receipts/public-key.pem`, and the manifest SHA-256 it holds.
 * @example
 * const { ok, problems } = await checkManifest('./posture-acme');
 */
export async function checkManifest(dir: string): Promise<ManifestCheck> {
  const problems: string[] = [];
  const manifestBytes = await readFile(join(dir, manifestFile));
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as PostureManifest;
  const listed = new Set(manifest.artifacts.map((a) => a.path));
  for (const a of manifest.artifacts) {
    const bytes = await readFile(join(dir, a.path)).catch(() => undefined);
    if (!bytes) problems.push(`${a.path}: missing`);
    else if (sha256Hex(bytes) !== a.sha256 || bytes.length !== a.size) {
      problems.push(
        `${a.path}: sha256 ${sha256Hex(bytes)} (${bytes.length} B) ≠ listed ${a.sha256}`,
      );
    }
  }
  for (const path of await listPackFiles(dir)) {
    if (!listed.has(path)) problems.push(`${path}: not listed in ${manifestFile}`);
  }
  problems.push(...(await checkReceipt(dir, sha256Hex(manifestBytes))));
  return { ok: problems.length === 0, problems };
}

async function checkReceipt(dir: string, manifestSha256: string): Promise<string[]> {
  const receipt = JSON.parse(await readFile(join(dir, manifestReceiptFile), 'utf8')) as Receipt;
  const pem = await readFile(join(dir, publicKeyFile), 'utf8');
  const bytes = canonicalBytes(receipt.payload);
  const problems: string[] = [];
  if (receipt.payload.kind !== 'posture.generated') problems.push('receipt: not posture.generated');
  if (digestOf(bytes) !== receipt.digest) problems.push('receipt: digest does not match payload');
  const sig = Buffer.from(receipt.signature.sig, 'base64url');
  if (!verifyEd25519(publicKeyFromPem(pem), bytes, sig)) problems.push('receipt: bad signature');
  if (receipt.payload.manifestSha256 !== manifestSha256) {
    problems.push(`receipt: holds manifest sha256 ${String(receipt.payload.manifestSha256)}`);
  }
  return problems;
}
