/**
 * A local S3-compatible store (s3rver) on 127.0.0.1 and an ephemeral port, reached with the real
 * AWS SDK: SigV4 is checked against the fixed key pair S3RVER / S3RVER.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface StoredObject {
  body: Uint8Array;
  contentType: string | undefined;
  metadata: Record<string, string>;
}

export interface FakeS3 {
  /** e.g. `http://127.0.0.1:41234`; use with `forcePathStyle: true`. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The object under `key`, read back over S3, or undefined. */
  getObject(bucket: string, key: string): Promise<StoredObject | undefined>;
  /** Every key in the bucket. */
  listKeys(bucket: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * @example
 * const s3 = await startFakeS3(['reports']);
 * // spec: { type: 'bucket', url: 's3://reports/weekly', endpoint: s3.endpoint, forcePathStyle: true,
 * //         accessKeyId: s3.accessKeyId, secretAccessKey: new Secret(s3.secretAccessKey, 'literal') }
 */
export async function startFakeS3(buckets: string[] = ['reports']): Promise<FakeS3> {
  const directory = await mkdtemp(join(tmpdir(), 'warden-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    endpoint,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async getObject(bucket, key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const body = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
        return { body, contentType: out.ContentType, metadata: out.Metadata ?? {} };
      } catch (err) {
        if (err instanceof NoSuchKey) return undefined;
        throw err;
      }
    },
    async listKeys(bucket) {
      const out = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
