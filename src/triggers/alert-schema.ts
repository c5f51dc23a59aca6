/** Alert-schema: the fields Alertmanager (webhook v4) and Grafana (webhook v1) alerts share. */
import { z } from 'zod';
import type { TriggerDraft } from './trigger-event.js';
import { zeroTime } from './trigger-event.js';

const rfc3339Pattern =
  /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
export const rfc3339 = z
  .string()
  .max(64)
  .refine(
    (s) => rfc3339Pattern.test(s) && !Number.isNaN(Date.parse(s)) && !s.startsWith('0000'),
    'not an RFC 3339 time',
  );

const labelMap = z.record(z.string().max(1024), z.string().max(16_384));

export const baseAlert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: rfc3339,
  endsAt: rfc3339.default(zeroTime),
  generatorURL: z.string().max(4096).default(''),
  fingerprint: z.string().min(1).max(256),
});

export const baseNotification = z.looseObject({
  receiver: z.string().max(1024).default(''),
  status: z.enum(['firing', 'resolved']),
  groupLabels: labelMap.default({}),
  commonLabels: labelMap.default({}),
  commonAnnotations: labelMap.default({}),
  externalURL: z.string().max(4096).default(''),
  groupKey: z.string().max(16_384).default(''),
  truncatedAlerts: z.number().int().min(0).default(0),
});

/** Drops empty values: evidence links only where the sender gave one. */
export function links(entries: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(entries).filter(
      (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
    ),
  );
}

/** Alertmanager's and Grafana's "not ended" time becomes null. */
export const endOrNull = (endsAt: string) => (endsAt === zeroTime ? null : endsAt);

/**
 * One alert of an Alertmanager-style notification as a trigger draft; dedup on fingerprint +
 * status + startsAt, so a redelivery of the same state is a duplicate.
 */
export function alertDraft(
  source: 'alertmanager' | 'grafana',
  a: z.output<typeof baseAlert>,
  evidence: Record<string, string | undefined>,
): TriggerDraft {
  return {
    source,
    kind: 'alert',
    status: a.status,
    fingerprint: a.fingerprint,
    dedupKey: `${source}:${a.fingerprint}:${a.status}:${a.startsAt}`,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    endsAt: endOrNull(a.endsAt),
    eventType: null,
    data: null,
    links: links(evidence),
  };
}

/** What every Alertmanager-style delivery keeps about itself. */
export const notificationMeta = (body: z.output<typeof baseNotification>) => ({
  receiver: body.receiver,
  groupKey: body.groupKey,
  truncatedAlerts: body.truncatedAlerts,
});
