import type { Knex } from 'knex';
import { toWardenError, WardenError } from '../errors.js';
import { isMissingTenant, refusedByDatabase } from '../storage/database-errors.js';
import {
  type ChainedChange,
  type ChainHead,
  insertChained,
  lockChainHead,
  saveSigningKey,
} from '../storage/receipts.js';
import type { Signer } from './ed25519.js';
import { assertDraft, type Receipt, type ReceiptDraft } from './receipt.js';
import { createSealer, joinSealed, type Prepared, type Sealed } from './seal.js';

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
    options?: {
      /**
       * Names of the rows the changes touch (`run:<id>`): appends waiting together may be written
       * in one statement, but never two touching a common row (PostgreSQL would make only one of
       * two changes to one row in a statement).
       */
      touches?: readonly string[];
    },
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

/** What an autocommitted append wrote: its receipts, and per change with `returns` its rows. */
interface Written {
  receipts: Receipt[];
  returned: Array<Array<Record<string, unknown>>>;
}

/** An autocommitted append waiting for its tenant's turn. */
interface Request {
  drafts: ReceiptDraft[];
  changes: readonly ChainedChange[];
  /** Rows its changes touch: appends touching a common one are never written together. */
  touches: readonly string[];
  ahead: Promise<Prepared | undefined>;
  /** Leaves the line (once written or failed). */
  done(): void;
  onTurn(): void;
  resolve(written: Written): void;
  reject(err: unknown): void;
}

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
  const { prepare, seal } = createSealer(signer, clock);
  const queues = new Map<string, Pending[]>();
  const flushing = new Map<string, Promise<void>>();
  /** Per tenant, the head after the newest append this process wrote: sealed against, never trusted. */
  const expected = new Map<string, ChainHead>();
  /**
   * Per tenant, the head the newest append in line will leave if it goes as prepared (a prediction:
   * checked in its turn); the next append prepares against it.
   */
  const leaving = new Map<string, Promise<ChainHead | undefined>>();
  /** Per tenant, the autocommitted appends waiting for its turn, in call order. */
  const waiting = new Map<string, Request[]>();
  /** The chain heads an open transaction holds (locked by its own append), by tenant. */
  const held = new WeakMap<Knex.Transaction, Map<string, ChainHead>>();
  /** Per savepoint that appended, by tenant: the head its outer transaction held before it. */
  const heldBefore = new WeakMap<Knex.Transaction, Map<string, ChainHead | undefined>>();
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
   * Appends `drafts` in `trx`. A transaction that already appended for the tenant holds its head
   * and seals on it. Otherwise the batch is sealed against the head expected after this process's
   * previous append and written conditionally; if the head is elsewhere (another process or
   * statement appended, or one of our transactions rolled back), the statement has locked it and
   * says where: the batch is sealed again against it and written. A transaction does not wait for
   * the tenant's turn: it already holds a connection, and the append whose turn it is may be waiting
   * for one (PGlite has a single connection; a busy pool may have none left) — each would wait for
   * the other. The head row's lock orders them instead.
   */
  async function write(
    trx: Knex.Transaction,
    tenant: string,
    drafts: ReceiptDraft[],
  ): Promise<Sealed> {
    const tx = rootOf(trx); // a savepoint's appends hold the head for its outer transaction
    let heads = held.get(tx);
    const own = heads?.get(tenant);
    try {
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
      forgetOnRollback(trx, tx, heads, tenant, own);
      return sealed;
    } catch (err) {
      expected.delete(tenant);
      throw explain(err, tenant);
    }
  }

  /**
   * A savepoint that rolls back takes its appends with it, and the head lock too if it took it.
   * For each savepoint between `trx` and the outer transaction, the head held before its first
   * append (`before`) is kept; when it rolls back, the outer transaction holds that again, or
   * nothing, and the next append there seals on the head it finds.
   */
  function forgetOnRollback(
    trx: Knex.Transaction,
    tx: Knex.Transaction,
    heads: Map<string, ChainHead>,
    tenant: string,
    before: ChainHead | undefined,
  ) {
    for (let t: Knex.Transaction | undefined = trx; t && t !== tx; t = t.parentTransaction) {
      let first = heldBefore.get(t);
      if (!first) {
        first = new Map();
        heldBefore.set(t, first);
      }
      if (first.has(tenant)) continue; // appended in this savepoint before: that is what it undoes
      first.set(tenant, before);
      t.executionPromise.catch(() => {
        if (before) heads.set(tenant, before);
        else heads.delete(tenant);
        expected.delete(tenant);
      });
    }
  }

  /**
   * Appends `drafts` with `changes` in an autocommitted statement, in the tenant's turn. Appends
   * waiting for the turn together go in one statement (up to `maxBatch` receipts; changes touching
   * the same rows never together), so a busy tenant's chain takes few, larger statements. Each is
   * chained and signed on arrival, against the head the appends in front of it will leave if they
   * go as prepared; in its turn, if the head is another (one in front failed, or another process
   * appended), the statement's batch is sealed again. If the head is elsewhere when the statement
   * runs, it wrote nothing and returned the head it found: the batch is sealed on that head and
   * sent again, once; if that misses too, the head is locked in a transaction and the batch
   * written there. If the statement fails, its appends are written one by one, so one bad append
   * fails alone.
   */
  function writeAlone(
    tenant: string,
    drafts: ReceiptDraft[],
    changes: readonly ChainedChange[],
    options: { onTurn?: () => void; touches?: readonly string[] } = {},
  ): Promise<Written> {
    return new Promise<Written>((resolve, reject) => {
      const line = inLine(tenant, (base) => prepare(tenant, drafts, base));
      const request: Request = {
        drafts,
        changes,
        touches: options.touches ?? [],
        ahead: line.ahead,
        done: line.done,
        onTurn: options.onTurn ?? (() => {}),
        resolve,
        reject,
      };
      const queue = waiting.get(tenant);
      if (queue) {
        queue.push(request);
      } else {
        const mine = [request];
        waiting.set(tenant, mine);
        void writeWaiting(tenant, mine);
      }
    });
  }

  /**
   * Writes the tenant's waiting appends, as many together as may go, a statement per turn. One runs
   * per tenant (while it does, appends join its queue), so its statements go one at a time, in
   * call order.
   */
  async function writeWaiting(tenant: string, queue: Request[]): Promise<void> {
    while (queue.length > 0) {
      await null; // appends made meanwhile (in the same tick, or while a statement ran) join in
      const batch = takeTogether(queue);
      try {
        for (const r of batch) r.onTurn();
        try {
          const results = await writeTogether(tenant, batch);
          for (const [i, r] of batch.entries()) r.resolve(results[i] as Written);
        } catch (err) {
          if (batch.length === 1 || !refusedByDatabase(err)) {
            // Alone, or the statement's fate is unknown (a connection lost after it was sent may
            // have lost only the answer): writing the appends again could write them twice.
            for (const r of batch) r.reject(err);
          } else {
            for (const r of batch) {
              await writeTogether(tenant, [r]).then(([w]) => r.resolve(w as Written), r.reject);
            }
          }
        }
      } finally {
        for (const r of batch) r.done();
      }
    }
    waiting.delete(tenant);
  }

  /** The longest front of the queue that may share a statement. */
  function takeTogether(queue: Request[]): Request[] {
    const touched = new Set<string>();
    let receipts = 0;
    let n = 0;
    for (const r of queue) {
      if (
        n > 0 &&
        (receipts + r.drafts.length > maxBatch || r.touches.some((t) => touched.has(t)))
      ) {
        break;
      }
      for (const t of r.touches) touched.add(t);
      receipts += r.drafts.length;
      n++;
    }
    return queue.splice(0, n);
  }

  /** One statement for `batch`: its receipts in order, and every change. */
  async function writeTogether(tenant: string, batch: Request[]): Promise<Written[]> {
    const drafts = batch.flatMap((r) => r.drafts);
    const changes = batch.flatMap((r) => r.changes);
    try {
      const prepared = await Promise.all(batch.map((r) => r.ahead));
      const base = expected.get(tenant) ?? (await lockChainHead(knex, tenant));
      const chained = prepared.every(
        (p, i) => p && sameHead(p.base, i === 0 ? base : (prepared[i - 1] as Prepared).head),
      );
      let written = chained
        ? joinSealed(await Promise.all(prepared.map((p) => (p as Prepared).signed)))
        : await seal(tenant, drafts, base);
      let result = await insertChained(
        knex,
        tenant,
        base,
        written.rows,
        written.disclosures,
        changes,
      );
      // Another process appended: the statement wrote nothing and returned the head it found.
      // Seal on that head and try again, once; the locked transaction below is the last resort.
      if (result.head && !sameHead(result.head, written.head)) {
        const found = result.head;
        written = await seal(tenant, drafts, found);
        result = await insertChained(
          knex,
          tenant,
          found,
          written.rows,
          written.disclosures,
          changes,
        );
      }
      if (!result.head || !sameHead(result.head, written.head)) {
        ({ written, result } = await knex.transaction(async (trx) => {
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
          return { written: resealed, result: again };
        }));
      }
      expected.set(tenant, written.head);
      // Hand each append its receipts and what its changes returned.
      let receipt = 0;
      let returnedAt = 0;
      return batch.map((r) => {
        const receipts = written.receipts.slice(receipt, receipt + r.drafts.length);
        receipt += r.drafts.length;
        const returning = r.changes.filter((c) => c.returns).length;
        const returned = result.returned.slice(returnedAt, returnedAt + returning);
        returnedAt += returning;
        return { receipts, returned };
      });
    } catch (err) {
      expected.delete(tenant);
      throw explain(err, tenant);
    }
  }

  /**
   * Joins the tenant's line of appends: `ahead` is the batch prepared against the head the append
   * in front will leave (undefined when not known, or preparing failed: sealed in turn then).
   * Call `done` once written or failed.
   */
  function inLine(
    tenant: string,
    prepareOn: (base: ChainHead) => Promise<Prepared>,
  ): { ahead: Promise<Prepared | undefined>; done: () => void } {
    const front = leaving.get(tenant) ?? Promise.resolve(expected.get(tenant));
    const ahead = front.then((base) => (base ? prepareOn(base) : undefined)).catch(() => undefined);
    const mine = ahead.then((p) => p?.head);
    leaving.set(tenant, mine);
    return {
      ahead,
      done: () => {
        if (leaving.get(tenant) === mine) leaving.delete(tenant);
      },
    };
  }

  async function commit(tenant: string, batch: Pending[], onTurn: () => void): Promise<void> {
    const drafts = batch.map((p) => p.draft);
    try {
      const { receipts } = await writeAlone(tenant, drafts, [], { onTurn });
      for (const [i, p] of batch.entries()) p.resolve(receipts[i] as Receipt);
      if (listeners.size > 0) tell(tenant, receipts);
    } catch (err) {
      onTurn();
      if (batch.length === 1 || !refusedByDatabase(err)) {
        for (const p of batch) p.reject(toWardenError(err));
        return;
      }
      // One bad draft must not sink its neighbours: retry each on its own.
      for (const p of batch) await commit(tenant, [p], () => {});
    }
  }

  /**
   * Commits the tenant's queued appends a batch at a time: the next batch is taken when the one
   * before takes its turn to write, and is prepared (against the head that one will leave) while
   * it commits.
   */
  async function flush(tenant: string): Promise<void> {
    const queue = queues.get(tenant) ?? [];
    let inflight: Promise<unknown> = Promise.resolve();
    let before: Promise<void> = Promise.resolve(); // the batch before has taken its turn
    for (;;) {
      if (queue.length === 0) {
        await inflight; // appends may arrive meanwhile: only an empty queue after the last commit ends
        if (queue.length === 0) break;
      }
      await before;
      const batch = queue.splice(0, maxBatch);
      if (batch.length === 0) continue;
      let onTurn = () => {};
      before = new Promise<void>((r) => {
        onTurn = r;
      });
      inflight = Promise.all([inflight, commit(tenant, batch, onTurn)]);
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
    async appendWith(tenant, drafts, changes, options) {
      for (const d of drafts) assertDraft(d);
      if (drafts.length === 0) throw new Error('appendWith needs at least one receipt');
      const written = await writeAlone(tenant, drafts, changes, {
        touches: options?.touches ?? [],
      });
      if (listeners.size > 0) tell(tenant, written.receipts);
      return written;
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

/** A missing tenant, said so; other errors (a change's own foreign key, say) as they are. */
function explain(err: unknown, tenant: string): unknown {
  if (isMissingTenant(err)) {
    return new WardenError('not_found', `Tenant ${tenant} does not exist.`, { cause: err });
  }
  return err;
}
