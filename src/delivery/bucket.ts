/**
 * Bucket target: `file:///dir` writes `<dir>/<tenant>/<name>` atomically with a `<name>.sha256`
 * sidecar; `s3://bucket/prefix` puts `<prefix>/<tenant>/<name>` on any S3-compatible store.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { assertDeliverable } from './deliverable.js';
import type { BucketTargetSpec, Delivery, DeliveryDeps, DeliveryTarget } from './delivery.js';
import { configFailure, networkFailure, statusFailure, transientFailure } from './failure.js';

/** @example createBucketTarget({ type: 'bucket', url: 'file:///var/warden/out' }, {}) */
export function createBucketTarget(spec: BucketTargetSpec, deps: DeliveryDeps): DeliveryTarget {
  return spec.url.startsWith('file:') ? fileTarget(fileURLToPath(spec.url)) : s3Target(spec, deps);
}

/** fs errors that only a configuration change cures; anything else (ENOSPC, EIO…) is transient. */
const configErrnos = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS']);

function fileTarget(dir: string): DeliveryTarget {
  const target = `bucket ${pathToFileURL(dir).href}`;
  return {
    kind: 'bucket',
    describe: () => target,
    async deliver(d) {
      assertDeliverable(d);
      const tenantDir = join(dir, d.tenant);
      try {
        await mkdir(tenantDir).catch((err: { code?: string }) => {
          if (err.code !== 'EEXIST') throw err;
        });
        await writeAtomically(join(tenantDir, d.name), d.body);
        await writeAtomically(join(tenantDir, `${d.name}.sha256`), `${d.sha256}  ${d.name}\n`);
      } catch (err) {
        const errno = (err as { code?: unknown }).code;
        const code = typeof errno === 'string' ? errno : 'error';
        const what = `cannot write ${d.tenant}/${d.name} (${code}).`;
        if (configErrnos.has(code)) {
          throw configFailure(target, `${what} Check that the directory exists and is writable.`);
        }
        throw transientFailure(target, what);
      }
      return { location: pathToFileURL(join(tenantDir, d.name)).href, bytes: d.body.byteLength };
    },
  };
}

/** Temp file beside the destination, flushed, then renamed: readers see all or nothing. */
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temp = join(path, '..', `.${randomUUID()}.tmp`);
  try {
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

function s3Target(spec: BucketTargetSpec, deps: DeliveryDeps): DeliveryTarget {
  const url = new URL(spec.url);
  const bucket = url.hostname;
  const prefix = url.pathname.replace(/^\/+|\/+$/g, '');
  const target = `bucket s3://${bucket}/${prefix}${spec.endpoint ? ` at ${spec.endpoint}` : ''}`;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  // The SDK is large: loaded on the first S3 delivery, not when the config is parsed.
  let client: Promise<{ s3: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> | undefined;
  const open = () =>
    (client ??= import('@aws-sdk/client-s3').then((sdk) => ({ sdk, s3: newClient(sdk) })));
  const newClient = (sdk: typeof import('@aws-sdk/client-s3')) =>
    new sdk.S3Client({
      region: spec.region ?? 'us-east-1',
      maxAttempts: 1, // one attempt per deliver(): the queue retries
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      ...(spec.forcePathStyle === undefined ? {} : { forcePathStyle: spec.forcePathStyle }),
      ...(spec.accessKeyId && spec.secretAccessKey
        ? {
            credentials: {
              accessKeyId: spec.accessKeyId,
              secretAccessKey: spec.secretAccessKey.reveal(),
            },
          }
        : {}),
    });
  return {
    kind: 'bucket',
    describe: () => target,
    async deliver(d: Delivery, signal?: AbortSignal) {
      assertDeliverable(d);
      const key = [prefix, d.tenant, d.name].filter(Boolean).join('/');
      const { s3, sdk } = await open();
      const command = new sdk.PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: d.body,
        ContentType: d.contentType,
        ChecksumSHA256: Buffer.from(d.sha256, 'hex').toString('base64'),
        Metadata: { ...d.metadata, sha256: d.sha256, 'delivery-id': d.id, kind: d.kind },
      });
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const out = await s3.send(command, {
          abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        const status = out.$metadata.httpStatusCode;
        return {
          location: `s3://${bucket}/${key}`,
          ...(status ? { status } : {}),
          bytes: d.body.byteLength,
        };
      } catch (err) {
        throw s3Failure(target, err, timeout.aborted ? timeoutMs : undefined);
      }
    },
    close: () => {
      void client?.then(({ s3 }) => s3.destroy());
    },
  };
}

/** The store's error code and status only: the SDK error holds the request, so it is not kept. */
function s3Failure(target: string, err: unknown, timeoutMs: number | undefined) {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'CredentialsProviderError') {
    return configFailure(target, 'no S3 credentials: set accessKeyId and secretAccessKey.');
  }
  if (typeof status !== 'number') return networkFailure(target, err, timeoutMs);
  return statusFailure(target, status, typeof e?.name === 'string' ? e.name : '');
}
