#!/usr/bin/env node
/**
 * verify-bundle.mjs — checks a Warden evidence bundle (`warden-evidence/v1`) without Warden.
 *
 *   node docs/verify-bundle.mjs bundle.json
 *
 * One self-contained file for auditors: Node 20 or later, its built-in `node:crypto` and `node:fs`
 * only — no Warden code, no packages. It re-does every check `warden verify` makes, from the
 * standards alone (see docs/evidence.md):
 *
 *   format      the bundle's shape: `format`, `tenant`, `keys[]`, `receipts[]`
 *   keys        each key is an Ed25519 SPKI PEM whose `keyId` is derived from the key itself
 *   shape       each receipt has payload, digest, signature and a `seq`; ids are unique
 *   tenant      every receipt belongs to the bundle's tenant
 *   digests     digest = "sha256:" + hex SHA-256 of the payload's RFC 8785 canonical bytes
 *   signatures  Ed25519 (RFC 8032) over those same bytes, by a key of the bundle
 *   sequence    `seq` goes up by one; an export without `since` starts at 1
 *   chain       each `prev` is the digest of the receipt before it; seq 1 has prev null
 *   checkpoint  a C2SP tlog-checkpoint signed note, key name = origin, by a bundle key, for this tenant
 *   consistency (only in exports made with --since-checkpoint) the older checkpoint is signed by a
 *               bundle key for the same log, and the log only grew from it (RFC 9162 consistency proof)
 *   inclusion   each proof leads from its receipt's Merkle leaf to the checkpoint's root (RFC 9162),
 *               and every receipt the checkpoint covers has one
 *   disclosures each disclosed private field — base64url of the JSON array [salt, name, value], as in
 *               SD-JWT (RFC 9901 §4.2) — hashes (SHA-256 of its ASCII text, base64url) to a digest in
 *               the `_sd` list its signed receipt commits to, is not also in the payload, and is
 *               disclosed once
 *
 * Prints one line per check (✓ or ✗ and its first failure). Exit code: 0 every check passed, 1 a
 * check failed (or the file cannot be read as JSON), 2 usage error.
 */
import { Buffer } from 'node:buffer';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const sha256 = (...parts) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasLoneSurrogate = (s) => /\p{Surrogate}/u.test(s);

// ─── RFC 8785 (JSON Canonicalization Scheme) ──────────────────────────────────────────────────────
// Receipts hold JSON parsed from the bundle: objects, arrays, strings, finite numbers, booleans, null.
// For those, RFC 8785 is: no white space; object keys sorted by their UTF-16 code units (what
// Array.prototype.sort does with no comparator); strings and numbers exactly as ECMAScript's
// JSON.stringify writes them (for a finite number that is the ES6 Number-to-String algorithm RFC 8785
// §3.2.2.3 prescribes: 1.0 → 1, 1e21 → 1e+21, -0 → 0); UTF-8 output.
function canonicalJson(value) {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('NaN and Infinity are not JSON');
    return JSON.stringify(value);
  }
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value)) throw new Error('a lone surrogate is not valid Unicode');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObj(value)) {
    const members = Object.keys(value)
      .sort()
      .map((key) => `${canonicalJson(key)}:${canonicalJson(value[key])}`);
    return `{${members.join(',')}}`;
  }
  throw new Error(`${typeof value} is not a JSON value`);
}
const canonicalBytes = (value) => Buffer.from(canonicalJson(value), 'utf8');

// ─── Ed25519 keys and signatures ──────────────────────────────────────────────────────────────────
// The raw 32-byte public key is the SPKI DER minus its fixed 12-byte prefix 302a300506032b6570032100.
const rawPublicKey = (key) => key.export({ format: 'der', type: 'spki' }).subarray(12);
// Warden's key id: "ed25519:" + the first 16 hex digits of SHA-256(raw public key).
const keyIdOf = (key) => `ed25519:${sha256(rawPublicKey(key)).toString('hex').slice(0, 16)}`;
/** Strict RFC 8032 verification (OpenSSL rejects non-canonical and malleable signatures). */
function verifyEd25519(key, message, signature) {
  if (signature.length !== 64) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
/** A 64-byte signature in canonical base64url without padding: 86 characters. */
const isSig = (v) => typeof v === 'string' && /^[A-Za-z0-9_-]{85}[AQgw]$/.test(v);

// ─── RFC 9162 Merkle tree ─────────────────────────────────────────────────────────────────────────
// Leaf hash = SHA-256(0x00 ‖ leaf bytes); node hash = SHA-256(0x01 ‖ left ‖ right). Warden's leaf i of
// a tenant's log is the canonical payload of the receipt with seq i + 1.
const leafHash = (bytes) => sha256(Buffer.of(0x00), bytes);
const nodeHash = (left, right) => sha256(Buffer.of(0x01), left, right);
const half = (x) => Math.floor(x / 2); // not `>> 1`: indices may exceed 32 bits
function isPowerOfTwo(x) {
  let p = 1;
  while (p < x) p *= 2;
  return p === x;
}

/** RFC 9162 §2.1.3.2: does `proof` lead from `leaf` at `index` of a tree of `size` to `root`? */
function verifyInclusion(leaf, index, size, proof, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size)) return false;
  if (index < 0 || index >= size || leaf.length !== 32 || root.length !== 32) return false;
  if (!proof.every((h) => h.length === 32)) return false;
  let [fn, sn, r] = [index, size - 1, leaf];
  for (const p of proof) {
    if (sn === 0) return false; // the proof is longer than the path
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = nodeHash(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && r.equals(root);
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show the tree of `size2` (root2) extends the tree of `size1`
 * (root1)? A proof from the empty tree proves nothing; equal sizes need an empty proof, equal roots.
 */
function verifyConsistency(size1, size2, proof, root1, root2) {
  if (size1 < 1 || size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && root1.equals(root2);
  if (!proof.every((h) => h.length === 32)) return false;
  // A power-of-two size1 is a complete subtree of size2: its root is the path's first node.
  const [seed, ...path] = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  if (seed === undefined) return false;
  let [fn, sn, fr, sr] = [size1 - 1, size2 - 1, seed, seed];
  while (fn % 2 === 1) [fn, sn] = [half(fn), half(sn)];
  for (const c of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      [fr, sr] = [nodeHash(c, fr), nodeHash(c, sr)];
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = nodeHash(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && fr.equals(root1) && sr.equals(root2);
}

// ─── C2SP signed note and tlog-checkpoint ─────────────────────────────────────────────────────────
// A note is: text (ending in "\n"), a blank line, then lines "— <key name> <base64(key ID ‖ sig)>".
// Ed25519 key ID = SHA-256(key name ‖ "\n" ‖ 0x01 ‖ raw public key)[:4]; the signature covers the text.
const isKeyName = (name) =>
  name !== '' && !/[\p{White_Space}+]/u.test(name) && !hasLoneSurrogate(name);
const noteKeyId = (name, raw) =>
  sha256(Buffer.from(name, 'utf8'), Buffer.of(0x0a, 0x01), raw).subarray(0, 4).toString('hex');
/** Standard base64 with padding, canonical (re-encodes to the same text), else undefined. */
function base64Std(text) {
  if (text === '' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** Splits a signed note into its text and signature lines; throws saying what is malformed. */
function parseNote(note) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note))
    throw new Error('a control character other than newline');
  if (hasLoneSurrogate(note)) throw new Error('not valid UTF-8 (lone surrogate)');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('no blank line before the signature lines');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n'))
    throw new Error('the signature lines must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > 100) throw new Error(`${lines.length} signature lines, more than 100`);
  const signatures = lines.map((line, i) => {
    const space = line.indexOf(' ', 2);
    const name = line.slice(2, space);
    const bytes = base64Std(line.slice(space + 1));
    if (
      !line.startsWith('\u2014 ') ||
      space < 0 ||
      !isKeyName(name) ||
      !bytes ||
      bytes.length < 5
    ) {
      throw new Error(
        `signature line ${i + 1} is not "— <key name> <base64 key ID and signature>"`,
      );
    }
    return { name, keyId: bytes.subarray(0, 4).toString('hex'), sig: bytes.subarray(4) };
  });
  return { text, signatures };
}

/** The checkpoint's text: origin, tree size (decimal, no leading zero), base64 root hash, extensions. */
function parseCheckpoint(text) {
  const lines = text.slice(0, -1).split('\n');
  const [origin = '', sizeLine = '', rootLine = ''] = lines;
  if (lines.length < 3) throw new Error('origin, tree size and root hash lines are needed');
  if (lines.indexOf('') > 0) throw new Error('an empty line in the checkpoint');
  if (origin === '' || /^\p{White_Space}|\p{White_Space}$/u.test(origin))
    throw new Error('bad origin');
  if (!/^(0|[1-9]\d*)$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) {
    throw new Error(`the tree size ${JSON.stringify(sizeLine)} is not a decimal number below 2^53`);
  }
  const rootHash = base64Std(rootLine);
  if (rootHash?.length !== 32) throw new Error('the root hash is not 32 bytes of base64');
  return { origin, size: Number(sizeLine), rootHash };
}

/**
 * Verifies a checkpoint note against each bundle key in turn, under key name `origin` (Warden's key
 * name is the log's origin). A key passes when at least one signature line carries its name and key
 * ID, each such line verifies, no such line is repeated, and the signed text is a checkpoint of that
 * origin. Returns the parsed checkpoint, or the reason it fails.
 */
function verifyCheckpoint(note, keys, origin) {
  if (keys.size === 0) return { why: 'no key' };
  if (!isKeyName(origin))
    return { why: `the origin ${JSON.stringify(origin)} is not a valid key name` };
  let opened;
  try {
    opened = parseNote(note);
  } catch (err) {
    return { why: `malformed note: ${err.message}` };
  }
  let why = '';
  for (const key of keys.values()) {
    const id = noteKeyId(origin, rawPublicKey(key));
    const mine = opened.signatures.filter((s) => s.name === origin && s.keyId === id);
    const message = Buffer.from(opened.text, 'utf8');
    if (mine.length === 0) why = `no signature by ${origin}+${id}`;
    else if (mine.length > 1) why = `${origin}+${id} signed more than once`;
    else if (!verifyEd25519(key, message, mine[0].sig))
      why = `the signature by ${origin}+${id} does not verify`;
    else {
      try {
        const checkpoint = parseCheckpoint(opened.text);
        if (checkpoint.origin === origin) return { checkpoint };
        why = `the checkpoint is for ${checkpoint.origin}, not ${origin}`;
      } catch (err) {
        why = `malformed checkpoint: ${err.message}`;
      }
    }
  }
  return { why };
}

// ─── The checks ───────────────────────────────────────────────────────────────────────────────────
/** One named check: counts failures, keeps the first one's detail. */
function check(name) {
  let failures = 0;
  let first;
  return {
    fail(detail) {
      failures++;
      first ??= detail;
    },
    result: (okDetail) => ({
      name,
      ok: failures === 0,
      detail:
        failures === 0 ? okDetail : failures > 1 ? `${first} (and ${failures - 1} more)` : first,
    }),
  };
}

function label(r, i) {
  const p = isObj(r) && isObj(r.payload) ? r.payload : {};
  const seq = typeof p.seq === 'number' ? p.seq : '?';
  return `receipt ${typeof p.id === 'string' ? p.id : '?'} (seq ${seq}, #${i + 1} in bundle)`;
}

/** Runs every check over a parsed bundle; returns [{ name, ok, detail }]. */
function verifyBundle(bundle) {
  const committed = new Map(); // receipt id → { sd: Set of digests, payload, name }
  const results = verifyChainAndLog(bundle, committed);
  if (results[0].ok) results.push(disclosureCheck(bundle, committed));
  return results;
}

/** The checks from `format` to `inclusion`; fills `committed` with each signed receipt's `_sd`. */
function verifyChainAndLog(bundle, committed) {
  const format = check('format');
  if (!isObj(bundle)) {
    format.fail('the bundle is not a JSON object');
    return [format.result('')];
  }
  if (bundle.format !== 'warden-evidence/v1')
    format.fail(`format is ${JSON.stringify(bundle.format)}`);
  if (typeof bundle.tenant !== 'string') format.fail('tenant is missing');
  if (!Array.isArray(bundle.receipts)) format.fail('receipts is not an array');
  if (!Array.isArray(bundle.keys)) format.fail('keys is not an array');
  const { tenant, receipts } = bundle;
  const results = [
    format.result(`warden-evidence/v1, tenant ${tenant}, ${receipts?.length} receipt(s)`),
  ];
  if (!results[0].ok) return results;

  // Keys: Ed25519 SPKI PEM, keyId derived from the key.
  const keysCheck = check('keys');
  const keys = new Map(); // keyId → KeyObject
  for (const [i, k] of bundle.keys.entries()) {
    if (!isObj(k) || typeof k.keyId !== 'string' || typeof k.publicKeyPem !== 'string') {
      keysCheck.fail(`key #${i + 1} lacks keyId or publicKeyPem`);
      continue;
    }
    let pub;
    try {
      pub = createPublicKey({ key: k.publicKeyPem, format: 'pem' });
    } catch {
      keysCheck.fail(`key ${k.keyId} is not a PEM public key`);
      continue;
    }
    if (k.alg !== 'Ed25519' || pub.asymmetricKeyType !== 'ed25519')
      keysCheck.fail(`key ${k.keyId} is not Ed25519`);
    else if (keyIdOf(pub) !== k.keyId)
      keysCheck.fail(`key ${k.keyId} has id ${keyIdOf(pub)} by its public key`);
    else keys.set(k.keyId, pub);
  }
  results.push(keysCheck.result(`${keys.size} Ed25519 key(s), ids match their public keys`));

  // Receipts, in bundle order.
  const names = 'shape tenant digests signatures sequence chain'.split(' ');
  const [shape, tenantCheck, digests, signatures, sequence, chain] = names.map(check);
  const ids = new Set();
  const leaves = new Map(); // receipt id → { leaf hash, seq, label }, for the inclusion proofs
  let prevSeq;
  let prevDigest;
  let firstSeq;
  // An export without a lower bound must hold the chain from its first receipt.
  const fullChain = isObj(bundle.range) && bundle.range.since === null;
  for (const [i, r] of receipts.entries()) {
    const name = label(r, i);
    const p = isObj(r) && isObj(r.payload) ? r.payload : undefined;
    const sig = isObj(r) && isObj(r.signature) ? r.signature : undefined;
    if (!p || !sig || typeof r.digest !== 'string' || !Number.isSafeInteger(p.seq) || p.seq < 1) {
      shape.fail(`${name} lacks payload, digest, signature or seq`);
      [prevSeq, prevDigest] = [undefined, undefined];
      continue;
    }
    if (typeof p.id !== 'string' || ids.has(p.id))
      shape.fail(`${name} has a missing or repeated id`);
    else ids.add(p.id);
    if (p.tenant !== tenant)
      tenantCheck.fail(`${name} belongs to tenant ${JSON.stringify(p.tenant)}`);

    // The signed bytes: digest, signature and Merkle leaf are all over the same canonical payload.
    let bytes;
    try {
      bytes = canonicalBytes(p);
    } catch {
      digests.fail(`${name}: payload cannot be canonicalised`);
    }
    if (bytes) {
      if (typeof p.id === 'string') {
        leaves.set(p.id, { leaf: leafHash(bytes), seq: p.seq, name });
        const sd = Array.isArray(p._sd) ? p._sd.filter((d) => typeof d === 'string') : [];
        committed.set(p.id, { sd: new Set(sd), payload: p, name });
      }
      const actual = `sha256:${sha256(bytes).toString('hex')}`;
      if (actual !== r.digest)
        digests.fail(`${name}: payload hashes to ${actual}, the receipt says ${r.digest}`);
      const key = typeof sig.keyId === 'string' ? keys.get(sig.keyId) : undefined;
      if (sig.alg !== 'Ed25519')
        signatures.fail(`${name}: algorithm ${String(sig.alg)} is not Ed25519`);
      else if (!key) signatures.fail(`${name}: signed by unknown key ${String(sig.keyId)}`);
      else if (!isSig(sig.sig) || !verifyEd25519(key, bytes, Buffer.from(sig.sig, 'base64url'))) {
        signatures.fail(`${name}: Ed25519 signature does not verify over the payload bytes`);
      }
    }

    // The chain: seq + 1 each time, prev = the digest before.
    if (prevSeq === undefined) {
      if (firstSeq === undefined && fullChain && p.seq !== 1) {
        sequence.fail(
          `${name}: a full export must start at seq 1; ${p.seq - 1} receipt(s) missing`,
        );
      }
      firstSeq ??= p.seq;
      if (p.seq === 1 && p.prev !== null)
        chain.fail(`${name}: the first receipt must have prev null`);
    } else if (p.seq !== prevSeq + 1) {
      sequence.fail(`${name}: expected seq ${prevSeq + 1}, found ${p.seq}`);
    } else if (p.prev !== prevDigest) {
      chain.fail(`${name}: prev is ${String(p.prev)}, but seq ${prevSeq} has digest ${prevDigest}`);
    }
    [prevSeq, prevDigest] = [p.seq, r.digest];
  }
  const n = receipts.length;
  results.push(
    shape.result(`${n} receipt(s) well-formed with unique ids`),
    tenantCheck.result(`every receipt belongs to ${tenant}`),
    digests.result(`${n}/${n} digests match SHA-256 of the RFC 8785 payload bytes`),
    signatures.result(`${n}/${n} Ed25519 signatures valid`),
    sequence.result(n === 0 ? 'no receipts' : `seq ${firstSeq}..${prevSeq} with no gap`),
    chain.result(
      firstSeq > 1
        ? `every prev links to the previous digest (slice starts at seq ${firstSeq})`
        : 'every prev links to the previous digest, from the chain start',
    ),
  );

  // The checkpoint and the inclusion proofs.
  const checkpoint = check('checkpoint');
  const inclusion = check('inclusion');
  const proofs = Array.isArray(bundle.proofs) ? bundle.proofs : [];
  if (bundle.checkpoint === null || bundle.checkpoint === undefined) {
    if (proofs.length > 0) inclusion.fail(`${proofs.length} proof(s) but no checkpoint`);
    return [
      ...results,
      checkpoint.result('no checkpoint: not anchored'),
      inclusion.result('no proofs'),
    ];
  }
  const opened =
    typeof bundle.checkpoint === 'string'
      ? verifyCheckpoint(bundle.checkpoint, keys, bundle.checkpoint.split('\n', 1)[0])
      : { why: 'checkpoint is not a signed note (string)' };
  if (!opened.checkpoint) {
    checkpoint.fail(`the checkpoint is not signed by a bundle key: ${opened.why}`);
    return [...results, checkpoint.result(''), inclusion.result('')];
  }
  const cp = opened.checkpoint;
  // Warden's log origin is "<host or WARDEN_LOG_ORIGIN>/<tenant>": one log per tenant.
  if (!cp.origin.endsWith(`/${tenant}`))
    checkpoint.fail(`the log ${cp.origin} is not tenant ${tenant}'s`);
  const grew =
    bundle.consistency === undefined ? [] : [consistencyCheck(bundle.consistency, cp, keys)];
  const proven = new Set();
  for (const [i, proof] of proofs.entries()) {
    const p = isObj(proof) ? proof : {};
    const target = typeof p.receiptId === 'string' ? leaves.get(p.receiptId) : undefined;
    if (!target) {
      inclusion.fail(`proof #${i + 1} names no receipt of the bundle`);
      continue;
    }
    proven.add(p.receiptId);
    const hashes = decodeHashes(p.hashes);
    if (p.leafIndex !== target.seq - 1 || p.treeSize !== cp.size) {
      inclusion.fail(
        `${target.name}: proof is for leaf ${p.leafIndex} of size ${p.treeSize}, expected leaf ${target.seq - 1} of ${cp.size}`,
      );
    } else if (!verifyInclusion(target.leaf, target.seq - 1, cp.size, hashes, cp.rootHash)) {
      inclusion.fail(`${target.name}: the inclusion proof does not lead to the checkpoint root`);
    }
  }
  let [covered, newer] = [0, 0];
  for (const [id, leaf] of leaves) {
    if (leaf.seq > cp.size) {
      newer++; // newer than the checkpoint: not anchored yet, so no proof
      continue;
    }
    covered++;
    if (!proven.has(id)) inclusion.fail(`${leaf.name}: covered by the checkpoint but has no proof`);
  }
  return [
    ...results,
    checkpoint.result(`signed checkpoint of ${cp.origin}, size ${cp.size}`),
    ...grew,
    inclusion.result(
      `${covered} receipt(s) proven included in the log of size ${cp.size}` +
        (newer > 0 ? `; ${newer} newer receipt(s) not yet anchored` : ''),
    ),
  ];
}

/**
 * `consistency` (exports made with `--since-checkpoint`): an older checkpoint of the same log, signed
 * by a bundle key, and the RFC 9162 consistency proof from it to the bundle's checkpoint.
 */
function consistencyCheck(consistency, current, keys) {
  const grew = check('consistency');
  const c = isObj(consistency) ? consistency : {};
  const note = typeof c.checkpoint === 'string' ? c.checkpoint : '';
  const old = verifyCheckpoint(note, keys, current.origin).checkpoint;
  if (!old) {
    grew.fail('the older checkpoint is not a note signed by a bundle key for the same log');
  } else if (
    !verifyConsistency(
      old.size,
      current.size,
      decodeHashes(c.hashes),
      old.rootHash,
      current.rootHash,
    )
  ) {
    grew.fail(
      `the log of size ${current.size} is not consistent with the older checkpoint of size ${old.size}`,
    );
  }
  return grew.result(`the log only grew: size ${old?.size} → ${current.size}, consistency proven`);
}

/**
 * `disclosures`: SD-JWT-style Disclosures of private receipt fields. The receipt's signed payload lists
 * the SHA-256 (base64url) of each Disclosure string in `_sd`; a Disclosure is base64url of the JSON
 * array [salt, name, value].
 */
function disclosureCheck(bundle, committed) {
  const disclosed = check('disclosures');
  const list = bundle.disclosures === undefined ? [] : bundle.disclosures;
  if (!Array.isArray(list)) {
    disclosed.fail('disclosures is not an array');
    return disclosed.result('');
  }
  let hidden = 0;
  for (const c of committed.values()) hidden += c.sd.size;
  const seen = new Set();
  for (const [i, e] of list.entries()) {
    const target =
      isObj(e) && typeof e.receiptId === 'string' ? committed.get(e.receiptId) : undefined;
    if (!target || typeof e.disclosure !== 'string') {
      disclosed.fail(`disclosure #${i + 1} names no receipt of the bundle or has no disclosure`);
      continue;
    }
    const claim = decodeDisclosure(e.disclosure);
    const key = `${e.receiptId}\n${claim.name}`;
    if (claim.problem) disclosed.fail(`${target.name}: disclosure #${i + 1} is ${claim.problem}`);
    else if (!target.sd.has(createHash('sha256').update(e.disclosure, 'ascii').digest('base64url')))
      disclosed.fail(
        `${target.name}: the disclosure of "${claim.name}" does not match any digest the receipt commits to`,
      );
    else if (claim.name in target.payload)
      disclosed.fail(`${target.name}: "${claim.name}" is disclosed but also in the signed payload`);
    else if (seen.has(key)) disclosed.fail(`${target.name}: "${claim.name}" is disclosed twice`);
    else seen.add(key);
  }
  return disclosed.result(
    `${seen.size} disclosed field(s) match their receipts' digests; ${hidden - seen.size} private field(s) stay hidden`,
  );
}

/** A Disclosure's claim: { name, value } or { problem }. */
function decodeDisclosure(text) {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return { problem: 'not base64url' };
  let array;
  try {
    array = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return { problem: 'not base64url of JSON' };
  }
  if (!Array.isArray(array) || array.length !== 3)
    return { problem: 'not a JSON array of [salt, name, value]' };
  const [salt, name, value] = array;
  if (typeof salt !== 'string' || salt.length < 16)
    return { problem: 'its salt is not a string of at least 16 characters' };
  if (typeof name !== 'string' || ['_sd', '_sd_alg', '...'].includes(name))
    return { problem: 'its claim name is missing or reserved' };
  return { name, value };
}

/** Proof hashes, decoded as `warden verify` does (Node's base64 decoder, which skips stray characters). */
const decodeHashes = (hashes) =>
  (Array.isArray(hashes) ? hashes : []).map((h) =>
    typeof h === 'string' ? Buffer.from(h, 'base64') : Buffer.alloc(0),
  );

// ─── Command line ─────────────────────────────────────────────────────────────────────────────────
const usage = 'usage: node verify-bundle.mjs <bundle.json>';

/** Verifies the file named on the command line; returns the exit code. */
function main(args) {
  if (args.length === 1 && (args[0] === '-h' || args[0] === '--help')) {
    console.log(usage);
    return 0;
  }
  if (args.length !== 1 || args[0].startsWith('-')) {
    console.error(usage);
    return 2;
  }
  const [file] = args;
  let bundle;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`verify-bundle: ${file} cannot be read as JSON (${err.code ?? err.message})`);
    return 1;
  }
  const results = verifyBundle(bundle);
  console.log(`Verifying ${file}`);
  for (const r of results) console.log(`  ${r.ok ? '✓' : '✗'} ${r.name.padEnd(11)} ${r.detail}`);
  const ok = results.every((r) => r.ok);
  console.log(ok ? 'OK: every check passed.' : 'FAILED: the bundle does not verify.');
  return ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
