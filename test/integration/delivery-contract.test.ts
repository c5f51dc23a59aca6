/**
 * The delivery port's contract, run against every adapter over real I/O: a file bucket in a temp
 * dir, S3 (s3rver + the AWS SDK), and a Standard Webhooks receiver that verifies each request.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Of } from '../../src/delivery/deliverable.js';
import {
  createDeliveryTarget,
  type Delivery,
  type DeliveryTarget,
  type DeliveryTargetSpec,
} from '../../src/delivery/delivery.js';
import { isWardenError, type WardenError } from '../../src/errors.js';
import { Secret } from '../../src/secret.js';
import { type FakeS3, startFakeS3 } from '../fakes/s3.js';
import { type FakeWebhookReceiver, startWebhookReceiver } from '../fakes/webhook-receiver.js';

/** One adapter under test: a target, what its destination holds, and ways to break it. */
interface Fixture {
  target: DeliveryTarget;
  /** The bytes the destination holds for `d`, and the SHA-256 it recorded beside them. */
  stored(d: Delivery): Promise<{ bytes: Uint8Array; sha256: string } | undefined>;
  /** How many copies of `d` the destination holds (or processed). */
  copies(d: Delivery): Promise<number>;
  /** A target whose destination is not answering; null where there is no such state. */
  down: (() => Promise<DeliveryTarget>) | null;
  /** A wrongly configured target, and the secret it carries (which must never show). */
  misconfigured(): { target: DeliveryTarget; secret: string };
  close(): Promise<void>;
}

const spec = (s: DeliveryTargetSpec) => createDeliveryTarget(s, { timeoutMs: 5_000 });
const leaked = `whsec_${randomBytes(32).toString('base64')}`;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function fileFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-bucket-'));
  const path = (d: Delivery) => join(dir, d.tenant, d.name);
  return {
    target: spec({ type: 'bucket', url: pathToFileURL(dir).href }),
    async stored(d) {
      const bytes = await readFile(path(d)).catch(() => undefined);
      const sidecar = await readFile(`${path(d)}.sha256`, 'utf8').catch(() => '');
      return bytes && { bytes: new Uint8Array(bytes), sha256: sidecar.split(' ')[0] ?? '' };
    },
    copies: async (d) => (await readdir(join(dir, d.tenant))).filter((f) => f === d.name).length,
    down: null, // a local disk has no "down" that a test can cause (ENOSPC, EIO)
    misconfigured: () => ({
      target: spec({ type: 'bucket', url: pathToFileURL(join(dir, 'missing', 'dir')).href }),
      secret: leaked,
    }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function s3Fixture(): Promise<Fixture> {
  const s3: FakeS3 = await startFakeS3(['reports']);
  const s3Spec = (endpoint: string, key: string, secret: string) =>
    spec({
      type: 'bucket',
      url: 's3://reports/weekly',
      endpoint,
      forcePathStyle: true,
      accessKeyId: key,
      secretAccessKey: new Secret(secret, 'literal'),
    });
  const target = s3Spec(s3.endpoint, s3.accessKeyId, s3.secretAccessKey);
  const key = (d: Delivery) => `weekly/${d.tenant}/${d.name}`;
  return {
    target,
    async stored(d) {
      const object = await s3.getObject('reports', key(d));
      return object && { bytes: object.body, sha256: object.metadata.sha256 ?? '' };
    },
    copies: async (d) => (await s3.listKeys('reports')).filter((k) => k === key(d)).length,
    down: async () => s3Spec(`http://127.0.0.1:${await closedPort()}`, 'S3RVER', 'S3RVER'),
    misconfigured: () => ({ target: s3Spec(s3.endpoint, 'WRONGKEY', leaked), secret: leaked }),
    async close() {
      target.close?.();
      await s3.close();
    },
  };
}

async function webhookFixture(): Promise<Fixture> {
  const receiver: FakeWebhookReceiver = await startWebhookReceiver();
  const hook = (url: string, secret: string) =>
    spec({ type: 'webhook', url, secret: new Secret(secret, 'literal') });
  const event = (d: Delivery) =>
    receiver.processed.get(d.id) as { data: { content: string; sha256: string } } | undefined;
  return {
    target: hook(receiver.url, receiver.secret),
    async stored(d) {
      const e = event(d);
      return e && { bytes: Buffer.from(e.data.content, 'base64'), sha256: e.data.sha256 };
    },
    copies: async (d) => (receiver.processed.has(d.id) ? 1 : 0),
    down: async () => hook(`http://127.0.0.1:${await closedPort()}/hooks`, receiver.secret),
    // A secret that is not the receiver's: it answers 401.
    misconfigured: () => ({ target: hook(receiver.url, leaked), secret: leaked }),
    close: () => receiver.close(),
  };
}

function artifact(name: string, size = 4096): Delivery {
  const body = new Uint8Array(randomBytes(size));
  return {
    id: `dlv_${randomBytes(8).toString('hex')}`,
    tenant: 'acme',
    kind: 'report',
    name,
    contentType: 'application/pdf',
    body,
    sha256: sha256Of(body),
    metadata: { week: '2026-W47' },
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

describe.each([
  { adapter: 'file bucket', start: fileFixture, canBeDown: false },
  { adapter: 's3 bucket', start: s3Fixture, canBeDown: true },
  { adapter: 'webhook', start: webhookFixture, canBeDown: true },
])('DeliveryTarget contract: $adapter', ({ start, canBeDown }) => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await start();
  });
  afterAll(() => fx.close());

  it('delivers exactly the bytes, with the matching sha256 beside them', async () => {
    const d = artifact('acme-2026-W47.pdf');
    const result = await fx.target.deliver(d);
    const stored = await fx.stored(d);
    expect(Buffer.from(stored?.bytes ?? []).equals(Buffer.from(d.body))).toBe(true);
    expect(stored?.sha256).toBe(d.sha256);
    expect(result.bytes).toBe(d.body.byteLength);
    expect(URL.canParse(result.location)).toBe(true);
  });

  it('holds one copy when the same delivery id is delivered twice', async () => {
    const d = artifact('acme-2026-W48.pdf');
    const first = await fx.target.deliver(d);
    const second = await fx.target.deliver(d);
    expect(second.location).toBe(first.location);
    expect(await fx.copies(d)).toBe(1);
    expect(sha256Of((await fx.stored(d))?.bytes ?? new Uint8Array())).toBe(d.sha256);
  });

  it('refuses a name that could escape the tenant, before writing anything', async () => {
    const d = { ...artifact('x.pdf'), name: '../escape.pdf' };
    const err = await failure(fx.target.deliver(d));
    expect(err).toMatchObject({ code: 'invalid', retryable: false });
    expect(await fx.stored(d)).toBeUndefined();
  });

  it.skipIf(!canBeDown)('throws a retryable error when the destination is down', async () => {
    const down = await (fx.down as () => Promise<DeliveryTarget>)();
    const err = await failure(down.deliver(artifact('acme-down.pdf')));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(down.describe());
    down.close?.();
  });

  it('throws a non-retryable error, naming the target but no secret, when misconfigured', async () => {
    const { target, secret } = fx.misconfigured();
    const err = await failure(target.deliver(artifact('acme-misconfigured.pdf')));
    expect(err).toMatchObject({ code: 'config_invalid', retryable: false });
    expect(err.message).toContain(target.describe());
    for (const shown of [err.message, JSON.stringify(err), inspect(err), target.describe()]) {
      expect(shown).not.toContain(secret);
    }
    target.close?.();
  });
});
