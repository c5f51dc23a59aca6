import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isWardenError, type WardenError } from '../errors.js';
import { verifyGrafanaSignature } from './grafana-signature.js';

const secret = 'grafana-hmac-secret-7f3a';
const body = Buffer.from(
  '{"receiver":"warden","status":"firing","orgId":1,"title":"[FIRING:1] Lag"}',
);
const ts = '1767225600'; // 2026-01-01T00:00:00Z
const at = (seconds: number) => new Date(seconds * 1000);
const sign = (content: string | Buffer, key = secret) =>
  createHmac('sha256', key).update(content).digest('hex');
const plain = sign(body);
const stamped = sign(Buffer.concat([Buffer.from(`${ts}:`), body]));

function failure(fn: () => unknown): WardenError {
  try {
    fn();
  } catch (error) {
    if (isWardenError(error)) return error;
    throw error;
  }
  throw new Error('expected the verifier to throw');
}

function rejection(options: Partial<Parameters<typeof verifyGrafanaSignature>[0]>): WardenError {
  const err = failure(() => verifyGrafanaSignature({ secret, body, signature: plain, ...options }));
  expect(err.code).toBe('unauthenticated');
  expect(err.status).toBe(401);
  return err;
}

describe('verifyGrafanaSignature', () => {
  it('accepts the signature openssl computes for the plain form', () => {
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret, '-r'], {
      input: body,
    })
      .toString()
      .split(' ')[0];
    expect(openssl).toMatch(/^[0-9a-f]{64}$/);
    expect(() => verifyGrafanaSignature({ secret, body, signature: openssl })).not.toThrow();
  });

  it('accepts the signature openssl computes over timestamp:body when a timestamp is sent', () => {
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret, '-r'], {
      input: Buffer.concat([Buffer.from(`${ts}:`), body]),
    })
      .toString()
      .split(' ')[0];
    expect(openssl).toBe(stamped);
    const result = () =>
      verifyGrafanaSignature({ secret, body, signature: openssl, timestamp: ts, now: at(+ts) });
    expect(result).not.toThrow();
  });

  it('accepts upper-case hex', () => {
    expect(() =>
      verifyGrafanaSignature({ secret, body, signature: plain.toUpperCase() }),
    ).not.toThrow();
  });

  it('rejects a body with one byte changed', () => {
    const tampered = Buffer.from(body);
    tampered[10] = (tampered[10] ?? 0) ^ 0x01;
    expect(rejection({ body: tampered }).message).toMatch(/^Bad X-Grafana-Alerting-Signature/);
  });

  it('rejects a signature made with another secret', () => {
    const err = rejection({ signature: sign(body, 'another-secret') });
    expect(err.message).toMatch(/does not match/);
  });

  it('rejects a plain-form signature when a timestamp header is present', () => {
    const err = rejection({ signature: plain, timestamp: ts, now: at(+ts) });
    expect(err.message).toMatch(/^Bad X-Grafana-Alerting-Signature/);
  });

  it('rejects a signature for another timestamp', () => {
    const other = String(+ts + 1);
    const err = rejection({ signature: stamped, timestamp: other, now: at(+ts) });
    expect(err.message).toMatch(/^Bad X-Grafana-Alerting-Signature/);
  });

  it.each([undefined, ''])('rejects a missing signature header (%j)', (signature) => {
    expect(rejection({ signature }).message).toBe('Missing X-Grafana-Alerting-Signature header.');
  });

  it.each([
    ['one character short', plain.slice(1)],
    ['one character long', `${plain}0`],
    ['non-hex', `${plain.slice(1)}g`],
    ['prefixed', `sha256=${plain}`],
  ])('rejects a malformed signature header (%s)', (_, signature) => {
    expect(rejection({ signature }).message).toMatch(/^Malformed X-Grafana-Alerting-Signature/);
  });

  it('rejects an empty timestamp as missing rather than falling back to the plain form', () => {
    const err = rejection({ signature: plain, timestamp: '', now: at(+ts) });
    expect(err.message).toBe('Missing Grafana timestamp header.');
  });

  it.each(['abc', '1767225600.5', '-1767225600', ' 1767225600'])(
    'rejects a malformed timestamp (%j)',
    (timestamp) => {
      const err = rejection({ signature: stamped, timestamp, now: at(+ts) });
      expect(err.message).toMatch(/^Malformed Grafana timestamp/);
    },
  );

  it('accepts a timestamp exactly at the tolerance, in the past and in the future', () => {
    for (const now of [at(+ts + 300), at(+ts - 300)]) {
      expect(() =>
        verifyGrafanaSignature({ secret, body, signature: stamped, timestamp: ts, now }),
      ).not.toThrow();
    }
  });

  it('rejects a timestamp one second older than the tolerance', () => {
    const err = rejection({ signature: stamped, timestamp: ts, now: at(+ts + 301) });
    expect(err.message).toMatch(/too old: 301 s/);
  });

  it('rejects a timestamp one second further in the future than the tolerance', () => {
    const err = rejection({ signature: stamped, timestamp: ts, now: at(+ts - 301) });
    expect(err.message).toMatch(/too far in the future: 301 s/);
  });

  it('fails closed when the clock or the tolerance is not a number', () => {
    expect(rejection({ signature: stamped, timestamp: ts, now: new Date(Number.NaN) }).code).toBe(
      'unauthenticated',
    );
    const options = {
      signature: stamped,
      timestamp: ts,
      now: at(+ts),
      toleranceSeconds: Number.NaN,
    };
    expect(rejection(options).message).toMatch(/too old/);
  });

  it('honours a custom tolerance', () => {
    const options = { secret, body, signature: stamped, timestamp: ts, toleranceSeconds: 30 };
    expect(() => verifyGrafanaSignature({ ...options, now: at(+ts + 30) })).not.toThrow();
    expect(rejection({ ...options, now: at(+ts + 31) }).message).toMatch(/too old/);
  });

  it('rejects everything when the configured secret is empty', () => {
    const err = rejection({ secret: '', signature: sign(body, '') });
    expect(err.message).toMatch(/No Grafana signing secret/);
  });

  it('never puts the secret or the expected signature in its messages', () => {
    const messages = [
      rejection({ signature: undefined }),
      rejection({ signature: 'zz' }),
      rejection({ signature: sign(body, 'x') }),
      rejection({ body: Buffer.from('{}') }),
      rejection({ signature: stamped, timestamp: 'x', now: at(+ts) }),
      rejection({ signature: stamped, timestamp: ts, now: at(+ts + 999) }),
      rejection({ signature: plain, timestamp: ts, now: at(+ts) }),
    ].map((err) => err.message);
    for (const message of messages) {
      expect(message).not.toContain(secret);
      expect(message.toLowerCase()).not.toContain(plain);
      expect(message.toLowerCase()).not.toContain(stamped);
    }
  });
});
