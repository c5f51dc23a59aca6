/**
 * Ingest: turns a delivery's drafts into stored triggers with their receipts before anyone is told
 * "accepted". Concurrent deliveries of a tenant are committed together (group commit; two batches
 * of a tenant may be under way at once). A batch is two round trips: the reads (dedup keys, the
 * firing alerts resolved ones end, the playbooks to match) at once, then one statement that
 * appends the receipts and inserts the triggers and the runs they start (`ledger.appendWith`),
 * all committed together or not at all. A redelivered alert state is answered `duplicate: true`
 * and starts nothing, however many processes receive it: a dedup key stored earlier is found by
 * the dedup read; one stored at the same moment by another process fails this statement on the
 * unique (tenant, dedup key), and the batch is tried again, when the read finds it.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { isWardenError, WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { type JsonValue, newReceiptId, type ReceiptDraft } from '../ledger/receipt.js';
import { isMissingTenant } from '../storage/database-errors.js';
import { createGroupCommit } from '../storage/group-commit.js';
import type { ChainedChange } from '../storage/receipts.js';
import {
  existingDedupKeys,
  type FiringKey,
  firingKeyOf,
  firingTriggers,
  insertTriggersChange,
} from '../storage/triggers.js';
import type { Accepted, Delivery, TriggerDraft, TriggerEvent } from './trigger-event.js';

/**
 * Starts the runs for new triggers (the pipeline's seam): reads what it needs (while ingest reads
 * its own), then, given the batch's new triggers, says the run ids per trigger id, the receipts to
 * append with the triggers' and the changes (the runs' inserts) that commit with them.
 */
export type StartRuns = (knex: Knex, tenant: string) => Promise<StartRunsFor>;
export type StartRunsFor = (triggers: TriggerEvent[]) => {
  runs: Map<string, string[]>;
  receipts: ReceiptDraft[];
  changes: ChainedChange[];
};

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
    const all = items.flatMap((it) => it.drafts);
    const [known, firing, plan] = await Promise.all([
      existingDedupKeys(knex, tenant, [...new Set(all.map((d) => d.dedupKey))]),
      firingTriggers(knex, tenant, resolvedKeys(all)),
      startRuns?.(knex, tenant),
    ]);
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
    linkResolved(fresh, firing);
    const started = plan?.(fresh);
    const runs = started?.runs ?? new Map<string, string[]>();
    if (fresh.length > 0) {
      await ledger.appendWith(
        tenant,
        [...fresh.map(receiptDraft), ...(started?.receipts ?? [])],
        [insertTriggersChange(fresh), ...(started?.changes ?? [])],
      );
    }
    return answers.map((entries) =>
      entries.map(({ id, duplicate }) => ({
        triggerId: id,
        duplicate,
        runs: duplicate ? [] : (runs.get(id) ?? []),
      })),
    );
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

const firingKey = (d: TriggerDraft): FiringKey | undefined =>
  d.kind === 'alert' && d.fingerprint && d.startsAt
    ? { source: d.source, fingerprint: d.fingerprint, startsAt: d.startsAt }
    : undefined;

/** The firing alerts the batch's resolved notifications may end (looked up among stored triggers). */
function resolvedKeys(drafts: TriggerDraft[]): FiringKey[] {
  return drafts.flatMap((d) => {
    const key = d.status === 'resolved' ? firingKey(d) : undefined;
    return key ? [key] : [];
  });
}

/**
 * Links each resolved alert to the firing trigger it ends: earlier in this batch, or stored
 * earlier (`stored`, by firingKeyOf).
 */
function linkResolved(fresh: Stored[], stored: Map<string, string>): void {
  const inBatch = new Map<string, string>();
  for (const e of fresh) {
    const key = e.status === 'firing' ? firingKey(e) : undefined;
    if (key) inBatch.set(firingKeyOf(key), e.id);
  }
  for (const e of fresh) {
    const key = e.status === 'resolved' ? firingKey(e) : undefined;
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
  if (isMissingTenant(err)) return new WardenError('not_found', `Tenant ${tenant} does not exist.`);
  return new WardenError('not_ready', 'Storage is unavailable; retry the delivery.', {
    cause: err,
    retryable: true,
  });
}
