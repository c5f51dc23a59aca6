/**
 * Grafana alerting HMAC: `X-Grafana-Alerting-Signature` = hex HMAC-SHA256(secret, [ts + ':'] + body),
 * the timestamp (when Grafana is configured to send one) checked against a replay window both ways.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WardenError } from '../errors.js';

export const grafanaSignatureHeader = 'x-grafana-alerting-signature';

export interface VerifyGrafanaSignatureOptions {
  secret: string;
  /** The raw request body, exactly as received. */
  body: Buffer;
  /** The `X-Grafana-Alerting-Signature` header value. */
  signature: string | undefined;
  /**
   * The value of the contact point's timestamp header (unix seconds). Grafana has no default name
   * for it; pass `undefined` when none is configured and the plain `HMAC(secret, body)` form is used.
   */
  timestamp?: string | undefined;
  /** @defaultValue `new Date()` */
  now?: Date;
  /** Largest accepted clock difference, into the past or the future. @defaultValue 300 */
  toleranceSeconds?: number;
}

const hexDigest = /^[0-9a-f]{64}$/i;
const unixSeconds = /^\d{1,15}$/;

/**
 * Throws `unauthenticated` unless the signature (and timestamp, when given) is valid.
 *
 * @example
 * verifyGrafanaSignature({
 *   secret: tenant.ingest.grafana.secret.reveal(),
 *   body: rawBody,
 *   signature: c.req.header('x-grafana-alerting-signature'),
 *   timestamp: c.req.header('x-grafana-alerting-timestamp'),
 * });
 */
export function verifyGrafanaSignature(options: VerifyGrafanaSignatureOptions): void {
  const { secret, body, signature, timestamp } = options;
  if (secret === '') fail('No Grafana signing secret is configured for this source.');
  if (signature === undefined || signature === '') {
    fail('Missing X-Grafana-Alerting-Signature header.');
  }
  if (!hexDigest.test(signature)) {
    fail('Malformed X-Grafana-Alerting-Signature header: expected 64 hexadecimal characters.');
  }

  const hmac = createHmac('sha256', secret);
  if (timestamp !== undefined) {
    checkWindow(timestamp, options.now ?? new Date(), options.toleranceSeconds ?? 300);
    hmac.update(`${timestamp}:`);
  }
  const expected = hmac.update(body).digest();
  // Both sides are 32 bytes: the format check above fixes the length of the received digest.
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    fail('Bad X-Grafana-Alerting-Signature: it does not match the body and the configured secret.');
  }
}

function checkWindow(timestamp: string, now: Date, toleranceSeconds: number): void {
  // A caller that expects a timestamp header passes '' when it is absent: never the plain form then.
  if (timestamp === '') fail('Missing Grafana timestamp header.');
  if (!unixSeconds.test(timestamp)) {
    fail('Malformed Grafana timestamp header: expected unix seconds.');
  }
  const skew = Math.floor(now.getTime() / 1000) - Number(timestamp);
  // Written to fail closed: an invalid clock or tolerance (NaN) passes neither test.
  if (!(skew <= toleranceSeconds)) {
    fail(
      `Grafana timestamp is too old: ${skew} s behind the server clock (tolerance ${toleranceSeconds} s).`,
    );
  }
  if (!(-skew <= toleranceSeconds)) {
    fail(
      `Grafana timestamp is too far in the future: ${-skew} s ahead of the server clock (tolerance ${toleranceSeconds} s).`,
    );
  }
}

function fail(message: string): never {
  throw new WardenError('unauthenticated', message);
}
