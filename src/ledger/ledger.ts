/**
 * Ledger: appends signed receipts to a tenant's hash chain.
 *
 * Safety comes from the database: every append locks the tenant's chain head row
 * (`SELECT … FOR UPDATE`), so appends from any number of connections and processes are serialised.
 * Throughput comes from batching and pipelining: callers' receipts are grouped into one transaction
 * (group commit), and the next batch is sealed (canonicalised, digested, signed) against the head we
 * expect while the previous batch commits. Under the lock the expectation is checked; if another
 * writer moved the head in between, the batch is sealed again — never inserted with a stale link.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { toWardenError, WardenError } from '../errors.js';
import { type DisclosureRow, insertDisclosures } from '../storage/disclosures.js';
import {
  type ChainHead,
  insertReceipts,
  lockChainHead,
  type ReceiptRow,
  saveSigningKey,
} from '../storage/receipts.js';
import type { Signer } from './ed25519.js';
import {
  assertDraft,
  type PreparedReceipt,
  prepareReceipt,
  type Receipt,
  type ReceiptDraft,
  signedReceipt,
} from './receipt.js';

export interface Ledger {
  readonly signer: Signer;
  /** Appends one receipt; resolves once it is committed. Do not call inside a transaction: use appendIn. */
  append(tenant: string, draft: ReceiptDraft): Promise<Receipt>;
  /** Appends receipts inside the caller's transaction; they commit (or vanish) with it. */
  appendIn(trx: Knex.Transaction, tenant: string, drafts: ReceiptDraft[]): Promise<Receipt[]>;
  /** Resolves when every queued append has settled (for shutdown). */
  drain(): Promise<void>;
  /**
   * Tells `listener` about every receipt this process appends, once its transaction committed
   * (chat threads, metrics). Listeners must not throw; returns an unsubscribe function.
   */
  subscribe(listener: ReceiptListener): () => void;
}

export type ReceiptListener = (tenant: string, receipts: readonly Receipt[]) => void;

export interface CreateLedgerOptions {
  knex: Knex;
  signer: Signer;
  /** Most receipts committed in one transaction. @defaultValue 1000 */
  maxBatch?: number;
  /** @defaultValue () => new Date() */
  clock?: () => Date;
}

interface Pending {
  draft: ReceiptDraft;
  resolve(receipt: Receipt): void;
  reject(err: unknown): void;
}

/** A batch sealed against `base`; valid only if the chain head still equals `base` under the lock. */
interface Sealed {
  base: ChainHead;
  head: ChainHead;
  receipts: Receipt[];
  rows: ReceiptRow[];
  disclosures: DisclosureRow[];
}

/** Receipts prepared, then handed to the signer, at a time (the worker signer takes >= 64). */
const sliceSize = 100;

const sameHead = (a: ChainHead, b: ChainHead) => a.seq === b.seq && a.digest === b.digest;

/**
 * @example
 * const ledger = await createLedger({ knex: db.knex, signer });
 * const receipt = await ledger.append('acme', { kind: 'tenant.created', data: { tier: 'pro' } });
 */
export async function createLedger(options: CreateLedgerOptions): Promise<Ledger> {
  const { knex, signer, maxBatch = 1000, clock = () => new Date() } = options;
  await saveSigningKey(knex, signer);
  const queues = new Map<string, Pending[]>();
  const flushing = new Map<string, Promise<void>>();
  /** Per tenant, the head we expect after our own batches: a hint for sealing ahead, never trusted. */
  const expected = new Map<string, ChainHead>();
  const listeners = new Set<ReceiptListener>();
  const tell = (tenant: string, receipts: readonly Receipt[]) => {
    for (const listener of listeners) {
      try {
        listener(tenant, receipts);
      } catch {
        // a listener's failure is its own; the receipts are committed
      }
    }
  };

  /**
   * Chains drafts onto `base` (payload, canonical bytes, digest — each `prev` is the digest before it),
   * then signs them slice by slice; signatures are not part of the chain, so they may be made
   * elsewhere (a worker thread) while the next slice is prepared. With `yieldBetweenSlices`, yields
   * to the event loop between slices so a commit in flight progresses.
   */
  async function seal(
    tenant: string,
    drafts: ReceiptDraft[],
    base: ChainHead,
    yieldBetweenSlices = false,
  ): Promise<Sealed> {
    const at = clock().toISOString();
    const head = { ...base };
    const prepared: PreparedReceipt[] = [];
    const signing: Promise<string[]>[] = [];
    for (let from = 0; from < drafts.length; from += sliceSize) {
      if (yieldBetweenSlices && from > 0) await new Promise<void>((r) => setImmediate(r));
      const slice = drafts.slice(from, from + sliceSize).map((draft) => {
        const seq = head.seq + 1;
        const p = prepareReceipt({ tenant, seq, prev: head.digest }, draft, {
          id: randomUUID(),
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
    const sigs = (await Promise.all(signing)).flat();
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

  async function write(
    trx: Knex.Transaction,
    tenant: string,
    drafts: ReceiptDraft[],
    ahead?: Sealed,
  ): Promise<Sealed & { resealed: boolean }> {
    try {
      const head = await lockChainHead(trx, tenant);
      const fresh = ahead && sameHead(ahead.base, head);
      const sealed = fresh ? ahead : await seal(tenant, drafts, head);
      await insertReceipts(trx, tenant, sealed.rows);
      await insertDisclosures(trx, tenant, sealed.disclosures);
      return { ...sealed, resealed: !fresh };
    } catch (err) {
      throw explain(err, tenant);
    }
  }

  async function commit(tenant: string, batch: Pending[], ahead?: Sealed): Promise<void> {
    const drafts = batch.map((p) => p.draft);
    try {
      const result = await knex.transaction((trx) => write(trx, tenant, drafts, ahead));
      if (result.resealed || !expected.has(tenant)) expected.set(tenant, result.head);
      for (const [i, p] of batch.entries()) p.resolve(result.receipts[i] as Receipt);
      if (listeners.size > 0) tell(tenant, result.receipts);
    } catch (err) {
      expected.delete(tenant);
      if (batch.length === 1) return batch[0]?.reject(toWardenError(err));
      // One bad draft must not sink its neighbours: retry each on its own.
      for (const p of batch) await commit(tenant, [p]);
    }
  }

  async function flush(tenant: string): Promise<void> {
    const queue = queues.get(tenant) ?? [];
    let inflight: Promise<void> = Promise.resolve();
    for (;;) {
      if (queue.length === 0) {
        await inflight; // appends may arrive meanwhile: only an empty queue after the last commit ends
        if (queue.length === 0) break;
      }
      const batch = queue.splice(0, maxBatch);
      // The head after every earlier batch, if known; else wait for the batch in flight to commit.
      let base = expected.get(tenant);
      if (!base) {
        await inflight;
        base = expected.get(tenant);
      }
      let ahead: Sealed | undefined;
      if (base) {
        try {
          const drafts = batch.map((p) => p.draft);
          ahead = await seal(tenant, drafts, base, true);
          expected.set(tenant, ahead.head);
        } catch {
          ahead = undefined; // sealed again under the lock, where the error reaches its caller
        }
      }
      await inflight;
      inflight = commit(tenant, batch, ahead);
    }
    queues.delete(tenant);
    flushing.delete(tenant);
  }

  return {
    signer,
    async appendIn(trx, tenant, drafts) {
      for (const d of drafts) assertDraft(d);
      const { receipts } = await write(trx, tenant, drafts);
      if (listeners.size > 0) {
        trx.executionPromise.then(
          () => tell(tenant, receipts),
          () => {}, // rolled back: nothing to tell
        );
      }
      return receipts;
    },
    append(tenant, draft) {
      return new Promise<Receipt>((resolve, reject) => {
        try {
          assertDraft(draft);
        } catch (err) {
          return reject(err);
        }
        let queue = queues.get(tenant);
        if (!queue) {
          queue = [];
          queues.set(tenant, queue);
        }
        queue.push({ draft, resolve, reject });
        if (!flushing.has(tenant)) flushing.set(tenant, flush(tenant));
      });
    },
    async drain() {
      while (flushing.size > 0) await Promise.all(flushing.values());
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function explain(err: unknown, tenant: string): unknown {
  if ((err as { code?: string }).code === '23503') {
    return new WardenError('not_found', `Tenant ${tenant} does not exist.`, { cause: err });
  }
  return err;
}
