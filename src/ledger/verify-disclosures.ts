/** Verify-disclosures: each Disclosure a bundle carries, against the digests its receipt signed. */
import { decodeDisclosure, disclosureDigest } from './disclosure.js';
import { Check, type CheckResult, isObj, type Label, type Obj } from './verify-check.js';

export interface Committed {
  sd: ReadonlySet<string>;
  payload: Obj;
  name: Label;
}

/**
 * Each Disclosure the bundle carries: a well-formed `[salt, name, value]`, its digest among the
 * committed `_sd` digests of the signed receipt it names, a name the payload does not also show, and
 * disclosed once.
 */
export function disclosureCheck(
  bundle: Obj,
  committed: ReadonlyMap<string, Committed>,
): CheckResult {
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
