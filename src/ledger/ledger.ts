/**
 * Ledger: appends signed receipts to a tenant's hash chain. Appends of a tenant are serialised by a
 * row lock on its chain head (so several processes are safe) and grouped: while one batch commits, the
 * next accumulates, so throughput comes from group commit, not from skipped checks.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { toWardenError, WardenError } from '../errors.js';
import {
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

  async function appendIn(trx: Knex.Transaction, tenant: string, drafts: ReceiptDraft[]) {
    for (const d of drafts) assertDraft(d);
    const head = await lockChainHead(trx, tenant).catch((err) => {
      throw explain(err, tenant);
    });
    const at = clock().toISOString();
    let prev = head.digest;
    const receipts: Receipt[] = [];
    const rows: ReceiptRow[] = [];
    drafts.forEach((draft, i) => {
      const seq = head.seq + i + 1;
      const { receipt, body } = sealReceipt(
        { tenant, seq, prev },
        draft,
        { id: randomUUID(), at },
        signer,
      );
      prev = receipt.digest;
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
    });
    try {
      await insertReceipts(trx, tenant, rows);
    } catch (err) {
      throw explain(err, tenant);
    }
    return receipts;
  }

  async function commit(tenant: string, batch: Pending[]): Promise<void> {
    try {
      const receipts = await knex.transaction((trx) =>
        appendIn(
          trx,
          tenant,
          batch.map((p) => p.draft),
        ),
      );
      for (const [i, p] of batch.entries()) p.resolve(receipts[i] as Receipt);
    } catch (err) {
      if (batch.length === 1) return batch[0]?.reject(toWardenError(err));
      // One bad draft must not sink its neighbours: retry each on its own.
      for (const p of batch) await commit(tenant, [p]);
    }
  }

  async function flush(tenant: string): Promise<void> {
    const queue = queues.get(tenant);
    while (queue && queue.length > 0) await commit(tenant, queue.splice(0, maxBatch));
    queues.delete(tenant);
    flushing.delete(tenant);
  }

  return {
    signer,
    appendIn,
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
  const code = (err as { code?: string }).code;
  if (code === '23503') {
    return new WardenError('not_found', `Tenant ${tenant} does not exist.`, { cause: err });
  }
  return err;
}
