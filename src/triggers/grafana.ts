/**
 * Grafana unified alerting (webhook contact point): a bearer ingest token, or the
 * `X-Grafana-Alerting-Signature` HMAC with the tenant's secret (and its optional timestamp header).
 * Dashboard, panel and silence URLs are kept as evidence links.
 */
import { z } from 'zod';
import { alertDraft, baseAlert, baseNotification, notificationMeta } from './alert-schema.js';
import { grafanaSignatureHeader, verifyGrafanaSignature } from './grafana-signature.js';
import { authenticateBearer, type HookSource, hookDenied } from './hook-route.js';

const schema = baseNotification.extend({
  version: z.string().max(16).default('1'),
  orgId: z.number().int().optional(),
  title: z.string().max(16_384).default(''),
  state: z.string().max(64).optional(),
  alerts: z
    .array(
      baseAlert.extend({
        dashboardURL: z.string().max(4096).default(''),
        panelURL: z.string().max(4096).default(''),
        silenceURL: z.string().max(4096).default(''),
        imageURL: z.string().max(4096).default(''),
        ruleUID: z.string().max(256).optional(),
        valueString: z.string().max(16_384).optional(),
      }),
    )
    .min(1)
    .max(5000),
});

export const grafanaHook: HookSource<z.output<typeof schema>> = {
  source: 'grafana',
  async authenticate(req, deps) {
    const signature = req.request.headers.get(grafanaSignatureHeader) ?? undefined;
    if (req.request.headers.has('authorization') || signature === undefined) {
      return authenticateBearer(req, deps);
    }
    const settings = req.tenantConfig?.ingest.grafana;
    if (!settings) throw hookDenied();
    const timestampHeader = settings.timestampHeader;
    verifyGrafanaSignature({
      secret: settings.secret.reveal(),
      body: req.raw,
      signature,
      timestamp: timestampHeader ? (req.request.headers.get(timestampHeader) ?? '') : undefined,
      now: req.now,
    });
  },
  schema,
  normalise(body) {
    return {
      drafts: body.alerts.map((a) =>
        alertDraft('grafana', a, {
          generator: a.generatorURL,
          dashboard: a.dashboardURL,
          panel: a.panelURL,
          silence: a.silenceURL,
          image: a.imageURL,
          grafana: body.externalURL,
        }),
      ),
      meta: notificationMeta(body),
    };
  },
};
