/**
 * Alertmanager (webhook v4): bearer ingest token; one trigger per alert, each with its own status;
 * dedup on fingerprint + status + startsAt; `truncatedAlerts` kept with the delivery.
 */
import { z } from 'zod';
import { baseAlert, baseNotification, endOrNull, links } from './alert-schema.js';
import { authenticateBearer, type HookSource } from './hook-route.js';

const schema = baseNotification.extend({
  version: z.literal('4'),
  alerts: z.array(baseAlert).min(1).max(5000),
});

export const alertmanagerHook: HookSource<z.output<typeof schema>> = {
  source: 'alertmanager',
  authenticate: authenticateBearer,
  schema,
  normalise(body) {
    const drafts = body.alerts.map((a) => ({
      source: 'alertmanager' as const,
      kind: 'alert' as const,
      status: a.status,
      fingerprint: a.fingerprint,
      dedupKey: `alertmanager:${a.fingerprint}:${a.status}:${a.startsAt}`,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: endOrNull(a.endsAt),
      eventType: null,
      data: null,
      links: links({ generator: a.generatorURL, alertmanager: body.externalURL }),
    }));
    return {
      drafts,
      meta: {
        receiver: body.receiver,
        groupKey: body.groupKey,
        truncatedAlerts: body.truncatedAlerts,
      },
    };
  },
};
