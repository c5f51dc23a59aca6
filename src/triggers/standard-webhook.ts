/**
 * Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`): verify signed events
 * against a `whsec_…` secret, with a replay window both ways, and sign Warden's own deliveries.
 */
import { isUtf8 } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WardenError, type WardenErrorCode } from '../errors.js';

/** Signatures of the `webhook-signature` header looked at; the rest are ignored. */
export const maxStandardWebhookSignatures = 10;

export interface VerifyStandardWebhookOptions {
  /** `whsec_<base64>` (the prefix is optional). */
  secret: string;
  /** The raw request body, exactly as received. */
  body: Buffer;
  /** The request headers; plain-object keys may be in any case. */
  headers: Headers | Record<string, string | undefined>;
  /** @defaultValue `new Date()` */
  now?: Date;
  /** Largest accepted clock difference, into the past or the future. @defaultValue 300 */
  toleranceSeconds?: number;
}

export interface StandardWebhookMessage {
  /** `webhook-id`: the same across retries of one message, so the de-duplication key. */
  id: string;
  /** `webhook-timestamp`: when this attempt was signed. */
  timestamp: Date;
}

export interface SignStandardWebhookOptions {
  secret: string;
  id: string;
  /** Signed with whole-second precision. */
  timestamp: Date;
  body: Buffer | string;
}

const unixSeconds = /^\d{1,15}$/;
const base64Digest = /^[A-Za-z0-9+/]{43}=$/;
const base64Key =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=?|[A-Za-z0-9+/]{2}(?:==)?)$/;

/**
 * Throws `unauthenticated` unless a `v1` signature matches and the timestamp is within the window.
 *
 * The window is checked here rather than by the library's `Webhook.verify`, which reads `Date.now()`
 * and a fixed 300 s tolerance; the library's `sign` computes the expected signature.
 *
 * @example
 * const { id } = verifyStandardWebhook({
 *   secret: source.secret.reveal(),
 *   body: rawBody,
 *   headers: c.req.raw.headers,
 * });
 */
export function verifyStandardWebhook(
  options: VerifyStandardWebhookOptions,
): StandardWebhookMessage {
  const { body, headers } = options;
  const id = requireHeader(headers, 'webhook-id');
  const timestampHeader = requireHeader(headers, 'webhook-timestamp');
  const signatureHeader = requireHeader(headers, 'webhook-signature');
  const webhook = webhookFor(options.secret, 'unauthenticated');

  const seconds = checkWindow(
    timestampHeader,
    options.now ?? new Date(),
    options.toleranceSeconds ?? 300,
  );
  const candidates = v1Signatures(signatureHeader);
  // The library signs `body.toString()`, which would map distinct invalid byte sequences to U+FFFD.
  if (!isUtf8(body)) {
    fail('The webhook body is not valid UTF-8, so its signature cannot be checked.');
  }

  const timestamp = new Date(seconds * 1000);
  const expected = digestOf(webhook.sign(id, timestamp, body));
  let matched = false;
  for (const value of candidates) {
    matched = timingSafeEqual(expected, Buffer.from(value, 'base64')) || matched;
  }
  if (!matched) {
    fail('Bad webhook-signature: no v1 signature matches the message and the configured secret.');
  }
  return { id, timestamp };
}

/**
 * The `webhook-signature` header value (`v1,<base64>`) for a message Warden sends.
 *
 * @example
 * const now = new Date();
 * const signature = signStandardWebhook({ secret, id: 'msg_1', timestamp: now, body });
 * await fetch(url, { method: 'POST', body, headers: {
 *   'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
 *   'webhook-signature': signature } });
 */
export function signStandardWebhook(options: SignStandardWebhookOptions): string {
  const { id, timestamp, body } = options;
  if (typeof body !== 'string' && !isUtf8(body)) {
    throw new WardenError('invalid', 'A Standard Webhooks body must be valid UTF-8.');
  }
  return webhookFor(options.secret, 'config_invalid').sign(id, timestamp, body);
}

/**
 * The library's base64 decoder ignores a stray last character (`key!` decodes like `key`), so the
 * key is checked to be whole base64 (padding optional) before the library sees it.
 */
function webhookFor(secret: string, code: WardenErrorCode): Webhook {
  const key = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (base64Key.test(key)) {
    try {
      return new Webhook(key);
    } catch {
      // Falls through: the library's message says nothing secret, but is not worded for users.
    }
  }
  throw new WardenError(
    code,
    'The configured Standard Webhooks secret is not a valid whsec_<base64> key.',
  );
}

/** Unix seconds of the header, if within `tolerance` of `now` either way. */
function checkWindow(header: string, now: Date, tolerance: number): number {
  if (!unixSeconds.test(header)) fail('Malformed webhook-timestamp header: expected unix seconds.');
  const seconds = Number(header);
  const skew = Math.floor(now.getTime() / 1000) - seconds;
  // Written to fail closed: an invalid clock or tolerance (NaN) passes neither test.
  if (!(skew <= tolerance)) {
    fail(
      `webhook-timestamp is too old: ${skew} s behind the server clock (tolerance ${tolerance} s).`,
    );
  }
  if (!(-skew <= tolerance)) {
    fail(
      `webhook-timestamp is too far in the future: ${-skew} s ahead of the server clock (tolerance ${tolerance} s).`,
    );
  }
  return seconds;
}

/** The well-formed `v1` signatures among the first entries of a `webhook-signature` header. */
function v1Signatures(header: string): string[] {
  const v1 = header
    .split(' ', maxStandardWebhookSignatures)
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice('v1,'.length));
  if (v1.length === 0) fail('webhook-signature header has no v1 signature.');
  const wellFormed = v1.filter((value) => base64Digest.test(value));
  if (wellFormed.length === 0) {
    fail('Malformed webhook-signature header: a v1 signature must be 32 bytes in base64.');
  }
  return wellFormed;
}

function requireHeader(headers: VerifyStandardWebhookOptions['headers'], name: string): string {
  const value =
    headers instanceof Headers
      ? headers.get(name)
      : Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  if (value === undefined || value === null || value === '') fail(`Missing ${name} header.`);
  return value;
}

function digestOf(signature: string): Buffer {
  return Buffer.from(signature.slice('v1,'.length), 'base64');
}

function fail(message: string): never {
  throw new WardenError('unauthenticated', message);
}
