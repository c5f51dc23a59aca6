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
import {
  type ChainHead,
  insertReceipts,
  lockChainHead,
  type ReceiptRow,
  saveSigningKey,
} from '../storage/receipts.js';
import type { Signer } from './ed25519.js';
import { assertDraft, type Receipt, type ReceiptDraft, sealReceipt } from './receipt.js';

export interface Ledger {
  readonly signer: Signer;
  /** Appends one receipt; resolves once it is committed. Do not call inside a transaction: use appendIn. */
  append(tenant: string, draft: ReceiptDraft): Promise<Receipt>;
  /** Appends receipts inside the caller's transaction; they commit (or vanish) with it. */
  appendIn(trx: Knex.Transaction, tenant: string, drafts: ReceiptDraft[]): Promise<Receipt[]>;
  /** Resolves when every queued append has settled (for shutdown). */
  drain(): Promise<void>;
}

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
}

/** Receipts sealed between two yields to the event loop while a commit is in flight. */
const sliceSize = 50;

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

  function seal(tenant: string, drafts: ReceiptDraft[], base: ChainHead): Sealed {
    const sealed = startSeal(base);
    sealMore(tenant, sealed, drafts, 0, drafts.length);
    return sealed;
  }

  function startSeal(base: ChainHead): Sealed {
    return { base, head: { ...base }, receipts: [], rows: [] };
  }

  /** Seals drafts[from, to) onto `sealed`, extending its head. */
  function sealMore(
    tenant: string,
    sealed: Sealed,
    drafts: ReceiptDraft[],
    from: number,
    to: number,
  ) {
    const at = clock().toISOString();
    const { receipts, rows, head } = sealed;
    for (let i = from; i < to; i++) {
      const draft = drafts[i] as ReceiptDraft;
      const seq = head.seq + 1;
      const { receipt, body } = sealReceipt(
        { tenant, seq, prev: head.digest },
        draft,
        { id: randomUUID(), at },
        signer,
      );
      head.seq = seq;
      head.digest = receipt.digest;
      receipts.push(receipt);
      rows.push({
        tenant_id: tenant,
        seq,
        id: receipt.payload.id,
        kind: draft.kind,
        at,
        run_id: draft.run ?? null,
        body,
        digest: receipt.digest,
        key_id: signer.keyId,
        sig: receipt.signature.sig,
      });
    }
  }

  /** Seals ahead of the lock in slices, yielding between them so the commit in flight progresses. */
  async function sealAhead(
    tenant: string,
    drafts: ReceiptDraft[],
    base: ChainHead,
  ): Promise<Sealed> {
    const sealed = startSeal(base);
    for (let i = 0; i < drafts.length; i += sliceSize) {
      sealMore(tenant, sealed, drafts, i, Math.min(i + sliceSize, drafts.length));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return sealed;
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
      const sealed = fresh ? ahead : seal(tenant, drafts, head);
      await insertReceipts(trx, tenant, sealed.rows);
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
          ahead = await sealAhead(
            tenant,
            batch.map((p) => p.draft),
            base,
          );
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
      return (await write(trx, tenant, drafts)).receipts;
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
  };
}

function explain(err: unknown, tenant: string): unknown {
  if ((err as { code?: string }).code === '23503') {
    return new WardenError('not_found', `Tenant ${tenant} does not exist.`, { cause: err });
  }
  return err;
}
