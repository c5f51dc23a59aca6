/**
 * Verify-anchor: a bundle's checkpoint (a C2SP signed note by a bundle key, for the tenant's log),
 * each receipt's RFC 9162 inclusion in it, and the consistency proof from an older checkpoint.
 */
import type { KeyObject } from 'node:crypto';
import { verifyCheckpoint } from './checkpoint.js';
import { rawPublicKey } from './ed25519.js';
import { verifyConsistency, verifyInclusion } from './merkle.js';
import { verifierKey } from './signed-note.js';
import { Check, type CheckResult, isObj, type Label, type Obj } from './verify-check.js';

/**
 * The checkpoint (a C2SP signed note by one of the bundle's keys, for this tenant's log) and the
 * inclusion of every receipt it covers: each proof must lead from the receipt's leaf hash to the
 * checkpoint's root, and no covered receipt may lack one.
 */
export function anchorChecks(
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
