/**
 * Alertmanager (webhook v4): bearer ingest token; one trigger per alert, each with its own status;
 * dedup on fingerprint + status + startsAt; `truncatedAlerts` kept with the delivery.
 */
import { z } from 'zod';
import { alertDraft, baseAlert, baseNotification, notificationMeta } from './alert-schema.js';
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
    return {
      drafts: body.alerts.map((a) =>
        alertDraft('alertmanager', a, {
          generator: a.generatorURL,
          alertmanager: body.externalURL,
        }),
      ),
      meta: notificationMeta(body),
    };
  },
};
