/**
 * Delivery outbox: every report delivery is a row (`report_deliveries`) worked off by a sweep, so a
 * delivery survives restarts and replicas share the work (`skip locked`). Each attempt is one call
 * of the target and one `delivery.attempted` receipt; a retryable failure is tried again with
 * exponential back-off (Retry-After honoured); the outcome is one `delivery.finished` receipt. When a
 * delivery fails for good and the tenant has an alternate target, a new delivery to it is queued.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { isWardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { ReceiptDraft } from '../ledger/receipt.js';
import {
  claimDueDeliveries,
  type DeliveryRow,
  getReport,
  insertDeliveries,
  type ReportRow,
  updateDelivery,
} from '../storage/reports.js';

/** A report and where it goes: what an attempt needs. */
export interface ReportTarget {
  describe(): string;
  deliver(
    report: ReportRow & { body: Buffer },
    delivery: DeliveryRow,
  ): Promise<{ location: string; status?: number }>;
}

export interface OutboxDeps {
  knex: Knex;
  ledger: Ledger;
  logger: Logger;
  /** The tenant's target by its config name (`deliver[0]`, `alternate`), if it still exists. */
  target(tenant: string, name: string): ReportTarget | undefined;
  /** Whether the tenant configured an alternate target. */
  hasAlternate(tenant: string): boolean;
  /** Attempts per delivery. @defaultValue 6 */
  maxAttempts?: number;
  /** First back-off; doubles per attempt, at most 1 h. @defaultValue 30_000 */
  backoffMs?: number;
  /** @defaultValue 5_000 */
  intervalMs?: number;
  /** Told when a delivery failed for good (the internal alert hooks in here). */
  onFailed?: (tenant: string, delivery: DeliveryRow, error: string) => void;
}

export interface Outbox {
  /** Queues one delivery per target name; returns their ids. Attempts start at once. */
  enqueue(tenant: string, reportId: string, targets: readonly string[]): Promise<string[]>;
  /** Works off every due delivery now (also what the sweep runs). */
  work(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** How long a claimed attempt is protected from other workers (the attempt's own timeout is 10 s). */
const leaseMs = 60_000;

export function createOutbox(deps: OutboxDeps): Outbox {
  const { knex, ledger, logger } = deps;
  const maxAttempts = deps.maxAttempts ?? 6;
  const backoffMs = deps.backoffMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  let working: Promise<void> | undefined;

  async function attempt(d: DeliveryRow): Promise<void> {
    const target = deps.target(d.tenant_id, d.target);
    const report = await getReport(knex, d.tenant_id, d.report_id);
    const started = Date.now();
    let outcome: { location: string; status?: number } | undefined;
    let error: string | undefined;
    let retryable = false;
    let retryAfterMs: number | undefined;
    if (!target || !report) {
      error = !target ? `target ${d.target} is no longer configured` : 'the report is gone';
    } else {
      try {
        outcome = await target.deliver(report, d);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        retryable = isWardenError(err) && err.retryable === true;
        const after = isWardenError(err)
          ? (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds
          : undefined;
        if (after !== undefined) retryAfterMs = after * 1000;
      }
    }
    const latencyMs = Date.now() - started;
    const base = { delivery: d.id, report: d.report_id, target: d.target, attempt: d.attempts };
    const describe = target?.describe() ?? d.target;
    const final = outcome || !retryable || d.attempts >= maxAttempts;
    await knex.transaction(async (trx) => {
      const drafts: ReceiptDraft[] = [
        {
          kind: 'delivery.attempted',
          data: {
            ...base,
            destination: describe,
            outcome: outcome ? 'delivered' : retryable && !final ? 'retrying' : 'failed',
            status: outcome?.status ?? null,
            error: error ?? null,
            latencyMs,
          },
        },
      ];
      if (final) {
        drafts.push({
          kind: 'delivery.finished',
          data: {
            ...base,
            destination: describe,
            outcome: outcome ? 'delivered' : 'failed',
            status: outcome?.status ?? null,
            error: error ?? null,
            latencyMs,
          },
        });
      }
      await ledger.appendIn(trx, d.tenant_id, drafts);
      await updateDelivery(trx, d.tenant_id, d.id, {
        ...(outcome
          ? { status: 'delivered', location: outcome.location, latency_ms: latencyMs }
          : { last_error: error ?? null }),
        ...(final ? { finished_at: new Date().toISOString() } : {}),
        ...(!outcome && final ? { status: 'failed' } : {}),
        ...(!final
          ? {
              retry_in_ms: Math.max(
                retryAfterMs ?? 0,
                Math.min(3_600_000, backoffMs * 2 ** (d.attempts - 1)),
              ),
            }
          : {}),
      });
    });
    if (outcome) {
      logger.info(
        { tenant: d.tenant_id, delivery: d.id, location: outcome.location },
        'report delivered',
      );
    } else if (final) {
      logger.warn(
        { tenant: d.tenant_id, delivery: d.id, target: describe, error },
        'report delivery failed',
      );
      deps.onFailed?.(d.tenant_id, d, error ?? 'unknown');
      if (d.target !== 'alternate' && deps.hasAlternate(d.tenant_id)) {
        await insertDeliveries(knex, [
          {
            id: randomUUID(),
            tenant_id: d.tenant_id,
            report_id: d.report_id,
            target: 'alternate',
            alternate_for: d.id,
          },
        ]);
      }
    }
  }

  async function work(): Promise<void> {
    for (;;) {
      const due = await claimDueDeliveries(knex, 16, leaseMs);
      if (due.length === 0) return;
      await Promise.all(
        due.map((d) =>
          attempt(d).catch((err: unknown) =>
            logger.error(
              { err, delivery: d.id },
              'delivery attempt could not be recorded; retried after its lease',
            ),
          ),
        ),
      );
    }
  }

  const kick = () => {
    working ??= work()
      .catch((err: unknown) => logger.error({ err }, 'delivery sweep failed; retried next sweep'))
      .finally(() => {
        working = undefined;
      });
    return working;
  };

  return {
    async enqueue(tenant, reportId, targets) {
      const rows = targets.map((target) => ({
        id: randomUUID(),
        tenant_id: tenant,
        report_id: reportId,
        target,
      }));
      await insertDeliveries(knex, rows);
      return rows.map((r) => r.id);
    },
    async work() {
      await kick();
      // A sweep that was already running may have missed rows queued meanwhile.
      await kick();
    },
    start() {
      timer ??= setInterval(kick, deps.intervalMs ?? 5_000).unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await working;
    },
  };
}
