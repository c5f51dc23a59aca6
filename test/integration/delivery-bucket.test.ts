/**
 * The bucket target beyond the shared contract: the file layout (sidecar, no temp files left) and
 * what lands in S3 (key, content type, sha256 metadata), plus an S3 bucket that does not exist.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucketTarget } from '../../src/delivery/bucket.js';
import { sha256Of } from '../../src/delivery/deliverable.js';
import type { Delivery } from '../../src/delivery/delivery.js';
import { Secret } from '../../src/secret.js';
import { type FakeS3, startFakeS3 } from '../fakes/s3.js';

const body = new TextEncoder().encode('%PDF-1.7 weekly trust report\n');
const report: Delivery = {
  id: 'dlv_1',
  tenant: 'acme',
  kind: 'report',
  name: 'acme-2026-W47.pdf',
  contentType: 'application/pdf',
  body,
  sha256: sha256Of(body),
  metadata: { week: '2026-W47' },
};

describe('file bucket target', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-bucket-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes <dir>/<tenant>/<name> and a sidecar that sha256sum -c accepts, no temp files', async () => {
    const target = createBucketTarget({ type: 'bucket', url: pathToFileURL(dir).href }, {});
    const result = await target.deliver(report);
    const tenantDir = join(dir, 'acme');
    expect(result.location).toBe(pathToFileURL(join(tenantDir, report.name)).href);
    expect(await readdir(tenantDir)).toEqual([report.name, `${report.name}.sha256`].sort());
    expect(await readFile(join(tenantDir, `${report.name}.sha256`), 'utf8')).toBe(
      `${report.sha256}  ${report.name}\n`,
    );
    const check = await promisify(execFile)('sha256sum', ['-c', `${report.name}.sha256`], {
      cwd: tenantDir,
    });
    expect(check.stdout).toBe(`${report.name}: OK\n`);
  });

  it.each(['a/b.pdf', '..', '.hidden', 'x\\y.pdf'])('refuses the name %j', async (name) => {
    const target = createBucketTarget({ type: 'bucket', url: pathToFileURL(dir).href }, {});
    await expect(target.deliver({ ...report, name })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('refuses a body that does not match its sha256', async () => {
    const target = createBucketTarget({ type: 'bucket', url: pathToFileURL(dir).href }, {});
    const wrong = { ...report, name: 'wrong.pdf', sha256: sha256Of(new Uint8Array([1])) };
    await expect(target.deliver(wrong)).rejects.toThrow(/sha256 does not match the body/);
  });
});

describe('s3 bucket target', () => {
  let s3: FakeS3;
  beforeAll(async () => {
    s3 = await startFakeS3(['reports']);
  });
  afterAll(() => s3.close());

  const target = (url: string) =>
    createBucketTarget(
      {
        type: 'bucket',
        url,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: new Secret(s3.secretAccessKey, 'literal'),
      },
      {},
    );

  it('puts <prefix>/<tenant>/<name> with the content type and sha256 metadata', async () => {
    const bucket = target('s3://reports/weekly/pdf/');
    const result = await bucket.deliver(report);
    bucket.close?.();
    expect(result).toMatchObject({
      location: 's3://reports/weekly/pdf/acme/acme-2026-W47.pdf',
      status: 200,
    });
    const object = await s3.getObject('reports', 'weekly/pdf/acme/acme-2026-W47.pdf');
    expect(object?.contentType).toBe('application/pdf');
    expect(object?.metadata).toMatchObject({ sha256: report.sha256, week: '2026-W47' });
  });

  it('fails permanently, naming the bucket, when the bucket does not exist', async () => {
    const bucket = target('s3://no-such-bucket/weekly');
    const err = await bucket.deliver(report).catch((e: unknown) => e);
    bucket.close?.();
    expect(err).toMatchObject({ code: 'config_invalid', retryable: false });
    expect((err as Error).message).toMatch(/s3:\/\/no-such-bucket\/weekly .*404 \(NoSuchBucket\)/);
  });
});
