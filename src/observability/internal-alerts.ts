/**
 * Internal alerts: evaluates the alert rules (alert-rules.ts) for every tenant, periodically. Each
 * tenant's states live in `internal_alerts` and change under its advisory lock, so replicas agree
 * on one state and a transition is made (and receipted) once. Every transition appends an
 * `alert.fired` / `alert.cleared` receipt in the same transaction, and is then handed to `notify`.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { budgetReasons } from '../guardrails/chain.js';
import type { Ledger } from '../ledger/ledger.js';
import {
  type AlertStateRow,
  alertStates,
  lockAlertStates,
  measureTenant,
  saveAlertStates,
  tenantIds,
} from '../storage/internal-alerts.js';
import {
  type AlertRule,
  type AlertRuleName,
  type AlertRuleOverrides,
  type AlertState,
  alertRuleNames,
  alertRules,
  nextState,
  resolveAlertRules,
} from './alert-rules.js';
import { draftOf, type InternalAlertNotice, noticeOf } from './internal-alert-notice.js';

export interface InternalAlertsOptions {
  knex: Knex;
  ledger: Ledger;
  logger: Logger;
  /** Told of each transition once it is committed (the tenant's chat channel); failures are logged. */
  notify?(tenant: string, alert: InternalAlertNotice): unknown;
  /** Per tenant, seconds behind for anchoring; without it, `anchoring_lag` is not evaluated. */
  anchoringLag?: () => Promise<Array<{ tenant: string; seconds: number }>>;
  /**
   * Thresholds over the defaults of `alertRules`, for every tenant or per tenant.
   * @defaultValue {} (the defaults)
   */
  rules?: AlertRuleOverrides | ((tenant: string) => AlertRuleOverrides | undefined);
}

export interface InternalAlerts {
  /** Evaluates every tenant at `now`; resolves to the transitions made. */
  evaluate(now?: Date): Promise<InternalAlertNotice[]>;
  /** Evaluates every `intervalMs` (one evaluation at a time) until stop(). */
  start(intervalMs: number): void;
  /** Stops the timer and waits for an evaluation in flight. */
  stop(): Promise<void>;
}

/**
 * @example
 * const alerts = createInternalAlerts({ knex, ledger, logger, anchoringLag: () => anchoring.lag(),
 *   notify: (tenant, a) => chat.post(tenant, a.message) });
 * alerts.start(60_000);
 */
export function createInternalAlerts(options: InternalAlertsOptions): InternalAlerts {
  const { knex, ledger, logger, rules: overrides } = options;
  // Shared thresholds are checked here, at start; per-tenant ones at each tenant's evaluation.
  const shared = typeof overrides === 'function' ? undefined : resolveAlertRules(overrides);
  const rulesOf = (tenant: string) =>
    shared ?? resolveAlertRules(typeof overrides === 'function' ? overrides(tenant) : undefined);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  async function evaluateTenant(
    tenant: string,
    now: Date,
    lag: ReadonlyMap<string, number> | undefined,
  ): Promise<InternalAlertNotice[]> {
    const rules = rulesOf(tenant);
    const m = await measureTenant(
      knex,
      tenant,
      now,
      {
        runsMs: rules.runaway_run_rate.windowMs,
        denialsMs: rules.repeated_denials.windowMs,
        budgetMs: rules.budget_exceed_attempts.windowMs,
        deliveriesMs: rules.delivery_failures.windowMs,
      },
      budgetReasons,
    );
    const values: Partial<Record<AlertRuleName, number>> = {
      runaway_run_rate: m.runs,
      repeated_denials: m.denials,
      budget_exceed_attempts: m.budgetDenials,
      delivery_failures: m.deliveryFailures,
      ...(lag ? { anchoring_lag: lag.get(tenant) ?? 0 } : {}),
    };
    const notices = await knex.transaction(async (trx) => {
      const states = await lockAlertStates(trx, tenant);
      const rows: AlertStateRow[] = [];
      const changes: Array<{ rule: AlertRule; row: AlertStateRow; firedAt: Date }> = [];
      for (const name of alertRuleNames) {
        const value = values[name];
        const prev = states.get(name);
        // A replica that evaluated a later instant already decided: never step back.
        if (value === undefined || (prev && prev.last_evaluated > now)) continue;
        const rule = rules[name];
        const prevState = prev && {
          state: prev.state,
          since: prev.since,
          belowSince: prev.below_since,
        };
        const next = nextState(prevState, value, rule, now);
        const row: AlertStateRow = {
          rule: name,
          state: next.state,
          since: next.since,
          value,
          threshold: rule.threshold,
          below_since: next.belowSince,
          receipt_id: prev?.receipt_id ?? null,
          last_evaluated: now,
        };
        rows.push(row);
        if (next.transition) changes.push({ rule, row, firedAt: prev?.since ?? now });
      }
      const drafts = changes.map(({ rule, row, firedAt }) => draftOf(rule, row, firedAt));
      const receipts = await ledger.appendIn(trx, tenant, drafts);
      const made = changes.map(({ rule, row, firedAt }, i) => {
        const receiptId = receipts[i]?.payload.id ?? '';
        row.receipt_id = receiptId;
        return noticeOf(tenant, rule, row, row.state === 'firing' ? now : firedAt, receiptId);
      });
      await saveAlertStates(trx, tenant, rows);
      return made;
    });
    for (const notice of notices) {
      logger.warn({ tenant, rule: notice.rule, value: notice.value }, notice.message);
      try {
        await options.notify?.(tenant, notice);
      } catch (err) {
        logger.error({ err, tenant, rule: notice.rule }, 'internal alert notification failed');
      }
    }
    return notices;
  }

  async function evaluate(now: Date = new Date()): Promise<InternalAlertNotice[]> {
    const lag = options.anchoringLag
      ? new Map((await options.anchoringLag()).map((l) => [l.tenant, l.seconds]))
      : undefined;
    const made: InternalAlertNotice[] = [];
    for (const tenant of await tenantIds(knex)) {
      try {
        made.push(...(await evaluateTenant(tenant, now, lag)));
      } catch (err) {
        logger.error({ err, tenant }, 'internal alert evaluation failed; retried next interval');
      }
    }
    return made;
  }

  return {
    evaluate,
    start(intervalMs) {
      timer ??= setInterval(() => {
        running ??= evaluate()
          .catch((err: unknown) => logger.error({ err }, 'internal alert evaluation failed'))
          .finally(() => {
            running = undefined;
          });
      }, intervalMs).unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export interface InternalAlert {
  rule: AlertRuleName;
  title: string;
  state: AlertState;
  /** When the rule entered its state. */
  since: string;
  value: number;
  threshold: number;
  lastEvaluated: string;
  /** The receipt of its last transition (null if it never fired). */
  receiptId: string | null;
}

/**
 * The tenant's internal alerts for the dashboard: firing first; rules never evaluated are absent.
 * @example
 * const firing = (await listInternalAlerts(knex, 'acme')).filter((a) => a.state === 'firing');
 */
export async function listInternalAlerts(knex: Knex, tenant: string): Promise<InternalAlert[]> {
  const rows = await alertStates(knex, tenant);
  return rows
    .filter((r): r is AlertStateRow & { rule: AlertRuleName } => r.rule in alertRules)
    .map((r) => ({
      rule: r.rule,
      title: alertRules[r.rule].title,
      state: r.state,
      since: r.since.toISOString(),
      value: r.value,
      threshold: r.threshold,
      lastEvaluated: r.last_evaluated.toISOString(),
      receiptId: r.receipt_id,
    }));
}
