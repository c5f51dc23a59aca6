/**
 * Verify-bundle: checks an evidence bundle offline — format, keys, tenant, digests, signatures, `seq`
 * continuity and `prev` links, the signed checkpoint and every receipt's Merkle inclusion in it — and
 * reports each check with its first failure, naming the receipt.
 */
import type { KeyObject } from 'node:crypto';
import { bundleFormat } from './bundle.js';
import { canonicalBytes } from './canonical-json.js';
import { verifyCheckpoint } from './checkpoint.js';
import { decodeDisclosure, disclosureDigest, sdField } from './disclosure.js';
import { keyIdOf, publicKeyFromPem, rawPublicKey, verifyEd25519 } from './ed25519.js';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle.js';
import { digestOf } from './receipt.js';
import { verifierKey } from './signed-note.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was checked, or the first failure, precisely. */
  detail: string;
  failures: number;
}

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

class Check {
  failures = 0;
  first: string | undefined;
  constructor(readonly name: string) {}
  fail(detail: string) {
    this.failures++;
    this.first ??= detail;
  }
  result(okDetail: string): CheckResult {
    return this.failures === 0
      ? { name: this.name, ok: true, detail: okDetail, failures: 0 }
      : {
          name: this.name,
          ok: false,
          detail:
            this.failures > 1
              ? `${this.first} (and ${this.failures - 1} more)`
              : (this.first as string),
          failures: this.failures,
        };
  }
}

type Obj = Record<string, unknown>;
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
/** An Ed25519 signature in canonical base64url: 64 bytes, 86 characters, no padding. */
const isSig = (v: unknown): v is string =>
  typeof v === 'string' && /^[A-Za-z0-9_-]{85}[AQgw]$/.test(v);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A receipt's name in messages, built only when a message uses it (template literals call
 * toString): verifying 100,000 receipts builds none when all is well.
 */
class Label {
  constructor(
    private readonly r: unknown,
    private readonly index: number,
  ) {}
  toString(): string {
    return label(this.r, this.index);
  }
}

const noDigests: ReadonlySet<string> = new Set();

function label(r: unknown, index: number): string {
  const p = isObj(r) && isObj(r.payload) ? r.payload : {};
  const id = typeof p.id === 'string' ? p.id : '?';
  const seq = typeof p.seq === 'number' ? p.seq : '?';
  return `receipt ${id} (seq ${seq}, #${index + 1} in bundle)`;
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

/**
 * The checkpoint (a C2SP signed note by one of the bundle's keys, for this tenant's log) and the
 * inclusion of every receipt it covers: each proof must lead from the receipt's leaf hash to the
 * checkpoint's root, and no covered receipt may lack one.
 */
function anchorChecks(
  bundle: Obj,
  tenant: string,
  keys: ReadonlyMap<string, KeyObject>,
  leaves: ReadonlyMap<string, { leaf: Buffer; seq: number; name: Label }>,
): CheckResult[] {
  const checkpoint = new Check('checkpoint');
  const inclusion = new Check('inclusion');
  const proofs = Array.isArray(bundle.proofs) ? bundle.proofs : [];
  if (bundle.checkpoint === null || bundle.checkpoint === undefined) {
    if (proofs.length > 0)
      inclusion.fail(`${proofs.length} proof(s) but no checkpoint to check them against`);
    return [
      checkpoint.result('no checkpoint: this tenant’s receipts are not anchored'),
      inclusion.result('no proofs'),
    ];
  }
  if (typeof bundle.checkpoint !== 'string') {
    checkpoint.fail('checkpoint is not a signed note (string)');
    return [checkpoint.result(''), inclusion.result('')];
  }
  const origin = bundle.checkpoint.split('\n', 1)[0] ?? '';
  let verified: ReturnType<typeof verifyCheckpoint> | undefined;
  let problems: string[] = [];
  for (const key of keys.values()) {
    let vkey: string;
    try {
      vkey = verifierKey(origin, rawPublicKey(key));
    } catch (err) {
      problems = [`the checkpoint's origin is not a valid key name (${(err as Error).message})`];
      break;
    }
    const v = verifyCheckpoint(bundle.checkpoint, vkey);
    if (v.ok) {
      verified = v;
      break;
    }
    problems = v.problems;
  }
  if (!verified?.ok) {
    checkpoint.fail(
      `the checkpoint is not signed by a bundle key: ${problems.join('; ') || 'no key'}`,
    );
    return [checkpoint.result(''), inclusion.result('')];
  }
  const cp = verified.checkpoint;
  if (!cp.origin.endsWith(`/${tenant}`))
    checkpoint.fail(`the checkpoint's log ${cp.origin} is not tenant ${tenant}'s`);
  const grew = consistencyCheck(bundle, cp, keys);
  const proven = new Set<string>();
  for (const [i, proof] of proofs.entries()) {
    const p = isObj(proof) ? proof : {};
    const target = typeof p.receiptId === 'string' ? leaves.get(p.receiptId) : undefined;
    const hashes = Array.isArray(p.hashes) ? p.hashes : [];
    if (!target) {
      inclusion.fail(`proof #${i + 1} names no receipt of the bundle`);
      continue;
    }
    proven.add(p.receiptId as string);
    const decoded = hashes.map((h) =>
      typeof h === 'string' ? Buffer.from(h, 'base64') : Buffer.alloc(0),
    );
    if (p.leafIndex !== target.seq - 1 || p.treeSize !== cp.size) {
      inclusion.fail(
        `${target.name}: proof is for leaf ${String(p.leafIndex)} of size ${String(p.treeSize)}, expected leaf ${target.seq - 1} of ${cp.size}`,
      );
    } else if (!verifyInclusion(target.leaf, target.seq - 1, cp.size, decoded, cp.rootHash)) {
      inclusion.fail(`${target.name}: the inclusion proof does not lead to the checkpoint root`);
    }
  }
  let covered = 0;
  let newer = 0;
  for (const [id, leaf] of leaves) {
    if (leaf.seq > cp.size) newer++;
    else {
      covered++;
      if (!proven.has(id))
        inclusion.fail(`${leaf.name}: covered by the checkpoint but has no proof`);
    }
  }
  return [
    checkpoint.result(`signed checkpoint of ${cp.origin}, size ${cp.size}`),
    ...(grew ? [grew] : []),
    inclusion.result(
      `${covered} receipt(s) proven included in the log of size ${cp.size}${newer > 0 ? `; ${newer} newer receipt(s) not yet anchored` : ''}`,
    ),
  ];
}

/**
 * With an older checkpoint in the bundle (`--since-checkpoint`): it is signed by a bundle key for
 * the same log, and the consistency proof shows the log grew from it to the bundle's checkpoint.
 */
function consistencyCheck(
  bundle: Obj,
  current: { origin: string; size: number; rootHash: Buffer },
  keys: ReadonlyMap<string, KeyObject>,
): CheckResult | undefined {
  if (bundle.consistency === undefined) return undefined;
  const check = new Check('consistency');
  const c = isObj(bundle.consistency) ? bundle.consistency : {};
  const note = typeof c.checkpoint === 'string' ? c.checkpoint : '';
  const hashes = Array.isArray(c.hashes) ? c.hashes : [];
  let old: { size: number; rootHash: Buffer } | undefined;
  for (const key of keys.values()) {
    const v = verifyCheckpoint(
      note,
      verifierKey(current.origin, rawPublicKey(key)),
      current.origin,
    );
    if (v.ok) old = v.checkpoint;
  }
  if (!old) {
    check.fail('the older checkpoint is not a note signed by a bundle key for the same log');
  } else {
    const decoded = hashes.map((h) =>
      typeof h === 'string' ? Buffer.from(h, 'base64') : Buffer.alloc(0),
    );
    if (!verifyConsistency(old.size, current.size, decoded, old.rootHash, current.rootHash)) {
      check.fail(
        `the log of size ${current.size} is not consistent with the older checkpoint of size ${old.size}`,
      );
    }
  }
  return check.result(`the log only grew: size ${old?.size} → ${current.size}, consistency proven`);
}

interface Committed {
  sd: ReadonlySet<string>;
  payload: Obj;
  name: Label;
}

/**
 * Each Disclosure the bundle carries: a well-formed `[salt, name, value]`, its digest among the
 * committed `_sd` digests of the signed receipt it names, a name the payload does not also show, and
 * disclosed once.
 */
function disclosureCheck(bundle: Obj, committed: ReadonlyMap<string, Committed>): CheckResult {
  const check = new Check('disclosures');
  const list = bundle.disclosures === undefined ? [] : bundle.disclosures;
  if (!Array.isArray(list)) {
    check.fail('disclosures is not an array');
    return check.result('');
  }
  let hidden = 0;
  for (const c of committed.values()) hidden += c.sd.size;
  const seen = new Set<string>();
  for (const [i, entry] of list.entries()) {
    const e = isObj(entry) ? entry : {};
    const target = typeof e.receiptId === 'string' ? committed.get(e.receiptId) : undefined;
    if (!target || typeof e.disclosure !== 'string') {
      check.fail(`disclosure #${i + 1} names no receipt of the bundle or has no disclosure`);
      continue;
    }
    const decoded = decodeDisclosure(e.disclosure);
    if (!decoded.ok) {
      check.fail(`${target.name}: disclosure #${i + 1} is ${decoded.problem}`);
    } else if (!target.sd.has(disclosureDigest(e.disclosure))) {
      check.fail(
        `${target.name}: the disclosure of "${decoded.name}" does not match any digest the receipt commits to`,
      );
    } else if (decoded.name in target.payload) {
      check.fail(`${target.name}: "${decoded.name}" is disclosed but also in the signed payload`);
    } else if (seen.has(`${e.receiptId}\n${decoded.name}`)) {
      check.fail(`${target.name}: "${decoded.name}" is disclosed twice`);
    } else {
      seen.add(`${e.receiptId}\n${decoded.name}`);
    }
  }
  return check.result(
    `${seen.size} disclosed field(s) match their receipts' digests; ${hidden - seen.size} private field(s) stay hidden`,
  );
}
