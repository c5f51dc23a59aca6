import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isWardenError, type WardenError } from '../errors.js';
import { maxPagerDutySignatures, verifyPagerDutySignature } from './pagerduty-signature.js';

const secret = 'pd-webhook-secret-Qm9vc3Q';
const body = Buffer.from(
  '{"event":{"id":"01DEN4HPBQAVWVCJ9DD5RK3WSB","event_type":"incident.triggered","resource_type":"incident"}}',
);
const sign = (content: Buffer, key = secret) =>
  createHmac('sha256', key).update(content).digest('hex');
const good = sign(body);
const stale = sign(body, 'the-previous-secret');

function failure(fn: () => unknown): WardenError {
  try {
    fn();
  } catch (error) {
    if (isWardenError(error)) return error;
    throw error;
  }
  throw new Error('expected the verifier to throw');
}

function rejection(options: Partial<Parameters<typeof verifyPagerDutySignature>[0]>): WardenError {
  const err = failure(() =>
    verifyPagerDutySignature({ secret, body, header: `v1=${good}`, ...options }),
  );
  expect(err.code).toBe('unauthenticated');
  expect(err.status).toBe(401);
  return err;
}

const accepts = (header: string) => () => verifyPagerDutySignature({ secret, body, header });

describe('verifyPagerDutySignature', () => {
  it('accepts the signature openssl computes', () => {
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret, '-r'], {
      input: body,
    })
      .toString()
      .split(' ')[0];
    expect(openssl).toMatch(/^[0-9a-f]{64}$/);
    expect(accepts(`v1=${openssl}`)).not.toThrow();
  });

  it('accepts a rotated header whose second signature is the valid one', () => {
    expect(accepts(`v1=${stale},v1=${good}`)).not.toThrow();
    expect(accepts(`v1=${stale}, v1=${good}`)).not.toThrow();
    expect(accepts(`v1=${good},v1=${stale}`)).not.toThrow();
  });

  it('accepts upper-case hex', () => {
    expect(accepts(`v1=${good.toUpperCase()}`)).not.toThrow();
  });

  it('ignores entries of unknown versions', () => {
    expect(accepts(`v2=${'f'.repeat(64)},v1=${good}`)).not.toThrow();
    expect(accepts(`v1=not-hex,v1=${good}`)).not.toThrow();
  });

  it('rejects a header with no v1 entry', () => {
    const err = rejection({ header: `v2=${good}` });
    expect(err.message).toBe('X-PagerDuty-Signature header has no v1 signature.');
    expect(rejection({ header: good }).message).toMatch(/no v1 signature/);
  });

  it('looks at no more than the first entries of a long header', () => {
    const filler = Array.from({ length: maxPagerDutySignatures - 1 }, () => `v1=${stale}`);
    expect(accepts([...filler, `v1=${good}`].join(','))).not.toThrow();
    const err = rejection({ header: [...filler, `v1=${stale}`, `v1=${good}`].join(',') });
    expect(err.message).toMatch(/^Bad X-PagerDuty-Signature/);
  });

  it('rejects a body with one byte changed', () => {
    const tampered = Buffer.from(body);
    tampered[tampered.length - 3] = (tampered[tampered.length - 3] ?? 0) ^ 0x20;
    expect(rejection({ body: tampered }).message).toMatch(/^Bad X-PagerDuty-Signature/);
  });

  it('rejects a signature made with another secret', () => {
    const err = rejection({ header: `v1=${stale}` });
    expect(err.message).toBe(
      'Bad X-PagerDuty-Signature: no v1 signature matches the body and the configured secret.',
    );
  });

  it.each([undefined, '', '  '])('rejects a missing header (%j)', (header) => {
    expect(rejection({ header }).message).toBe('Missing X-PagerDuty-Signature header.');
  });

  it.each([
    ['short', `v1=${good.slice(2)}`],
    ['non-hex', `v1=${good.slice(1)}x`],
    ['empty', 'v1='],
    ['base64', `v1=${Buffer.from(good, 'hex').toString('base64')}`],
  ])('rejects a malformed v1 signature (%s)', (_, header) => {
    expect(rejection({ header }).message).toMatch(/^Malformed X-PagerDuty-Signature/);
  });

  it('rejects everything when the configured secret is empty', () => {
    const err = rejection({ secret: '', header: `v1=${sign(body, '')}` });
    expect(err.message).toMatch(/No PagerDuty signing secret/);
  });

  it('never puts the secret or the expected signature in its messages', () => {
    const messages = [
      rejection({ header: undefined }),
      rejection({ header: 'v1=zz' }),
      rejection({ header: 'v0=zz' }),
      rejection({ header: `v1=${stale}` }),
      rejection({ body: Buffer.from('{}') }),
    ].map((err) => err.message);
    for (const message of messages) {
      expect(message).not.toContain(secret);
      expect(message.toLowerCase()).not.toContain(good);
    }
  });
});
