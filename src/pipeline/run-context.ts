/**
 * Run-context: what `{{ … }}` placeholders may read — the trigger (and, by its kind, `alert` or
 * `event`), the playbook and, for manual runs, the caller's parameters.
 */
import type { JsonValue } from '../ledger/receipt.js';
import type { TriggerEvent } from '../triggers/trigger-event.js';

export function runContext(
  trigger: TriggerEvent | null,
  playbook: { name: string; version: number },
  params: Record<string, JsonValue> = {},
): Record<string, JsonValue> {
  const context: Record<string, JsonValue> = { playbook, params };
  if (!trigger) return context;
  const common = {
    id: trigger.id,
    source: trigger.source,
    status: trigger.status,
    labels: trigger.labels,
    annotations: trigger.annotations,
    receivedAt: trigger.receivedAt,
  };
  context.trigger = common;
  if (trigger.kind === 'alert') {
    context.alert = {
      ...common,
      fingerprint: trigger.fingerprint,
      startsAt: trigger.startsAt,
      links: trigger.links,
    };
  }
  if (trigger.kind === 'event') {
    context.event = { ...common, type: trigger.eventType, data: trigger.data };
  }
  if (trigger.kind === 'cron') context.schedule = { ...common, scheduledAt: trigger.startsAt };
  return context;
}
