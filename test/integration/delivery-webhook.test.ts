/**
 * The webhook target against a real Standard Webhooks receiver: what the signature covers, the
 * stable webhook-id across attempts, and how each kind of answer is classified.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256Of } from '../../src/delivery/deliverable.js';
import type { Delivery, DeliveryDeps } from '../../src/delivery/delivery.js';
import { createWebhookTarget } from '../../src/delivery/webhook.js';
import { isWardenError, type WardenError } from '../../src/errors.js';
import { Secret } from '../../src/secret.js';
import { type FakeWebhookReceiver, startWebhookReceiver } from '../fakes/webhook-receiver.js';

let receiver: FakeWebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());
beforeEach(() => {
  receiver.attempts.length = 0;
});

const target = (deps: DeliveryDeps = {}) =>
  createWebhookTarget(
    { type: 'webhook', url: receiver.url, secret: new Secret(receiver.secret, 'literal') },
    deps,
  );

function artifact(kind = 'report'): Delivery {
  const body = new TextEncoder().encode(`checkpoint ${randomBytes(8).toString('hex')}\n`);
  const id = `dlv_${randomBytes(8).toString('hex')}`;
  return {
    id,
    tenant: 'acme',
    kind,
    name: 'c.txt',
    contentType: 'text/plain',
    body,
    sha256: sha256Of(body),
  };
}

async function failure(promise: Promise<unknown>): Promise<WardenError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isWardenError(err)) throw new Error(`expected a WardenError, got ${inspect(err)}`);
  return err;
}

describe('webhook delivery target', () => {
  it('signs the body: the receiver rejects a tampered body or id but accepts a replay', async () => {
    await target().deliver(artifact());
    const sent = receiver.attempts[0];
    if (!sent) throw new Error('nothing arrived');
    const tampered = sent.raw.replace(/"size":(\d+)/, (_, n: string) => `"size":${Number(n) + 1}`);
    expect(tampered).not.toBe(sent.raw);
    expect(await receiver.post(tampered, sent.headers)).toBe(401);
    expect(await receiver.post(sent.raw, { ...sent.headers, 'webhook-id': 'dlv_other' })).toBe(401);
    expect(await receiver.post(sent.raw, sent.headers)).toBe(204);
  });

  it('sends the same webhook-id on a retry, freshly signed, and is processed once', async () => {
    let clock = new Date();
    const hook = target({ now: () => clock });
    const d = artifact();
    receiver.behave({ status: 503 });
    const err = await failure(hook.deliver(d));
    expect(err).toMatchObject({
      code: 'delivery_failed',
      retryable: true,
      details: { status: 503 },
    });
    clock = new Date(clock.getTime() + 60_000);
    expect(await hook.deliver(d)).toMatchObject({ status: 204, location: receiver.url });
    const [first, second] = receiver.attempts;
    expect([first?.headers['webhook-id'], second?.headers['webhook-id']]).toEqual([d.id, d.id]);
    expect(second?.headers['webhook-timestamp']).not.toBe(first?.headers['webhook-timestamp']);
    expect(receiver.attempts.map((a) => a.verified)).toEqual([true, true]);
    expect(receiver.processed.has(d.id)).toBe(true);
  });

  it('names the event after the kind and carries the artifact in base64', async () => {
    const d = artifact('checkpoint');
    await target().deliver(d);
    expect(receiver.processed.get(d.id)).toMatchObject({
      type: 'checkpoint.published',
      data: { id: d.id, tenant: 'acme', name: 'c.txt', size: d.body.byteLength, sha256: d.sha256 },
    });
  });

  it.each([
    [400, 'config_invalid'],
    [404, 'config_invalid'],
    [410, 'config_invalid'],
    [413, 'payload_too_large'],
    [302, 'config_invalid'],
  ])('treats HTTP %i as permanent (%s)', async (status, code) => {
    receiver.behave({ status, headers: { location: 'http://127.0.0.1:9/elsewhere' } });
    const err = await failure(target().deliver(artifact()));
    expect(err).toMatchObject({ code, retryable: false, details: { status } });
    expect(receiver.attempts).toHaveLength(1); // a redirect is not followed
  });

  it('says a 410 endpoint is gone for good', async () => {
    receiver.behave({ status: 410 });
    const err = await failure(target().deliver(artifact()));
    expect(err.message).toMatch(/HTTP 410 .*gone; remove this target/);
  });

  it('passes a 429 Retry-After to the queue as a retryable rate limit', async () => {
    receiver.behave({ status: 429, headers: { 'retry-after': '30' } });
    const err = await failure(target().deliver(artifact()));
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(err.details).toMatchObject({ status: 429, retryAfterSeconds: 30 });
  });

  it('gives up after the timeout, retryably, when the receiver does not answer', async () => {
    receiver.behave({ hang: true });
    const err = await failure(target({ timeoutMs: 200 }).deliver(artifact()));
    expect(err).toMatchObject({ code: 'delivery_failed', retryable: true });
    expect(err.message).toContain('no answer within 0.2 s');
  });

  it('stops when the caller aborts', async () => {
    receiver.behave({ hang: true });
    const err = await failure(target().deliver(artifact(), AbortSignal.timeout(100)));
    expect(err).toMatchObject({ retryable: true });
    expect(err.message).toContain('aborted');
  });
});
