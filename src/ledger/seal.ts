/**
 * Seal: chains receipt drafts onto a tenant's chain head — payload, RFC 8785 bytes, digest, each
 * `prev` the digest before it — and signs them. The batch's head is known as soon as it is chained;
 * signatures are not part of the chain, so they are made meanwhile (on a worker thread) and the
 * ledger may chain the next batch onto this one's head before they are in.
 */
import { randomUUID } from 'node:crypto';
import type { DisclosureRow } from '../storage/disclosures.js';
import type { ChainHead, ReceiptRow } from '../storage/receipts.js';
import type { Signer } from './ed25519.js';
import {
  type PreparedReceipt,
  prepareReceipt,
  type Receipt,
  type ReceiptDraft,
  signedReceipt,
} from './receipt.js';

/** A batch sealed against `base`: it may be appended only while the chain head is `base`. */
export interface Sealed {
  base: ChainHead;
  head: ChainHead;
  receipts: Receipt[];
  rows: ReceiptRow[];
  disclosures: DisclosureRow[];
}

/** A batch chained onto `base` (its head known) whose signatures may still be on their way. */
export interface Prepared {
  base: ChainHead;
  head: ChainHead;
  signed: Promise<Sealed>;
}

/** Consecutive sealed batches (each chained onto the one before) as one. */
export function joinSealed(parts: Sealed[]): Sealed {
  const first = parts[0] as Sealed;
  const last = parts.at(-1) as Sealed;
  return {
    base: first.base,
    head: last.head,
    receipts: parts.flatMap((p) => p.receipts),
    rows: parts.flatMap((p) => p.rows),
    disclosures: parts.flatMap((p) => p.disclosures),
  };
}

/** Receipts prepared, then handed to the signer, at a time (the worker signer takes >= 64). */
const sliceSize = 100;

export interface Sealer {
  /** Chains drafts onto `base`; resolves once the batch's head is known (`signed` follows). */
  prepare(tenant: string, drafts: ReceiptDraft[], base: ChainHead): Promise<Prepared>;
  /** Chains and signs drafts onto `base`. */
  seal(tenant: string, drafts: ReceiptDraft[], base: ChainHead): Promise<Sealed>;
}

export function createSealer(signer: Signer, clock: () => Date): Sealer {
  /**
   * Chains drafts onto `base` (payload, canonical bytes, digest — each `prev` is the digest before
   * it): resolves once the batch's head is known. Signatures are not part of the chain, so they
   * are made meanwhile (slice by slice, on a worker thread) and `signed` resolves with them.
   * Between slices it yields to the event loop, so a commit in flight progresses.
   */
  async function prepare(
    tenant: string,
    drafts: ReceiptDraft[],
    base: ChainHead,
  ): Promise<Prepared> {
    const at = clock().toISOString();
    const head = { ...base };
    const prepared: PreparedReceipt[] = [];
    const signing: Promise<string[]>[] = [];
    for (let from = 0; from < drafts.length; from += sliceSize) {
      if (from > 0) await new Promise<void>((r) => setImmediate(r));
      const slice = drafts.slice(from, from + sliceSize).map((draft) => {
        const seq = head.seq + 1;
        const p = prepareReceipt({ tenant, seq, prev: head.digest }, draft, {
          id: draft.id ?? randomUUID(),
          at,
        });
        head.seq = seq;
        head.digest = p.digest;
        return p;
      });
      prepared.push(...slice);
      // Each slice is signed while the next one is prepared. If a later slice throws, this promise
      // is never awaited: the no-op catch keeps its failure from becoming an unhandled rejection.
      const sigs = signer.signBatch(slice.map((p) => p.bytes));
      sigs.catch(() => {});
      signing.push(sigs);
    }
    const signed = Promise.all(signing).then((all) =>
      sealedOf(tenant, drafts, base, head, prepared, all.flat(), at),
    );
    signed.catch(() => {}); // awaited by whoever writes the batch
    return { base, head, signed };
  }

  function sealedOf(
    tenant: string,
    drafts: ReceiptDraft[],
    base: ChainHead,
    head: ChainHead,
    prepared: PreparedReceipt[],
    sigs: string[],
    at: string,
  ): Sealed {
    const receipts = prepared.map((p, i) => signedReceipt(p, signer.keyId, sigs[i] as string));
    const rows = receipts.map((receipt, i): ReceiptRow => {
      const draft = drafts[i] as ReceiptDraft;
      return {
        tenant_id: tenant,
        seq: receipt.payload.seq,
        id: receipt.payload.id,
        kind: draft.kind,
        at,
        run_id: draft.run ?? null,
        body: (prepared[i] as PreparedReceipt).bytes.toString('utf8'),
        digest: receipt.digest,
        key_id: signer.keyId,
        sig: receipt.signature.sig,
      };
    });
    const disclosures = prepared.flatMap((p) =>
      p.disclosures.map(
        (d): DisclosureRow => ({
          receipt_id: p.payload.id,
          seq: p.payload.seq,
          name: d.name,
          disclosure: d.disclosure,
        }),
      ),
    );
    return { base, head, receipts, rows, disclosures };
  }

  /** Chains and signs drafts onto `base`. */
  async function seal(tenant: string, drafts: ReceiptDraft[], base: ChainHead): Promise<Sealed> {
    return (await prepare(tenant, drafts, base)).signed;
  }

  return { prepare, seal };
}
