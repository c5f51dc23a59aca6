/**
 * Ingest: turns a delivery's drafts into stored triggers with their receipts, in one transaction,
 * before anyone is told "accepted". Concurrent deliveries of a tenant are committed together
 * (group commit; two transactions of a tenant may be under way at once). A redelivered alert state
 * is answered `duplicate: true` and starts nothing, however many processes receive it: a dedup key
 * stored earlier is found by the dedup select; one being stored at the same moment by another
 * transaction makes this one's insert wait for it and then fail on the unique (tenant, dedup key),
 * and the batch is tried again, when the select finds it. Receipts are appended last, so the
 * tenant's chain head is locked only while the transaction commits.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { isWardenError, WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { type JsonValue, newReceiptId, type ReceiptDraft } from '../ledger/receipt.js';
import { createGroupCommit } from '../storage/group-commit.js';
import {
  existingDedupKeys,
  type FiringKey,
  firingKeyOf,
  firingTriggers,
  insertTriggers,
} from '../storage/triggers.js';
import type { Accepted, Delivery, TriggerDraft, TriggerEvent } from './trigger-event.js';

/**
 * Starts the runs for new triggers inside the ingest transaction (the pipeline's seam); returns
 * run ids per trigger id and the receipts to append with the triggers' (ingest appends them last).
 */
export type StartRuns = (
  trx: Knex.Transaction,
  tenant: string,
  triggers: TriggerEvent[],
) => Promise<{ runs: Map<string, string[]>; receipts: ReceiptDraft[] }>;

export interface Ingest {
  accept(tenant: string, delivery: Delivery, drafts: TriggerDraft[]): Promise<Accepted[]>;
  drain(): Promise<void>;
}

export interface CreateIngestOptions {
  knex: Knex;
  ledger: Ledger;
  startRuns?: StartRuns;
  /** Told the runs a batch started, after its transaction committed (to enqueue them). */
  onRunsCommitted?: (tenant: string, runIds: string[]) => void;
  /** Most drafts committed in one transaction. @defaultValue 500 */
  maxBatch?: number;
}

interface Item {
  delivery: Delivery;
  drafts: TriggerDraft[];
}

type Stored = TriggerEvent & { delivery: Record<string, JsonValue> };

/**
 * @example
 * const ingest = createIngest({ knex, ledger });
 * const accepted = await ingest.accept('acme', delivery, drafts);
 */
export function createIngest(options: CreateIngestOptions): Ingest {
  const { knex, ledger, startRuns } = options;

  /** Tries a batch again when another transaction stored one of its dedup keys meanwhile. */
  async function commitBatch(tenant: string, items: Item[], attempt = 1): Promise<Accepted[][]> {
    try {
      return await commitOnce(tenant, items);
    } catch (err) {
      const raced = (err as { code?: string }).code === '23505';
      if (!raced || attempt >= 3) throw err;
      return commitBatch(tenant, items, attempt + 1);
    }
  }

  async function commitOnce(tenant: string, items: Item[]): Promise<Accepted[][]> {
    return knex.transaction(async (trx) => {
      const all = items.flatMap((it) => it.drafts);
      const known = await existingDedupKeys(trx, tenant, [...new Set(all.map((d) => d.dedupKey))]);
      const fresh: Stored[] = [];
      const answers = items.map((item) =>
        item.drafts.map((draft): { id: string; duplicate: boolean } => {
          const seen = known.get(draft.dedupKey);
          if (seen) return { id: seen, duplicate: true };
          const event = toEvent(tenant, item.delivery, draft);
          known.set(draft.dedupKey, event.id); // a repeat later in this batch is a duplicate too
          fresh.push(event);
          return { id: event.id, duplicate: false };
        }),
      );
      await linkResolved(trx, tenant, fresh);
      await insertTriggers(trx, fresh);
      const started = startRuns ? await startRuns(trx, tenant, fresh) : undefined;
      const runs = started?.runs ?? new Map<string, string[]>();
      // Last, so the chain head stays locked only for the commit.
      await ledger.appendIn(trx, tenant, [
        ...fresh.map(receiptDraft),
        ...(started?.receipts ?? []),
      ]);
      return answers.map((entries) =>
        entries.map(({ id, duplicate }) => ({
          triggerId: id,
          duplicate,
          runs: duplicate ? [] : (runs.get(id) ?? []),
        })),
      );
    });
  }

  const writer = createGroupCommit<Item, Accepted[]>({
    commit: async (tenant, items) => {
      let answers: Accepted[][];
      try {
        answers = await commitBatch(tenant, items);
      } catch (err) {
        throw asStorageError(err, tenant);
      }
      const runIds = answers.flatMap((entries) => entries.flatMap((e) => e.runs));
      if (runIds.length > 0) options.onRunsCommitted?.(tenant, runIds);
      return answers;
    },
    maxWeight: options.maxBatch ?? 500,
    weight: (item) => Math.max(1, item.drafts.length),
    concurrency: 2,
  });

  return {
    accept: (tenant, delivery, drafts) =>
      drafts.length === 0 ? Promise.resolve([]) : writer.submit(tenant, { delivery, drafts }),
    drain: () => writer.drain(),
  };
}

function toEvent(tenant: string, delivery: Delivery, draft: TriggerDraft): Stored {
  return {
    ...draft,
    id: randomUUID(),
    tenant,
    receivedAt: delivery.receivedAt.toISOString(),
    bodyDigest: delivery.bodyDigest,
    resolves: null,
    receiptId: newReceiptId(), // its trigger.received receipt, appended at the end of the batch
    delivery: delivery.meta,
  };
}

/** Links each resolved alert to the firing trigger it ends: stored earlier, or earlier in this batch. */
async function linkResolved(trx: Knex.Transaction, tenant: string, fresh: Stored[]): Promise<void> {
  const keyOf = (e: Stored): FiringKey | undefined =>
    e.kind === 'alert' && e.fingerprint && e.startsAt
      ? { source: e.source, fingerprint: e.fingerprint, startsAt: e.startsAt }
      : undefined;
  const inBatch = new Map<string, string>();
  const wanted: FiringKey[] = [];
  for (const e of fresh) {
    const key = keyOf(e);
    if (!key) continue;
    if (e.status === 'firing') inBatch.set(firingKeyOf(key), e.id);
    else if (e.status === 'resolved') wanted.push(key);
  }
  const stored = await firingTriggers(trx, tenant, wanted);
  for (const e of fresh) {
    const key = e.status === 'resolved' ? keyOf(e) : undefined;
    if (key) e.resolves = inBatch.get(firingKeyOf(key)) ?? stored.get(firingKeyOf(key)) ?? null;
  }
}

function receiptDraft(e: Stored): ReceiptDraft {
  return {
    kind: 'trigger.received',
    id: e.receiptId,
    data: {
      trigger: e.id,
      source: e.source,
      triggerKind: e.kind,
      status: e.status,
      fingerprint: e.fingerprint,
      dedupKey: e.dedupKey,
      eventType: e.eventType,
      labels: e.labels,
      startsAt: e.startsAt,
      endsAt: e.endsAt,
      resolves: e.resolves,
      bodyDigest: e.bodyDigest,
      receivedAt: e.receivedAt,
      delivery: e.delivery,
    },
    // Annotations are free text (summaries, descriptions, runbook links) that may name customers.
    ...(Object.keys(e.annotations).length > 0 ? { private: { annotations: e.annotations } } : {}),
  };
}

/** Storage trouble is 503 (alerting tools retry it); a client's fault keeps its own code. */
function asStorageError(err: unknown, tenant: string): unknown {
  if (isWardenError(err)) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === '23503') return new WardenError('not_found', `Tenant ${tenant} does not exist.`);
  return new WardenError('not_ready', 'Storage is unavailable; retry the delivery.', {
    cause: err,
    retryable: true,
  });
}
