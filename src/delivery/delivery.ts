/**
 * Delivery port: an artifact (a Trust Report PDF, a signed checkpoint) and the targets that carry
 * it to a tenant's destination — a bucket (`file://`, `s3://`) or a Standard Webhooks endpoint.
 * Adapters make one attempt; retries belong to the queue, which reads `code` and `retryable`.
 */
import { z } from 'zod';
import { Secret } from '../secret.js';
import { createBucketTarget } from './bucket.js';
import { createWebhookTarget } from './webhook.js';

/** One logical delivery. */
export interface Delivery {
  /** Stable per logical delivery and reused on every retry: receivers de-duplicate on it. */
  id: string;
  tenant: string;
  /** e.g. `report`, `checkpoint`. */
  kind: string;
  /** A plain file name, e.g. `acme-2026-W47.pdf`. */
  name: string;
  contentType: string;
  body: Uint8Array;
  /** Hex SHA-256 of `body`; adapters refuse a delivery whose body does not match it. */
  sha256: string;
  metadata?: Record<string, string>;
}

export interface DeliveryResult {
  /** Where it landed (`file:///…`, `s3://bucket/key`, the webhook URL without its query). */
  location: string;
  /** The destination's HTTP status, when there is one. */
  status?: number;
  bytes: number;
}

export interface DeliveryTarget {
  readonly kind: 'bucket' | 'webhook';
  /** For logs and messages: where it delivers, never a secret. */
  describe(): string;
  /** One attempt. Throws a WardenError whose `retryable` says whether trying again can help. */
  deliver(d: Delivery, signal?: AbortSignal): Promise<DeliveryResult>;
  /** Releases connections (the S3 client's sockets), if the adapter holds any. */
  close?(): void;
}

export interface DeliveryDeps {
  /** @defaultValue `() => new Date()` */
  now?: () => Date;
  /** Per attempt, for network targets. @defaultValue 10_000 */
  timeoutMs?: number;
  /** Where an egress policy can hook in. @defaultValue `globalThis.fetch` */
  fetch?: typeof globalThis.fetch;
}

/** `whsec_` + base64 of 24–64 bytes (the prefix is optional), as Standard Webhooks specifies. */
function isWebhookSecret(s: Secret): boolean {
  const b64 = s.reveal().replace(/^whsec_/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return s.reveal() === ''; // '' = env var missing
  const bytes = Buffer.from(b64, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

const loopback = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The URL, or null when `raw` does not parse. */
function parseUrl(raw: string): URL | null {
  return URL.canParse(raw) ? new URL(raw) : null;
}

function isBucketUrl(raw: string): boolean {
  const url = parseUrl(raw);
  if (url?.protocol === 'file:') return url.host === '' && !url.search && !url.hash;
  return url?.protocol === 's3:' && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(url.hostname);
}

function isWebhookUrl(raw: string): boolean {
  const url = parseUrl(raw);
  if (!url || url.username || url.password || url.hash) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopback.has(url.hostname));
}

/**
 * The target spec schema, with secret fields parsed by `secret` (e.g. config-tenant's `env:NAME`
 * resolver). {@link deliveryTargetSchema} takes secrets already resolved.
 * @example
 * const targets = z.record(z.string(), createDeliveryTargetSchema(secret(ctx)));
 */
export function createDeliveryTargetSchema<S extends z.ZodType<Secret>>(secret: S) {
  const bucket = z
    .strictObject({
      type: z.literal('bucket'),
      url: z.string().refine(isBucketUrl, {
        message: 'expected file:///absolute/dir or s3://bucket/prefix',
      }),
      endpoint: z.url({ protocol: /^https?$/ }).optional(),
      /** @defaultValue 'us-east-1' */
      region: z.string().min(1).max(64).optional(),
      accessKeyId: z.string().min(1).max(256).optional(),
      secretAccessKey: secret.optional(),
      forcePathStyle: z.boolean().optional(),
    })
    .refine((b) => (b.accessKeyId === undefined) === (b.secretAccessKey === undefined), {
      message: 'set accessKeyId and secretAccessKey together, or neither (the SDK default chain)',
      path: ['secretAccessKey'],
    });
  const webhook = z.strictObject({
    type: z.literal('webhook'),
    url: z.string().refine(isWebhookUrl, {
      message: 'expected an https:// URL without credentials (http:// only on loopback)',
    }),
    secret: secret.refine(isWebhookSecret, {
      message: 'not a Standard Webhooks secret. Fix: use whsec_ + 24–64 random bytes in base64',
    }),
  });
  return z.discriminatedUnion('type', [bucket, webhook]);
}

/** Delivery target specs whose secrets are already `Secret`s. */
export const deliveryTargetSchema = createDeliveryTargetSchema(z.instanceof(Secret));

export type DeliveryTargetSpec = z.output<typeof deliveryTargetSchema>;
export type BucketTargetSpec = Extract<DeliveryTargetSpec, { type: 'bucket' }>;
export type WebhookTargetSpec = Extract<DeliveryTargetSpec, { type: 'webhook' }>;

/**
 * The adapter for a parsed spec.
 * @example
 * const target = createDeliveryTarget(deliveryTargetSchema.parse(spec), {});
 * const { location } = await target.deliver(report, signal);
 */
export function createDeliveryTarget(
  spec: DeliveryTargetSpec,
  deps: DeliveryDeps = {},
): DeliveryTarget {
  return spec.type === 'bucket' ? createBucketTarget(spec, deps) : createWebhookTarget(spec, deps);
}
