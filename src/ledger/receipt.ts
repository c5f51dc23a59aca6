/** Receipt: the signed, chained record of one decision or event (format in CONTRACT.md). */
import { createHash, randomUUID } from 'node:crypto';
import { canonicalBytes } from './canonical-json.js';
import { commitFields, type Disclosure, sdAlg, sdAlgField, sdField } from './disclosure.js';
import type { Signer } from './ed25519.js';

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The kinds of receipt; each feature adds its own here, so the set stays closed and greppable. */
export const receiptKinds = [
  'tenant.created',
  'tenant.updated',
  'token.created',
  'token.revoked',
  'trigger.received',
  'playbook.version',
  'run.simulated',
  'step.executed',
  'step.denied',
  'step.rolled_back',
  'run.finished',
  'trigger.skipped',
  'kill_switch.changed',
  'approval.requested',
  'approval.decided',
  'approval.refused',
  'approval.expired',
  'playbook.disabled',
  'playbook.enabled',
  'report.generated',
  'report.accessed',
  'delivery.attempted',
  'delivery.finished',
  'baseline.imported',
  'baseline.computed',
  'alert.fired',
  'alert.cleared',
  'retention.purged',
  'dr.drill',
  'posture.generated',
] as const;
export type ReceiptKind = (typeof receiptKinds)[number];

/** Fields the ledger owns; a draft cannot set them. */
const reserved = new Set(['v', 'id', 'tenant', 'seq', 'kind', 'at', 'prev', sdField, sdAlgField]);

export interface ReceiptPayload {
  v: 1;
  id: string;
  tenant: string;
  seq: number;
  kind: string;
  at: string;
  prev: string | null;
  [field: string]: JsonValue;
}

export interface Receipt {
  payload: ReceiptPayload;
  /** `sha256:<hex>` over the RFC 8785 bytes of `payload`. */
  digest: string;
  signature: { alg: 'Ed25519'; keyId: string; sig: string };
}

/** What a caller asks the ledger to record; the ledger adds id, seq, time and chain link. */
export interface ReceiptDraft {
  kind: ReceiptKind;
  /**
   * The receipt's id when the caller reserved one with `newReceiptId()`, so that rows written
   * earlier in the same transaction can name the receipt; otherwise the ledger assigns one.
   */
  id?: string;
  /** The run this receipt belongs to, if any (indexed for `/receipts?run=`). */
  run?: string;
  data?: Record<string, JsonValue>;
  /**
   * Sensitive fields (step inputs and outputs, chat identities, alert annotations): the payload
   * commits to them as salted digests (`_sd`, see disclosure.ts); their Disclosures are stored beside
   * the receipt and exported only to readers who may see them.
   */
  private?: Record<string, JsonValue>;
}

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A receipt id to put in a draft before the receipt exists (see `ReceiptDraft.id`). */
export function newReceiptId(): string {
  return randomUUID();
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function assertDraft(draft: ReceiptDraft): void {
  if (draft.id !== undefined && !uuid.test(draft.id)) {
    throw new TypeError(`receipt id "${draft.id}" is not a lower-case UUID (use newReceiptId())`);
  }
  const data = draft.data ?? {};
  for (const key of [...Object.keys(data), ...Object.keys(draft.private ?? {})]) {
    if (reserved.has(key) || key === 'run') {
      throw new TypeError(`receipt field "${key}" is set by the ledger, not by the caller`);
    }
  }
  for (const key of Object.keys(draft.private ?? {})) {
    if (key in data) throw new TypeError(`receipt field "${key}" is both public and private`);
  }
}

/** A receipt before its signature: the payload and the exact bytes its digest covers. */
export interface PreparedReceipt {
  payload: ReceiptPayload;
  bytes: Buffer;
  digest: string;
  /** The Disclosures of the draft's private fields (empty when it has none). */
  disclosures: Disclosure[];
}

/** Builds the payload, canonicalises it once and digests those bytes; the chain needs no signature. */
export function prepareReceipt(
  head: { tenant: string; seq: number; prev: string | null },
  draft: ReceiptDraft,
  meta: { id: string; at: string },
): PreparedReceipt {
  const committed = draft.private ? commitFields(draft.private) : undefined;
  const payload: ReceiptPayload = {
    ...draft.data,
    ...(draft.run === undefined ? {} : { run: draft.run }),
    ...(committed && committed.digests.length > 0
      ? { [sdField]: committed.digests, [sdAlgField]: sdAlg }
      : {}),
    v: 1,
    id: meta.id,
    tenant: head.tenant,
    seq: head.seq,
    kind: draft.kind,
    at: meta.at,
    prev: head.prev,
  };
  const bytes = canonicalBytes(payload);
  return { payload, bytes, digest: digestOf(bytes), disclosures: committed?.disclosures ?? [] };
}

export function signedReceipt(prepared: PreparedReceipt, keyId: string, sig: string): Receipt {
  return {
    payload: prepared.payload,
    digest: prepared.digest,
    signature: { alg: 'Ed25519', keyId, sig },
  };
}

/** Prepares and signs one receipt synchronously (tests, one-offs). */
export function sealReceipt(
  head: { tenant: string; seq: number; prev: string | null },
  draft: ReceiptDraft,
  meta: { id: string; at: string },
  signer: Signer,
): { receipt: Receipt; body: string; disclosures: Disclosure[] } {
  const prepared = prepareReceipt(head, draft, meta);
  const receipt = signedReceipt(prepared, signer.keyId, signer.sign(prepared.bytes));
  return { receipt, body: prepared.bytes.toString('utf8'), disclosures: prepared.disclosures };
}
