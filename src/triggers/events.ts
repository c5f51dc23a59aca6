/**
 * Signed events (`/hooks/:tenant/events/:source`): Standard Webhooks with the secret the tenant set
 * for that source, ±5 minutes both ways; dedup on `webhook-id`. The body's `type` names the event.
 */
import { z } from 'zod';
import type { JsonValue } from '../ledger/receipt.js';
import { type HookSource, hookDenied } from './hook-route.js';
import { verifyStandardWebhook } from './standard-webhook.js';
import type { TriggerDraft } from './trigger-event.js';

const schema = z.union([
  z.looseObject({ type: z.string().min(1).max(256).optional() }),
  z.array(z.unknown()),
]);

export const eventsHook: HookSource<z.output<typeof schema>> = {
  source: 'events',
  async authenticate(req) {
    const name = req.params.source ?? '';
    const secret = req.tenantConfig?.ingest.events[name]?.secret;
    if (!secret) throw hookDenied();
    const verified = verifyStandardWebhook({
      secret: secret.reveal(),
      body: req.raw,
      headers: req.request.headers,
      now: req.now,
    });
    req.verifiedId = verified.id;
  },
  schema,
  normalise(body, req) {
    const name = req.params.source ?? '';
    const id = req.verifiedId ?? '';
    const type = !Array.isArray(body) && typeof body.type === 'string' ? body.type : null;
    const labels: Record<string, string> = { source: name };
    if (type) labels.type = type;
    const draft: TriggerDraft = {
      source: 'events',
      kind: 'event',
      status: 'received',
      fingerprint: null,
      dedupKey: `events:${name}:${id}`,
      labels,
      annotations: {},
      startsAt: null,
      endsAt: null,
      eventType: type,
      data: body as JsonValue,
      links: {},
    };
    return { drafts: [draft], meta: { webhookId: id, eventSource: name } };
  },
};
