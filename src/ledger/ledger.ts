/**
 * Ledger: appends signed receipts to a tenant's hash chain.
 *
 * Safety comes from the database: the tenant's chain head row moves with every append, only from
 * the head the batch was sealed against (`insertChained`), and stays row-locked until the
 * appending transaction ends — so appends from any number of connections and processes form one
 * chain, never a fork. Speed comes from keeping that lock short: a batch is sealed (canonicalised,
 * digested, signed) before it touches the head, against the head this process expects, and written
 * in one statement that is the caller's last before COMMIT; only when the head moved elsewhere is it
 * locked, sealed again and written. Within a process, appends issue their chain statements in call
 * order, so a transaction's statement waits in PostgreSQL's lock queue for the one before it to
 * commit and goes on at once, rather than failing and sealing again. Callers' own appends are
 * grouped into one transaction (group commit), and the next group is sealed while one commits.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { toWardenError, WardenError } from '../errors.js';
import type { DisclosureRow } from '../storage/disclosures.js';
import {
  type ChainedChange,
  type ChainHead,
  insertChained,
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
  /**
   * Appends receipts inside the caller's transaction; they commit (or vanish) with it. From here to
   * the end of the transaction the tenant's chain head is locked: make this the transaction's last
   * statement (reserve receipt ids with `newReceiptId()` for rows that must name them), and do not
   * wait, while it is open, for another transaction's append to the same tenant (it waits for you).
   * Appending again in the same transaction, or in a savepoint of it, goes on the head it holds.
   */
  appendIn(trx: Knex.Transaction, tenant: string, drafts: ReceiptDraft[]): Promise<Receipt[]>;
  /**
   * Appends receipts and makes `changes` (state the receipts record) in one autocommitted
   * statement: all of it commits, or none. Not inside a transaction (use appendIn). Resolves to the
   * receipts and, per change with `returns`, the rows it returned.
   */
  appendWith(
    tenant: string,
    drafts: ReceiptDraft[],
    changes: readonly ChainedChange[],
  ): Promise<{ receipts: Receipt[]; returned: Array<Array<Record<string, unknown>>> }>;
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

/** A batch sealed against `base`: it may be appended only while the chain head is `base`. */
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

/** The outermost transaction: what a nested one (a savepoint) writes commits or vanishes with it. */
function rootOf(trx: Knex.Transaction): Knex.Transaction {
  let root = trx;
  while (root.parentTransaction) root = root.parentTransaction;
  return root;
}

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
  /** Per tenant, the head after the newest append this process wrote: sealed against, never trusted. */
  const expected = new Map<string, ChainHead>();
  /** Per tenant, the end of the newest append's turn: appends write their chain statement in call order. */
  const turns = new Map<string, Promise<void>>();
  /** The chain heads an open transaction holds (locked by its own append), by tenant. */
  const held = new WeakMap<Knex.Transaction, Map<string, ChainHead>>();
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
   * elsewhere (a worker thread) while the next slice is prepared. Between slices it yields to the
   * event loop, so a commit in flight progresses.
   */
  async function seal(tenant: string, drafts: ReceiptDraft[], base: ChainHead): Promise<Sealed> {
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

  /** Resolves when the tenant's previous append has written its chain statement; then call the release. */
  function takeTurn(tenant: string): Promise<() => void> {
    const previous = turns.get(tenant) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = previous.then(() => mine);
    turns.set(tenant, tail);
    return previous.then(() => () => {
      release();
      if (turns.get(tenant) === tail) turns.delete(tenant);
    });
  }

  /**
   * Appends `drafts` in `trx`. A transaction that already appended for the tenant holds its head
   * and seals on it. Otherwise, in its turn, the batch is sealed against the head expected after
   * this process's previous append and written conditionally; if the head is elsewhere (another
   * process appended, or one of our transactions rolled back), the statement has locked it and says
   * where: the batch is sealed again against it and written.
   */
  async function write(
    trx: Knex.Transaction,
    tenant: string,
    drafts: ReceiptDraft[],
  ): Promise<Sealed> {
    const tx = rootOf(trx); // a savepoint's appends hold the head for its outer transaction
    let heads = held.get(tx);
    const own = heads?.get(tenant);
    let release: (() => void) | undefined;
    try {
      if (!own) release = await takeTurn(tenant);
      let base = own ?? expected.get(tenant) ?? (await lockChainHead(trx, tenant));
      let sealed = await seal(tenant, drafts, base);
      for (let attempt = 0; ; attempt++) {
        const { head } = await insertChained(trx, tenant, base, sealed.rows, sealed.disclosures);
        if (head && sameHead(head, sealed.head)) break;
        if (attempt > 0 || own) {
          throw new Error(
            `the chain head of tenant ${tenant} moved while this transaction held it`,
          );
        }
        base = head ?? (await lockChainHead(trx, tenant)); // now locked by this transaction
        sealed = await seal(tenant, drafts, base);
      }
      if (!own) tx.executionPromise.catch(() => expected.delete(tenant)); // rolled back: not ours
      expected.set(tenant, sealed.head);
      if (!heads) {
        heads = new Map();
        held.set(tx, heads);
      }
      heads.set(tenant, sealed.head);
      return sealed;
    } catch (err) {
      expected.delete(tenant);
      throw explain(err, tenant);
    } finally {
      release?.();
    }
  }

  /**
   * Appends `drafts` with `changes` in one statement of its own (autocommitted), in its turn,
   * sealed against the head expected after this process's previous append. If the head is
   * elsewhere, that statement wrote nothing: the head is then locked in a transaction, the batch
   * sealed against it and written there.
   */
  async function writeAlone(
    tenant: string,
    drafts: ReceiptDraft[],
    changes: readonly ChainedChange[],
    ahead?: Sealed,
  ): Promise<{ sealed: Sealed; returned: Array<Array<Record<string, unknown>>> }> {
    const release = await takeTurn(tenant);
    try {
      const base = expected.get(tenant) ?? (await lockChainHead(knex, tenant));
      const sealed = ahead && sameHead(ahead.base, base) ? ahead : await seal(tenant, drafts, base);
      const { head, returned } = await insertChained(
        knex,
        tenant,
        base,
        sealed.rows,
        sealed.disclosures,
        changes,
      );
      if (head && sameHead(head, sealed.head)) {
        expected.set(tenant, sealed.head);
        return { sealed, returned };
      }
      const locked = await knex.transaction(async (trx) => {
        const current = await lockChainHead(trx, tenant);
        const resealed = await seal(tenant, drafts, current);
        const again = await insertChained(
          trx,
          tenant,
          current,
          resealed.rows,
          resealed.disclosures,
          changes,
        );
        if (!again.head || !sameHead(again.head, resealed.head)) {
          throw new Error(
            `the chain head of tenant ${tenant} moved while this transaction held it`,
          );
        }
        return { sealed: resealed, returned: again.returned };
      });
      expected.set(tenant, locked.sealed.head);
      return locked;
    } catch (err) {
      expected.delete(tenant);
      throw explain(err, tenant);
    } finally {
      release();
    }
  }

  async function commit(
    tenant: string,
    batch: Pending[],
    written: () => void,
    ahead?: Sealed,
  ): Promise<void> {
    const drafts = batch.map((p) => p.draft);
    try {
      const { sealed } = await writeAlone(tenant, drafts, [], ahead).finally(written);
      for (const [i, p] of batch.entries()) p.resolve(sealed.receipts[i] as Receipt);
      if (listeners.size > 0) tell(tenant, sealed.receipts);
    } catch (err) {
      written();
      if (batch.length === 1) return batch[0]?.reject(toWardenError(err));
      // One bad draft must not sink its neighbours: retry each on its own.
      for (const p of batch) await commit(tenant, [p], () => {});
    }
  }

  /**
   * Commits the tenant's queued appends a batch at a time. Each batch is sealed ahead, against the
   * head the batch before will leave, while that one is written and commits; it starts its own
   * transaction once the one before has written its chain statement, so its statement is queued
   * right behind that commit.
   */
  async function flush(tenant: string): Promise<void> {
    const queue = queues.get(tenant) ?? [];
    let inflight: Promise<unknown> = Promise.resolve();
    let before: Promise<void> = Promise.resolve(); // the batch before has written its statement
    let next: ChainHead | undefined; // the head the batch before will leave, if it goes as sealed
    for (;;) {
      if (queue.length === 0) {
        await inflight; // appends may arrive meanwhile: only an empty queue after the last commit ends
        if (queue.length === 0) break;
      }
      const batch = queue.splice(0, maxBatch);
      const base = next ?? expected.get(tenant);
      let ahead: Sealed | undefined;
      if (base) {
        try {
          ahead = await seal(
            tenant,
            batch.map((p) => p.draft),
            base,
          );
        } catch {
          ahead = undefined; // sealed again in its turn, where the error reaches its caller
        }
      }
      next = ahead?.head;
      await before;
      let written = () => {};
      before = new Promise<void>((r) => {
        written = r;
      });
      inflight = Promise.all([inflight, commit(tenant, batch, written, ahead)]);
    }
    queues.delete(tenant);
    flushing.delete(tenant);
  }

  return {
    signer,
    async appendIn(trx, tenant, drafts) {
      for (const d of drafts) assertDraft(d);
      if (drafts.length === 0) return [];
      const { receipts } = await write(trx, tenant, drafts);
      if (listeners.size > 0) {
        rootOf(trx).executionPromise.then(
          () => tell(tenant, receipts),
          () => {}, // rolled back: nothing to tell
        );
      }
      return receipts;
    },
    async appendWith(tenant, drafts, changes) {
      for (const d of drafts) assertDraft(d);
      if (drafts.length === 0) throw new Error('appendWith needs at least one receipt');
      const { sealed, returned } = await writeAlone(tenant, drafts, changes);
      if (listeners.size > 0) tell(tenant, sealed.receipts);
      return { receipts: sealed.receipts, returned };
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
