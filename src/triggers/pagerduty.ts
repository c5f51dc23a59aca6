/**
 * PagerDuty v3 webhooks: `X-PagerDuty-Signature` (`v1=` HMAC, several during rotation); one event per
 * delivery, dedup on the event id. Incident triggered/resolved map onto firing/resolved alerts keyed
 * by the incident, so a resolve links to its trigger; other event types are plain events.
 */
import { z } from 'zod';
import type { JsonValue } from '../ledger/receipt.js';
import { rfc3339 } from './alert-schema.js';
import { type HookSource, hookDenied } from './hook-route.js';
import { pagerDutySignatureHeader, verifyPagerDutySignature } from './pagerduty-signature.js';
import type { TriggerDraft } from './trigger-event.js';

const schema = z.looseObject({
  event: z.looseObject({
    id: z.string().min(1).max(256),
    event_type: z.string().min(1).max(128),
    resource_type: z.string().max(128).default(''),
    occurred_at: rfc3339,
    data: z
      .looseObject({
        id: z.string().max(256).optional(),
        html_url: z.string().max(4096).optional(),
        title: z.string().max(16_384).optional(),
        created_at: rfc3339.optional(),
        urgency: z.string().max(64).optional(),
        service: z.looseObject({ summary: z.string().max(1024).optional() }).optional(),
        /** Set on events about something inside an incident (annotations, notes). */
        incident: z.looseObject({ id: z.string().max(256).optional() }).optional(),
      })
      .default({}),
  }),
});

const alertStatus: Record<string, 'firing' | 'resolved'> = {
  'incident.triggered': 'firing',
  'incident.resolved': 'resolved',
};

export const pagerdutyHook: HookSource<z.output<typeof schema>> = {
  source: 'pagerduty',
  async authenticate(req) {
    const secret = req.tenantConfig?.ingest.pagerduty?.secret;
    if (!secret) throw hookDenied();
    verifyPagerDutySignature({
      secret: secret.reveal(),
      body: req.raw,
      header: req.request.headers.get(pagerDutySignatureHeader) ?? undefined,
    });
  },
  schema,
  normalise({ event }) {
    const incident = event.data;
    const incidentId = event.resource_type === 'incident' ? incident.id : incident.incident?.id;
    const status = alertStatus[event.event_type];
    const isAlert = status !== undefined && incidentId !== undefined;
    const labels: Record<string, string> = { event_type: event.event_type };
    if (incidentId) labels.incident = incidentId;
    if (incident.service?.summary) labels.service = incident.service.summary;
    if (incident.urgency) labels.urgency = incident.urgency;
    const draft: TriggerDraft = {
      source: 'pagerduty',
      kind: isAlert ? 'alert' : 'event',
      status: isAlert ? status : 'received',
      fingerprint: incidentId ?? null,
      dedupKey: `pagerduty:${event.id}`,
      labels,
      annotations: incident.title ? { summary: incident.title } : {},
      startsAt: incident.created_at ?? event.occurred_at,
      endsAt: status === 'resolved' ? event.occurred_at : null,
      eventType: event.event_type,
      data: event.data as JsonValue,
      links: incident.html_url ? { incident: incident.html_url } : {},
    };
    return { drafts: [draft], meta: { eventId: event.id, resourceType: event.resource_type } };
  },
};
