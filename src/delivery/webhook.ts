/**
 * Webhook target: POSTs the artifact as a Standard Webhooks event (`webhook-id` = the delivery id,
 * the same on every retry), signed with the tenant's `whsec_` secret. 2xx is delivered.
 */
import { isWardenError } from '../errors.js';
import { signStandardWebhook } from '../triggers/standard-webhook.js';
import { assertDeliverable } from './deliverable.js';
import type { Delivery, DeliveryDeps, DeliveryTarget, WebhookTargetSpec } from './delivery.js';
import { configFailure, networkFailure, statusFailure } from './failure.js';

/** Event types for known kinds; any other kind is sent as `<kind>.delivered`. */
const eventTypes: Record<string, string> = {
  report: 'report.ready',
  checkpoint: 'checkpoint.published',
};

/** The JSON body receivers get; `content` is the artifact in base64. */
export interface DeliveryEvent {
  type: string;
  /** ISO 8601 time of this attempt. */
  timestamp: string;
  data: {
    id: string;
    tenant: string;
    kind: string;
    name: string;
    contentType: string;
    sha256: string;
    size: number;
    content: string;
    metadata: Record<string, string>;
  };
}

/** The event a delivery is sent as, at `at`. */
export function deliveryEvent(d: Delivery, at: Date): DeliveryEvent {
  return {
    type: eventTypes[d.kind] ?? `${d.kind}.delivered`,
    timestamp: at.toISOString(),
    data: {
      id: d.id,
      tenant: d.tenant,
      kind: d.kind,
      name: d.name,
      contentType: d.contentType,
      sha256: d.sha256,
      size: d.body.byteLength,
      content: Buffer.from(d.body.buffer, d.body.byteOffset, d.body.byteLength).toString('base64'),
      metadata: d.metadata ?? {},
    },
  };
}

/**
 * Redirects are not followed (a 3xx is a configuration error): a signed artifact goes only to the
 * configured URL. Messages show the URL without its query; the secret never appears.
 * @example
 * const target = createWebhookTarget({ type: 'webhook', url, secret }, { timeoutMs: 5_000 });
 */
export function createWebhookTarget(spec: WebhookTargetSpec, deps: DeliveryDeps): DeliveryTarget {
  const url = new URL(spec.url);
  const location = `${url.origin}${url.pathname}`;
  const target = `webhook ${location}`;
  const send = deps.fetch ?? globalThis.fetch;
  const now = deps.now ?? (() => new Date());
  const timeoutMs = deps.timeoutMs ?? 10_000;

  function sign(id: string, at: Date, body: string): string {
    try {
      return signStandardWebhook({ secret: spec.secret.reveal(), id, timestamp: at, body });
    } catch (err) {
      if (!isWardenError(err)) throw err;
      throw configFailure(target, 'the secret is not a valid whsec_<base64> key.');
    }
  }

  return {
    kind: 'webhook',
    describe: () => target,
    async deliver(d, signal) {
      assertDeliverable(d);
      const at = now();
      const body = JSON.stringify(deliveryEvent(d, at));
      const headers = {
        'content-type': 'application/json',
        'webhook-id': d.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': sign(d.id, at, body),
      };
      const timeout = AbortSignal.timeout(timeoutMs);
      let res: Response;
      try {
        res = await send(spec.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (err) {
        throw networkFailure(target, err, timeout.aborted ? timeoutMs : undefined);
      }
      await res.body?.cancel();
      if (res.status < 200 || res.status > 299) {
        throw statusFailure(target, res.status, res.statusText, res.headers.get('retry-after'));
      }
      return { location, status: res.status, bytes: d.body.byteLength };
    },
  };
}
