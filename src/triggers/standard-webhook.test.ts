import { describe, expect, it } from 'vitest';
import { isWardenError, type WardenError } from '../errors.js';
import {
  maxStandardWebhookSignatures,
  signStandardWebhook,
  verifyStandardWebhook,
} from './standard-webhook.js';

// The known-answer vector from the standardwebhooks library's own tests.
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const ts = 1614265330;
const body = Buffer.from('{"test": 2432232314}');
const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const otherSecret = 'whsec_c2VjcmV0LWZvci1hbm90aGVyLXRlbmFudC0xMjM0';

const at = (seconds: number) => new Date(seconds * 1000);
const headersFor = (signature: string, overrides: Record<string, string | undefined> = {}) => ({
  'webhook-id': id,
  'webhook-timestamp': String(ts),
  'webhook-signature': signature,
  ...overrides,
});

function failure(fn: () => unknown): WardenError {
  try {
    fn();
  } catch (error) {
    if (isWardenError(error)) return error;
    throw error;
  }
  throw new Error('expected the verifier to throw');
}

type Options = Parameters<typeof verifyStandardWebhook>[0];
function rejection(options: Partial<Options>): WardenError {
  const err = failure(() =>
    verifyStandardWebhook({ secret, body, headers: headersFor(expected), now: at(ts), ...options }),
  );
  expect(err.code).toBe('unauthenticated');
  expect(err.status).toBe(401);
  return err;
}

describe('signStandardWebhook', () => {
  it('reproduces the library known-answer vector', () => {
    expect(signStandardWebhook({ secret, id, timestamp: at(ts), body })).toBe(expected);
    expect(signStandardWebhook({ secret, id, timestamp: at(ts), body: body.toString() })).toBe(
      expected,
    );
  });

  it('accepts the secret without its whsec_ prefix', () => {
    const bare = secret.slice('whsec_'.length);
    expect(signStandardWebhook({ secret: bare, id, timestamp: at(ts), body })).toBe(expected);
  });

  it('refuses a body that is not valid UTF-8', () => {
    const err = failure(() =>
      signStandardWebhook({ secret, id, timestamp: at(ts), body: Buffer.from([0x7b, 0xff, 0x7d]) }),
    );
    expect(err.code).toBe('invalid');
  });

  it('reports a secret that is not base64 as a configuration problem', () => {
    const err = failure(() =>
      signStandardWebhook({ secret: 'whsec_not base64!', id, timestamp: at(ts), body }),
    );
    expect(err.code).toBe('config_invalid');
    expect(err.message).not.toContain('not base64!');
  });
});

describe('verifyStandardWebhook', () => {
  it('accepts the known-answer vector and returns its id and timestamp', () => {
    const message = verifyStandardWebhook({
      secret,
      body,
      headers: headersFor(expected),
      now: at(ts),
    });
    expect(message).toEqual({ id, timestamp: at(ts) });
  });

  it('reads headers from a Headers object and from plain objects in any case', () => {
    const headers = new Headers(headersFor(expected));
    expect(verifyStandardWebhook({ secret, body, headers, now: at(ts) }).id).toBe(id);
    const mixed = {
      'Webhook-Id': id,
      'WEBHOOK-TIMESTAMP': String(ts),
      'Webhook-Signature': expected,
    };
    expect(verifyStandardWebhook({ secret, body, headers: mixed, now: at(ts) }).id).toBe(id);
  });

  it('accepts a rotated header whose second signature is the valid one', () => {
    const wrong = signStandardWebhook({ secret: otherSecret, id, timestamp: at(ts), body });
    const headers = headersFor(`${wrong} ${expected}`);
    expect(verifyStandardWebhook({ secret, body, headers, now: at(ts) }).id).toBe(id);
    const reversed = headersFor(`${expected} ${wrong}`);
    expect(verifyStandardWebhook({ secret, body, headers: reversed, now: at(ts) }).id).toBe(id);
  });

  it('ignores signatures of other schemes such as v1a', () => {
    const headers = headersFor(`v1a,${'A'.repeat(86)}== ${expected}`);
    expect(verifyStandardWebhook({ secret, body, headers, now: at(ts) }).id).toBe(id);
  });

  it('looks at no more than the first signatures of a long header', () => {
    const wrong = signStandardWebhook({ secret: otherSecret, id, timestamp: at(ts), body });
    const filler = Array.from({ length: maxStandardWebhookSignatures }, () => wrong);
    const err = rejection({ headers: headersFor([...filler, expected].join(' ')) });
    expect(err.message).toMatch(/^Bad webhook-signature/);
  });

  it('rejects a body with one byte changed', () => {
    const tampered = Buffer.from(body);
    tampered[tampered.length - 2] = 0x35; // ...2314} -> ...2315}
    expect(rejection({ body: tampered }).message).toMatch(/^Bad webhook-signature/);
  });

  it('rejects a signature made with another secret', () => {
    const err = rejection({ secret: otherSecret });
    expect(err.message).toBe(
      'Bad webhook-signature: no v1 signature matches the message and the configured secret.',
    );
  });

  it('rejects a signature whose id or timestamp was changed', () => {
    expect(
      rejection({ headers: headersFor(expected, { 'webhook-id': 'msg_other' }) }).message,
    ).toMatch(/^Bad webhook-signature/);
    const later = headersFor(expected, { 'webhook-timestamp': String(ts + 1) });
    expect(rejection({ headers: later }).message).toMatch(/^Bad webhook-signature/);
  });

  it('keeps bodies apart that differ only in invalid UTF-8 bytes', () => {
    // The library signs body.toString(), where 0xfe and 0xff both become U+FFFD.
    const signed = Buffer.from([0x7b, 0xfe, 0x7d]);
    const signature = signStandardWebhook({
      secret,
      id,
      timestamp: at(ts),
      body: signed.toString(),
    });
    const err = rejection({
      body: Buffer.from([0x7b, 0xff, 0x7d]),
      headers: headersFor(signature),
    });
    expect(err.message).toMatch(/not valid UTF-8/);
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'rejects a request without %s, naming the header',
    (name) => {
      expect(rejection({ headers: headersFor(expected, { [name]: undefined }) }).message).toBe(
        `Missing ${name} header.`,
      );
      const headers = new Headers(headersFor(expected));
      headers.delete(name);
      expect(rejection({ headers }).message).toBe(`Missing ${name} header.`);
    },
  );

  it.each(['', 'abc', '1614265330abc', '1614265330.0', '-1614265330'])(
    'rejects a malformed webhook-timestamp (%j)',
    (value) => {
      const headers = headersFor(expected, { 'webhook-timestamp': value });
      const err = rejection({ headers });
      expect(err.message).toMatch(
        value === '' ? /^Missing webhook-timestamp/ : /^Malformed webhook-timestamp/,
      );
    },
  );

  it('rejects a signature header with no v1 entry', () => {
    const err = rejection({ headers: headersFor(expected.replace('v1,', 'v2,')) });
    expect(err.message).toBe('webhook-signature header has no v1 signature.');
  });

  it.each([
    ['unversioned', expected.slice(3), /^webhook-signature header has no v1 signature/],
    ['truncated', expected.slice(0, -2), /^Malformed webhook-signature/],
    ['hex', `v1,${Buffer.from(expected.slice(3), 'base64').toString('hex')}`, /^Malformed/],
    [
      'url-safe base64',
      `v1,${Buffer.from(expected.slice(3), 'base64').toString('base64url')}`,
      /^Malformed/,
    ],
  ])('rejects a malformed signature (%s)', (_, signature, message) => {
    expect(rejection({ headers: headersFor(signature) }).message).toMatch(message);
  });

  it('accepts a timestamp exactly at the tolerance, in the past and in the future', () => {
    for (const now of [at(ts + 300), at(ts - 300)]) {
      expect(verifyStandardWebhook({ secret, body, headers: headersFor(expected), now }).id).toBe(
        id,
      );
    }
  });

  it('rejects a timestamp one second older than the tolerance', () => {
    expect(rejection({ now: at(ts + 301) }).message).toMatch(/too old: 301 s/);
  });

  it('rejects a timestamp one second further in the future than the tolerance', () => {
    expect(rejection({ now: at(ts - 301) }).message).toMatch(/too far in the future: 301 s/);
  });

  it('fails closed when the clock or the tolerance is not a number', () => {
    expect(rejection({ now: new Date(Number.NaN) }).message).toMatch(/^webhook-timestamp is too/);
    expect(rejection({ toleranceSeconds: Number.NaN }).message).toMatch(
      /^webhook-timestamp is too/,
    );
  });

  it('honours a tolerance wider than the library default of 300 s', () => {
    const options = { secret, body, headers: headersFor(expected), toleranceSeconds: 600 };
    expect(verifyStandardWebhook({ ...options, now: at(ts + 600) }).id).toBe(id);
    expect(rejection({ ...options, now: at(ts + 601) }).message).toMatch(/too old/);
  });

  it.each([
    ['empty', 'whsec_'],
    ['not base64', 'whsec_not base64!'],
    ['a stray last character the library would ignore', `${secret}x`],
  ])('rejects everything when the configured secret is %s', (_, bad) => {
    const err = rejection({ secret: bad, headers: headersFor(expected) });
    expect(err.message).toBe(
      'The configured Standard Webhooks secret is not a valid whsec_<base64> key.',
    );
  });

  it('accepts a secret whose base64 padding is left off', () => {
    const padded = 'whsec_c2VjcmV0LWtleS1mb3ItcGFkZGluZy10ZXN0cy0hIQ==';
    const unpadded = padded.replace(/=+$/, '');
    const signature = signStandardWebhook({ secret: padded, id, timestamp: at(ts), body });
    const headers = headersFor(signature);
    expect(verifyStandardWebhook({ secret: unpadded, body, headers, now: at(ts) }).id).toBe(id);
  });

  it('never puts the secret or the expected signature in its messages', () => {
    const key = secret.slice('whsec_'.length);
    const messages = [
      rejection({ headers: headersFor(expected, { 'webhook-id': undefined }) }),
      rejection({ headers: headersFor('v1,zz') }),
      rejection({ secret: otherSecret }),
      rejection({ body: Buffer.from('{}') }),
      rejection({ now: at(ts + 9999) }),
      rejection({ secret: `${secret}!` }),
    ].map((err) => err.message);
    for (const message of messages) {
      expect(message).not.toContain(key);
      expect(message).not.toContain(expected.slice(3));
    }
  });
});
