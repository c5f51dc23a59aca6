/** Report storage: rendered Trust Reports, their delivery outbox and secure links — tenant-scoped. */
import type { Knex } from 'knex';

export interface ReportRow {
  id: string;
  tenant_id: string;
  week: string;
  format: 'pdf' | 'html';
  content_type: string;
  sha256: string;
  size: number;
  audience: string;
  origin: 'schedule' | 'manual';
  receipt_id: string;
  created_at: string;
}

const reportColumns = [
  'id',
  'tenant_id',
  'week',
  'format',
  'content_type',
  'sha256',
  'size',
  'audience',
  'origin',
  'receipt_id',
  'created_at',
] as const;

const asReport = (r: ReportRow): ReportRow => ({
  ...r,
  size: Number(r.size),
  created_at: new Date(r.created_at).toISOString(),
});

/** Inserts a report; false when a scheduled report of that week exists already (another replica). */
export async function insertReport(
  trx: Knex.Transaction,
  row: Omit<ReportRow, 'created_at'> & { body: Buffer },
): Promise<boolean> {
  const inserted = await trx('reports')
    .insert(row)
    .onConflict(trx.raw(`(tenant_id, week) where origin = 'schedule'`))
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

export async function listReports(knex: Knex, tenant: string, limit = 52): Promise<ReportRow[]> {
  const rows = await knex('reports')
    .where({ tenant_id: tenant })
    .orderBy('created_at', 'desc')
    .limit(limit)
    .select(reportColumns);
  return rows.map(asReport);
}

export async function getReport(
  knex: Knex,
  tenant: string,
  id: string,
): Promise<(ReportRow & { body: Buffer }) | undefined> {
  const row = await knex('reports')
    .where({ tenant_id: tenant, id })
    .first([...reportColumns, 'body']);
  return row ? { ...asReport(row), body: Buffer.from(row.body) } : undefined;
}

export interface DeliveryRow {
  id: string;
  tenant_id: string;
  report_id: string;
  target: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  location: string | null;
  latency_ms: number | null;
  alternate_for: string | null;
  created_at: string;
  finished_at: string | null;
}

export async function insertDeliveries(
  knex: Knex,
  rows: Array<
    Pick<DeliveryRow, 'id' | 'tenant_id' | 'report_id' | 'target'> & {
      alternate_for?: string | null;
    }
  >,
): Promise<void> {
  if (rows.length === 0) return;
  await knex('report_deliveries').insert(
    rows.map((r) => ({ ...r, status: 'pending', next_attempt_at: knex.fn.now() })),
  );
}

/**
 * Claims due deliveries for one attempt each: pushes their next attempt `leaseMs` into the future so
 * no other worker takes them meanwhile (a crash mid-attempt retries after the lease), in a
 * transaction with `skip locked`, so replicas share the work.
 */
export async function claimDueDeliveries(
  knex: Knex,
  limit: number,
  leaseMs: number,
): Promise<DeliveryRow[]> {
  const { rows } = await knex.raw<{ rows: DeliveryRow[] }>(
    `update report_deliveries d
        set next_attempt_at = now() + (? * interval '1 millisecond'), attempts = d.attempts + 1
      where d.id in (select id from report_deliveries
                      where status = 'pending' and next_attempt_at <= now()
                      order by next_attempt_at
                      limit ? for update skip locked)
      returning d.*`,
    [leaseMs, limit],
  );
  return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
}

export async function updateDelivery(
  knex: Knex,
  tenant: string,
  id: string,
  change: Partial<
    Pick<DeliveryRow, 'status' | 'last_error' | 'location' | 'latency_ms' | 'finished_at'>
  > & { retry_in_ms?: number },
): Promise<void> {
  const { retry_in_ms, ...fields } = change;
  await knex('report_deliveries')
    .where({ tenant_id: tenant, id })
    .update({
      ...fields,
      ...(retry_in_ms === undefined
        ? {}
        : { next_attempt_at: knex.raw(`now() + (? * interval '1 millisecond')`, [retry_in_ms]) }),
    });
}

export async function deliveriesOf(
  knex: Knex,
  tenant: string,
  reportId: string,
): Promise<DeliveryRow[]> {
  const rows = await knex('report_deliveries')
    .where({ tenant_id: tenant, report_id: reportId })
    .orderBy('created_at');
  return rows.map((r: DeliveryRow) => ({ ...r, attempts: Number(r.attempts) }));
}

export async function insertLink(
  knex: Knex,
  row: { id: string; tenant_id: string; report_id: string; expires_at: Date },
): Promise<void> {
  await knex('report_links').insert(row);
}

export async function getLink(
  knex: Knex,
  id: string,
): Promise<{ id: string; tenant_id: string; report_id: string; expires_at: Date } | undefined> {
  const row = await knex('report_links').where({ id }).first();
  return row ? { ...row, expires_at: new Date(row.expires_at) } : undefined;
}

/** The key that signs secure links, made on first use; every replica reads the same one. */
export async function linkKey(knex: Knex): Promise<Buffer> {
  const existing = await knex('link_keys').where({ id: 'current' }).first('key');
  if (existing) return Buffer.from(existing.key, 'base64');
  const { randomBytes } = await import('node:crypto');
  await knex('link_keys')
    .insert({ id: 'current', key: randomBytes(32).toString('base64') })
    .onConflict('id')
    .ignore();
  const row = await knex('link_keys').where({ id: 'current' }).first('key');
  return Buffer.from(row.key, 'base64');
}
