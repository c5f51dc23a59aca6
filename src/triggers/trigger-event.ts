/**
 * TriggerEvent: the one normalised shape every source (Alertmanager, Grafana, PagerDuty, signed
 * events, cron) becomes. A source turns one delivery into drafts; ingest persists them.
 */
import type { JsonValue } from '../ledger/receipt.js';

export const triggerSources = ['alertmanager', 'grafana', 'pagerduty', 'events', 'cron'] as const;
export type TriggerSource = (typeof triggerSources)[number];

export type TriggerKind = 'alert' | 'event' | 'cron';

/**
 * `firing`/`resolved` for alerts (PagerDuty incidents map onto them), `received` for other events,
 * `fired` for schedules.
 */
export type TriggerStatus = 'firing' | 'resolved' | 'received' | 'fired';

/** What a source makes of one alert or event in a delivery, before it is stored. */
export interface TriggerDraft {
  source: TriggerSource;
  kind: TriggerKind;
  status: TriggerStatus;
  /** Identity of the alert across its firing and resolved notifications, if the source has one. */
  fingerprint: string | null;
  /** Redelivery of the same state yields the same key; unique per tenant. */
  dedupKey: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string | null;
  endsAt: string | null;
  /** PagerDuty `event_type`, a Standard Webhooks event's `type`, or null. */
  eventType: string | null;
  /** The event's own data, for playbook matching and interpolation; null for alerts. */
  data: JsonValue | null;
  /** Evidence links (generator, dashboard, panel, silence, incident…) by name. */
  links: Record<string, string>;
}

/** Facts about the HTTP delivery (or schedule tick) the drafts came from. */
export interface Delivery {
  /** `sha256:<hex>` of the raw body as received. */
  bodyDigest: string;
  receivedAt: Date;
  /** Source-specific delivery facts worth keeping (group key, truncated alert count…). */
  meta: Record<string, JsonValue>;
}

export interface TriggerEvent extends TriggerDraft {
  id: string;
  tenant: string;
  receivedAt: string;
  bodyDigest: string;
  /** For a resolved alert, the firing trigger it ends. */
  resolves: string | null;
  receiptId: string;
}

/** One entry of the hook answer (CONTRACT.md). */
export interface Accepted {
  triggerId: string;
  duplicate: boolean;
  runs: string[];
}

/** Alertmanager's "not ended yet" time, also used by Grafana. */
export const zeroTime = '0001-01-01T00:00:00Z';
