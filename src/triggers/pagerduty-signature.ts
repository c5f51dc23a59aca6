/**
 * PagerDuty v3 webhook signatures: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, body)>`,
 * comma-separated while a secret is rotated; any one matching `v1` entry passes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WardenError } from '../errors.js';

export const pagerDutySignatureHeader = 'x-pagerduty-signature';

/** Entries of the header looked at; the rest are ignored. */
export const maxPagerDutySignatures = 10;

export interface VerifyPagerDutySignatureOptions {
  secret: string;
  /** The raw request body, exactly as received. */
  body: Buffer;
  /** The `X-PagerDuty-Signature` header value. */
  header: string | undefined;
}

const hexDigest = /^[0-9a-f]{64}$/i;

/**
 * Throws `unauthenticated` unless one of the header's `v1` signatures matches. PagerDuty signs no
 * timestamp, so replays are caught by de-duplication (`X-Webhook-Id`, event id), not here.
 *
 * @example
 * verifyPagerDutySignature({
 *   secret: tenant.ingest.pagerduty.secret.reveal(),
 *   body: rawBody,
 *   header: c.req.header('x-pagerduty-signature'),
 * });
 */
export function verifyPagerDutySignature(options: VerifyPagerDutySignatureOptions): void {
  const { secret, body, header } = options;
  if (secret === '') fail('No PagerDuty signing secret is configured for this source.');
  if (header === undefined || header.trim() === '') fail('Missing X-PagerDuty-Signature header.');

  const v1 = header
    .split(',', maxPagerDutySignatures)
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('v1='))
    .map((entry) => entry.slice('v1='.length));
  if (v1.length === 0) fail('X-PagerDuty-Signature header has no v1 signature.');
  const candidates = v1.filter((hex) => hexDigest.test(hex));
  if (candidates.length === 0) {
    fail(
      'Malformed X-PagerDuty-Signature header: a v1 signature must be 64 hexadecimal characters.',
    );
  }

  const expected = createHmac('sha256', secret).update(body).digest();
  // Every candidate is compared (no early exit), each as a fixed 32-byte digest.
  let matched = false;
  for (const hex of candidates) {
    matched = timingSafeEqual(expected, Buffer.from(hex, 'hex')) || matched;
  }
  if (!matched) {
    fail('Bad X-PagerDuty-Signature: no v1 signature matches the body and the configured secret.');
  }
}

function fail(message: string): never {
  throw new WardenError('unauthenticated', message);
}
