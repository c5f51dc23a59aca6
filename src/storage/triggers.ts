/** Trigger storage: dedup lookups, firing→resolved links and inserts, always scoped by tenant. */
import type { Knex } from 'knex';
import type { TriggerEvent } from '../triggers/trigger-event.js';
import type { ChainedChange } from './receipts.js';

/** Ids of the tenant's triggers already stored under these dedup keys. */
export async function existingDedupKeys(
  trx: Knex,
  tenant: string,
  keys: string[],
): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const rows: Array<{ id: string; dedup_key: string }> = await trx('triggers')
    .where({ tenant_id: tenant })
    .whereIn('dedup_key', keys)
    .select('id', 'dedup_key');
  return new Map(rows.map((r) => [r.dedup_key, r.id]));
}

export interface FiringKey {
  source: string;
  fingerprint: string;
  startsAt: string;
}

export const firingKeyOf = (k: FiringKey) => `${k.source}\u0000${k.fingerprint}\u0000${k.startsAt}`;

/**
 * The stored firing triggers that these resolved notifications end, by firingKeyOf. Timestamps are
 * compared by PostgreSQL (both sides parsed the same way); the result is keyed by the caller's own
 * key, since Alertmanager's nanoseconds survive neither timestamptz nor a JS Date.
 */
export async function firingTriggers(
  trx: Knex,
  tenant: string,
  keys: FiringKey[],
): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  // Rows carry their index, not firingKeyOf: jsonb cannot hold the key's U+0000 separators.
  const wanted = keys.map((k, i) => ({
    i,
    source: k.source,
    fingerprint: k.fingerprint,
    startsAt: k.startsAt,
  }));
  const { rows } = await trx.raw(
    `select t.id, q.i
     from jsonb_to_recordset(?::jsonb) as q(i int, source text, fingerprint text, "startsAt" timestamptz)
     join triggers t
       on t.source = q.source and t.fingerprint = q.fingerprint and t.starts_at = q."startsAt"
     where t.tenant_id = ? and t.status = 'firing'`,
    [JSON.stringify(wanted), tenant],
  );
  const found = new Map<string, string>();
  for (const r of rows as Array<{ id: string; i: number }>) {
    const key = keys[r.i];
    if (key) found.set(firingKeyOf(key), r.id);
  }
  return found;
}

/**
 * Inserts triggers as a part of the ledger's append statement (with their `trigger.received`
 * receipts): one JSON parameter. A dedup key stored meanwhile fails the statement (23505).
 */
export function insertTriggersChange(
  events: Array<TriggerEvent & { delivery: Record<string, unknown> }>,
): ChainedChange {
  const rows = events.map((e) => ({
    id: e.id,
    source: e.source,
    kind: e.kind,
    status: e.status,
    fingerprint: e.fingerprint,
    dedup_key: e.dedupKey,
    labels: e.labels,
    annotations: e.annotations,
    starts_at: e.startsAt,
    ends_at: e.endsAt,
    event_type: e.eventType,
    data: e.data,
    links: e.links,
    delivery: e.delivery,
    body_digest: e.bodyDigest,
    received_at: e.receivedAt,
    resolves: e.resolves,
    receipt_id: e.receiptId,
  }));
  const columns = Object.keys(triggerColumns).join(', ');
  // A trigger's tenant is the one whose receipts record it.
  const values = Object.keys(triggerColumns)
    .map((c) => (c === 'tenant_id' ? 'chained.tenant_id' : `t.${c}`))
    .join(', ');
  const typed = Object.entries(triggerColumns)
    .filter(([name]) => name !== 'tenant_id')
    .map(([name, type]) => `${name} ${type}`)
    .join(', ');
  return {
    sql: `insert into triggers (${columns})
      select ${values} from chained, jsonb_to_recordset(?::jsonb) as t(${typed})`,
    bindings: [JSON.stringify(rows)],
  };
}

/** The SQL type of each column a new trigger sets, for `jsonb_to_recordset`. */
const triggerColumns = {
  id: 'text',
  tenant_id: 'text', // from `chained`
  source: 'text',
  kind: 'text',
  status: 'text',
  fingerprint: 'text',
  dedup_key: 'text',
  labels: 'jsonb',
  annotations: 'jsonb',
  starts_at: 'timestamptz',
  ends_at: 'timestamptz',
  event_type: 'text',
  data: 'jsonb',
  links: 'jsonb',
  delivery: 'jsonb',
  body_digest: 'text',
  received_at: 'timestamptz',
  resolves: 'text',
  receipt_id: 'text',
} as const;

interface TriggerRow {
  id: string;
  tenant_id: string;
  source: TriggerEvent['source'];
  kind: TriggerEvent['kind'];
  status: TriggerEvent['status'];
  fingerprint: string | null;
  dedup_key: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: Date | null;
  ends_at: Date | null;
  event_type: string | null;
  data: TriggerEvent['data'];
  links: Record<string, string>;
  body_digest: string;
  received_at: Date;
  resolves: string | null;
  receipt_id: string;
}

function toIso(d: Date | string): string {
  return typeof d === 'string' ? new Date(d).toISOString() : d.toISOString();
}

function rowToEvent(r: TriggerRow): TriggerEvent {
  return {
    id: r.id,
    tenant: r.tenant_id,
    source: r.source,
    kind: r.kind,
    status: r.status,
    fingerprint: r.fingerprint,
    dedupKey: r.dedup_key,
    labels: r.labels,
    annotations: r.annotations,
    startsAt: r.starts_at ? toIso(r.starts_at) : null,
    endsAt: r.ends_at ? toIso(r.ends_at) : null,
    eventType: r.event_type,
    data: r.data,
    links: r.links,
    receivedAt: toIso(r.received_at),
    bodyDigest: r.body_digest,
    resolves: r.resolves,
    receiptId: r.receipt_id,
  };
}

export async function getTrigger(
  knex: Knex,
  tenant: string,
  id: string,
): Promise<TriggerEvent | undefined> {
  const row = await knex('triggers').where({ tenant_id: tenant, id }).first();
  return row ? rowToEvent(row as TriggerRow) : undefined;
}

export interface TriggerQuery {
  source?: string | undefined;
  status?: string | undefined;
  /** Keyset pagination: triggers received before this (received_at, id). */
  before?: { receivedAt: string; id: string } | undefined;
  limit: number;
}

/** Newest first. */
export async function listTriggers(
  knex: Knex,
  tenant: string,
  q: TriggerQuery,
): Promise<TriggerEvent[]> {
  const query = knex('triggers')
    .where({ tenant_id: tenant })
    .orderBy([
      { column: 'received_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(q.limit);
  if (q.source) query.andWhere({ source: q.source });
  if (q.status) query.andWhere({ status: q.status });
  if (q.before) {
    query.andWhereRaw('(received_at, id) < (?::timestamptz, ?)', [
      q.before.receivedAt,
      q.before.id,
    ]);
  }
  return (await query.select('*')).map((r: TriggerRow) => rowToEvent(r));
}
