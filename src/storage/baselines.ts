/**
 * Baseline storage: a tenant's MTTM baseline — one row describing it, the incidents it holds — and
 * the resolved alerts a computed baseline is taken from. Replacing is delete-then-insert inside the
 * caller's transaction, so a reader sees the old baseline or the new one, never a mix.
 */
import type { Knex } from 'knex';

export interface BaselineMeta {
  source: 'import' | 'compute';
  sha256: string | null;
  fileName: string | null;
  incidents: number;
  windowFrom: string;
  windowTo: string;
  receiptId: string;
}

export interface StoredIncident {
  line: number | null;
  alertname: string;
  startedAt: string;
  mitigatedAt: string;
}

/** Incidents inserted per statement (one jsonb parameter each). */
const chunk = 5_000;

/** Replaces the tenant's baseline (row and incidents). Call inside a transaction. */
export async function replaceBaseline(
  trx: Knex.Transaction,
  tenant: string,
  meta: BaselineMeta,
  incidents: readonly StoredIncident[],
): Promise<void> {
  await trx('baseline_incidents').where({ tenant_id: tenant }).delete();
  await trx('mttm_baselines')
    .insert({
      tenant_id: tenant,
      source: meta.source,
      sha256: meta.sha256,
      file_name: meta.fileName,
      incidents: meta.incidents,
      window_from: meta.windowFrom,
      window_to: meta.windowTo,
      receipt_id: meta.receiptId,
      created_at: trx.fn.now(),
    })
    .onConflict('tenant_id')
    .merge();
  for (let from = 0; from < incidents.length; from += chunk) {
    const rows = incidents.slice(from, from + chunk).map((i, k) => ({
      position: from + k,
      line: i.line,
      alertname: i.alertname,
      started_at: i.startedAt,
      mitigated_at: i.mitigatedAt,
    }));
    await trx.raw(
      `insert into baseline_incidents (tenant_id, position, line, alertname, started_at, mitigated_at)
       select ?, r.position, r.line, r.alertname, r.started_at, r.mitigated_at
       from jsonb_to_recordset(?::jsonb) as r(position int, line int, alertname text,
         started_at timestamptz, mitigated_at timestamptz)`,
      [tenant, JSON.stringify(rows)],
    );
  }
}

export interface BaselineSummary {
  source: 'import' | 'compute';
  sha256: string | null;
  fileName: string | null;
  windowFrom: Date;
  windowTo: Date;
  receiptId: string;
  createdAt: Date;
  incidents: number;
  meanMinutes: number | null;
  medianMinutes: number | null;
}

/** The tenant's baseline with its mean and median minutes to mitigate; undefined without one. */
export async function baselineSummary(
  knex: Knex,
  tenant: string,
): Promise<BaselineSummary | undefined> {
  const { rows } = await knex.raw(
    `select b.source, b.sha256, b.file_name, b.window_from, b.window_to, b.receipt_id, b.created_at,
            count(i.position) as n, avg(m.minutes) as mean,
            percentile_cont(0.5) within group (order by m.minutes) as median
       from mttm_baselines b
       left join baseline_incidents i on i.tenant_id = b.tenant_id
       cross join lateral (
         select (extract(epoch from i.mitigated_at - i.started_at) / 60)::float8 as minutes) m
      where b.tenant_id = ?
      group by b.tenant_id`,
    [tenant],
  );
  const r = rows[0];
  if (!r) return undefined;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    source: r.source,
    sha256: r.sha256,
    fileName: r.file_name,
    windowFrom: new Date(r.window_from),
    windowTo: new Date(r.window_to),
    receiptId: r.receipt_id,
    createdAt: new Date(r.created_at),
    incidents: Number(r.n),
    meanMinutes: num(r.mean),
    medianMinutes: num(r.median),
  };
}

/**
 * Firing alerts of the tenant that started and were resolved within `[since, until)`, each with
 * its start (`startsAt`, else when it was received) and its first resolution (`endsAt` of the
 * resolved notification linked through `resolves`, else when that was received). Oldest first.
 */
export async function resolvedAlerts(
  knex: Knex,
  tenant: string,
  range: { since: Date | null; until: Date },
): Promise<StoredIncident[]> {
  const { rows } = await knex.raw(
    `with r as (
       select x.resolves as id, min(coalesce(x.ends_at, x.received_at)) as resolved_at
         from triggers x
        where x.tenant_id = ? and x.kind = 'alert' and x.status = 'resolved'
          and x.resolves is not null and x.received_at >= ?::timestamptz - interval '1 day'
        group by x.resolves)
     select left(coalesce(nullif(t.labels->>'alertname', ''), '(no alertname)'), 200) as alertname,
            coalesce(t.starts_at, t.received_at) as started_at,
            greatest(r.resolved_at, coalesce(t.starts_at, t.received_at)) as mitigated_at
       from triggers t
       join r on r.id = t.id
      where t.tenant_id = ? and t.kind = 'alert' and t.status = 'firing'
        and coalesce(t.starts_at, t.received_at) >= ?::timestamptz
        and coalesce(t.starts_at, t.received_at) < ?::timestamptz
        and r.resolved_at < ?::timestamptz
      order by 2, t.id`,
    [
      tenant,
      range.since?.toISOString() ?? '-infinity',
      tenant,
      range.since?.toISOString() ?? '-infinity',
      range.until.toISOString(),
      range.until.toISOString(),
    ],
  );
  return (rows as Array<{ alertname: string; started_at: Date; mitigated_at: Date }>).map((r) => ({
    line: null,
    alertname: r.alertname,
    startedAt: new Date(r.started_at).toISOString(),
    mitigatedAt: new Date(r.mitigated_at).toISOString(),
  }));
}
