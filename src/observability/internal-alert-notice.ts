/**
 * Internal-alert notice: how a rule's transition is told — its `alert.fired` / `alert.cleared`
 * receipt draft, and the notice handed to `notify` with one line for a chat channel.
 */
import type { ReceiptDraft } from '../ledger/receipt.js';
import type { AlertStateRow } from '../storage/internal-alerts.js';
import type { AlertRule, AlertRuleName } from './alert-rules.js';

/** A transition, as receipted and as `notify` receives it. */
export interface InternalAlertNotice {
  tenant: string;
  rule: AlertRuleName;
  title: string;
  transition: 'fired' | 'cleared';
  value: number;
  threshold: number;
  clearBelow: number;
  /** When the rule fired (for a clear: when it had fired). */
  firedAt: string;
  at: string;
  receiptId: string;
  /** One line for a chat channel. */
  message: string;
}

/** The receipt of a transition; a clear links the `alert.fired` receipt it ends (`fired`). */
export function draftOf(rule: AlertRule, row: AlertStateRow, firedAt: Date): ReceiptDraft {
  const data = {
    rule: rule.name,
    value: row.value,
    threshold: rule.threshold,
    clearBelow: rule.clearBelow,
    ...(rule.windowMs > 0 ? { windowMs: rule.windowMs } : {}),
  };
  return row.state === 'firing'
    ? { kind: 'alert.fired', data }
    : {
        kind: 'alert.cleared',
        data: {
          ...data,
          clearAfterMs: rule.clearAfterMs,
          firedAt: firedAt.toISOString(),
          ...(row.receipt_id ? { fired: row.receipt_id } : {}),
        },
      };
}

/** The notice of a transition, with its receipt's id. */
export function noticeOf(
  tenant: string,
  rule: AlertRule,
  row: AlertStateRow,
  firedAt: Date,
  receiptId: string,
): InternalAlertNotice {
  const what = `${row.value} ${rule.unit}${rule.windowMs > 0 ? ` in the last ${span(rule.windowMs)}` : ''}`;
  const fired = row.state === 'firing';
  return {
    tenant,
    rule: rule.name,
    title: rule.title,
    transition: fired ? 'fired' : 'cleared',
    value: row.value,
    threshold: rule.threshold,
    clearBelow: rule.clearBelow,
    firedAt: firedAt.toISOString(),
    at: row.last_evaluated.toISOString(),
    receiptId,
    message: fired
      ? `${rule.title} (${tenant}): ${what}, threshold ${rule.threshold}.`
      : `${rule.title} (${tenant}) cleared: ${what}, below ${rule.clearBelow}${rule.clearAfterMs > 0 ? ` for ${span(rule.clearAfterMs)}` : ''}.`,
  };
}

/** 600000 → `10 min`, 3600000 → `1 h`, 86400000 → `24 h`. */
function span(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
