/**
 * Verify-bundle: checks an evidence bundle offline — format, keys, tenant, digests, signatures, `seq`
 * continuity and `prev` links, the signed checkpoint and every receipt's Merkle inclusion in it — and
 * reports each check with its first failure, naming the receipt.
 */
import type { KeyObject } from 'node:crypto';
import { bundleFormat } from './bundle.js';
import { canonicalBytes } from './canonical-json.js';
import { sdField } from './disclosure.js';
import { keyIdOf, publicKeyFromPem, verifyEd25519 } from './ed25519.js';
import { leafHash } from './merkle.js';
import { digestOf } from './receipt.js';
import { anchorChecks } from './verify-anchor.js';
import { Check, type CheckResult, isObj, isSeq, isSig, Label, noDigests } from './verify-check.js';
import { type Committed, disclosureCheck } from './verify-disclosures.js';

export type { CheckResult } from './verify-check.js';

export interface VerifyOptions {
  /** Called every `progressEvery` receipts. */
  onProgress?: (done: number, total: number) => void;
  /** @defaultValue 10000 */
  progressEvery?: number;
}

export interface VerifyReport {
  ok: boolean;
  checks: CheckResult[];
}

/** One Ed25519 signature to check: the receipt's canonical payload bytes, its signature, its key. */
export interface SignatureJob {
  bytes: Buffer;
  sig: Buffer;
  key: KeyObject;
  /** The key's index in the bundle's `keys[]` (for a worker that holds the same list). */
  keyIndex: number;
}

/**
 * Checks signatures handed to it during the checks; `results()` answers, in the order they were
 * added, whether each verified. Inline, or spread over worker threads (verify-parallel.ts).
 */
export interface SignatureVerifier {
  add(job: SignatureJob): void;
  results(): boolean[] | Promise<boolean[]>;
}

/** Verifies each signature on the calling thread. */
export function inlineVerifier(): SignatureVerifier {
  const oks: boolean[] = [];
  return {
    add: (job) => oks.push(verifyEd25519(job.key, job.bytes, job.sig)),
    results: () => oks,
  };
}

/** A verification in two steps: every check but the signatures, then those from the verifier. */
export interface PendingVerify {
  signatures: boolean[] | Promise<boolean[]>;
  finish(signatures: boolean[]): VerifyReport;
}

/**
 * @example
 * const report = verifyBundle(JSON.parse(readFileSync('bundle.json', 'utf8')));
 * if (!report.ok) process.exitCode = 1;
 */
export function verifyBundle(bundle: unknown, options: VerifyOptions = {}): VerifyReport {
  const pending = startVerify(bundle, options, inlineVerifier());
  return pending.finish(pending.signatures as boolean[]);
}

/**
 * Runs every check; signatures go to `verifier` as the receipts are read, so a parallel verifier
 * works while the rest is being checked.
 */
export function startVerify(
  bundle: unknown,
  options: VerifyOptions,
  verifier: SignatureVerifier,
): PendingVerify {
  const done = (report: VerifyReport): PendingVerify => ({ signatures: [], finish: () => report });
  const format = new Check('format');
  if (!isObj(bundle)) {
    format.fail('the bundle is not a JSON object');
    return done({ ok: false, checks: [format.result('')] });
  }
  if (bundle.format !== bundleFormat)
    format.fail(`format is ${JSON.stringify(bundle.format)}, expected "${bundleFormat}"`);
  if (typeof bundle.tenant !== 'string') format.fail('tenant is missing');
  if (!Array.isArray(bundle.receipts)) format.fail('receipts is not an array');
  if (!Array.isArray(bundle.keys)) format.fail('keys is not an array');
  const receipts: unknown[] = Array.isArray(bundle.receipts) ? bundle.receipts : [];
  const tenant = bundle.tenant as string;
  const checks = [
    format.result(`${bundleFormat}, tenant ${tenant}, ${receipts.length} receipt(s)`),
  ];
  if (!checks[0]?.ok) return done({ ok: false, checks });

  const keysCheck = new Check('keys');
  const keys = new Map<string, KeyObject>();
  const keyIndex = new Map<string, number>();
  for (const [i, k] of (bundle.keys as unknown[]).entries()) {
    if (!isObj(k) || typeof k.keyId !== 'string' || typeof k.publicKeyPem !== 'string') {
      keysCheck.fail(`key #${i + 1} lacks keyId or publicKeyPem`);
      continue;
    }
    try {
      const pub = publicKeyFromPem(k.publicKeyPem);
      if (k.alg !== 'Ed25519' || pub.asymmetricKeyType !== 'ed25519') {
        keysCheck.fail(`key ${k.keyId} is not Ed25519`);
      } else if (keyIdOf(pub) !== k.keyId)
        keysCheck.fail(`key ${k.keyId} has id ${keyIdOf(pub)} by its public key`);
      else {
        keys.set(k.keyId, pub);
        keyIndex.set(k.keyId, i);
      }
    } catch {
      keysCheck.fail(`key ${k.keyId} is not a PEM public key`);
    }
  }
  checks.push(keysCheck.result(`${keys.size} Ed25519 key(s), ids match their public keys`));

  const shape = new Check('shape');
  const tenantCheck = new Check('tenant');
  const digests = new Check('digests');
  const signatures = new Check('signatures');
  const sequence = new Check('sequence');
  const chain = new Check('chain');
  const ids = new Set<string>();
  /** Leaf hash and seq of each well-formed receipt, by id (for the inclusion proofs). */
  const leaves = new Map<string, { leaf: Buffer; seq: number; name: Label }>();
  /** The committed digests (`_sd`) and public field names of each receipt, by id. */
  const committed = new Map<string, Committed>();
  /** The receipt of each signature handed to the verifier, in order. */
  const sigNames: Label[] = [];
  let prevSeq: number | undefined;
  let prevDigest: string | undefined;
  let firstSeq: number | undefined;
  const every = options.progressEvery ?? 10_000;
  // An export without a lower bound covers the chain from its start.
  const fullChain = isObj(bundle.range) && bundle.range.since === null;

  receipts.forEach((r, i) => {
    if (i > 0 && i % every === 0) options.onProgress?.(i, receipts.length);
    const name = new Label(r, i);
    const p = isObj(r) && isObj(r.payload) ? r.payload : undefined;
    const sig = isObj(r) && isObj(r.signature) ? r.signature : undefined;
    if (!isObj(r) || !p || !sig || typeof r.digest !== 'string' || !isSeq(p.seq)) {
      shape.fail(`${name} lacks payload, digest, signature or seq`);
      prevSeq = undefined;
      prevDigest = undefined;
      return;
    }
    if (typeof p.id !== 'string' || ids.has(p.id))
      shape.fail(`${name} has a missing or repeated id`);
    else ids.add(p.id);

    if (p.tenant !== tenant)
      tenantCheck.fail(`${name} belongs to tenant ${JSON.stringify(p.tenant)}, not ${tenant}`);

    let bytes: Buffer | undefined;
    try {
      bytes = canonicalBytes(p);
    } catch {
      digests.fail(`${name}: payload cannot be canonicalised`);
    }
    if (bytes) {
      if (typeof p.id === 'string') {
        leaves.set(p.id, { leaf: leafHash(bytes), seq: p.seq, name });
        const sd = p[sdField];
        committed.set(p.id, {
          sd: Array.isArray(sd) ? new Set(sd.filter((d) => typeof d === 'string')) : noDigests,
          payload: p,
          name,
        });
      }
      const actual = digestOf(bytes);
      if (actual !== r.digest)
        digests.fail(`${name}: payload hashes to ${actual}, the receipt says ${r.digest}`);
      const key = typeof sig.keyId === 'string' ? keys.get(sig.keyId) : undefined;
      if (sig.alg !== 'Ed25519')
        signatures.fail(`${name}: algorithm ${String(sig.alg)} is not Ed25519`);
      else if (!key) signatures.fail(`${name}: signed by unknown key ${String(sig.keyId)}`);
      else if (!isSig(sig.sig)) {
        signatures.fail(`${name}: Ed25519 signature does not verify over the payload bytes`);
      } else {
        verifier.add({
          bytes,
          sig: Buffer.from(sig.sig, 'base64url'),
          key,
          keyIndex: keyIndex.get(sig.keyId as string) as number,
        });
        sigNames.push(name);
      }
    }

    if (prevSeq === undefined) {
      if (firstSeq === undefined && fullChain && p.seq !== 1) {
        sequence.fail(
          `${name}: a full export must start at seq 1; ${p.seq - 1} receipt(s) missing`,
        );
      }
      firstSeq ??= p.seq;
      if (p.seq === 1 && p.prev !== null)
        chain.fail(`${name}: the first receipt of the chain must have prev null`);
    } else if (p.seq !== prevSeq + 1) {
      sequence.fail(
        p.seq > prevSeq + 1
          ? `${name}: expected seq ${prevSeq + 1}; ${p.seq - prevSeq - 1} receipt(s) missing`
          : `${name}: seq ${p.seq} follows seq ${prevSeq} (out of order or repeated)`,
      );
    } else if (p.prev !== prevDigest) {
      chain.fail(`${name}: prev is ${String(p.prev)}, but seq ${prevSeq} has digest ${prevDigest}`);
    }
    prevSeq = p.seq;
    prevDigest = r.digest;
  });
  if (receipts.length >= every) options.onProgress?.(receipts.length, receipts.length);

  const n = receipts.length;
  checks.push(
    shape.result(`${n} receipt(s) well-formed with unique ids`),
    tenantCheck.result(`every receipt belongs to ${tenant}`),
    digests.result(`${n}/${n} digests match SHA-256 of the RFC 8785 payload bytes`),
  );
  const signaturesAt = checks.length;
  checks.push(
    sequence.result(n === 0 ? 'no receipts' : `seq ${firstSeq}..${prevSeq} with no gap`),
    chain.result(
      firstSeq === 1 || n === 0
        ? 'every prev links to the previous digest, from the chain start'
        : `every prev links to the previous digest (slice starts at seq ${firstSeq})`,
    ),
  );
  checks.push(...anchorChecks(bundle, tenant, keys, leaves));
  checks.push(disclosureCheck(bundle, committed));
  return {
    signatures: verifier.results(),
    finish(oks) {
      sigNames.forEach((name, i) => {
        if (oks[i] !== true) {
          signatures.fail(`${name}: Ed25519 signature does not verify over the payload bytes`);
        }
      });
      checks.splice(signaturesAt, 0, signatures.result(`${n}/${n} Ed25519 signatures valid`));
      return { ok: checks.every((c) => c.ok), checks };
    },
  };
}
