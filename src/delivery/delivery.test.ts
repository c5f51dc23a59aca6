import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Secret } from '../secret.js';
import {
  createDeliveryTarget,
  createDeliveryTargetSchema,
  deliveryTargetSchema,
} from './delivery.js';

const whsec = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const secret = (value: string) => new Secret(value, 'literal');

describe('deliveryTargetSchema', () => {
  it.each([
    { type: 'bucket', url: 'file:///var/warden/out' },
    { type: 'bucket', url: 's3://reports/weekly', region: 'eu-west-1' },
    {
      type: 'bucket',
      url: 's3://reports',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      accessKeyId: 'AKIA',
      secretAccessKey: secret('s3cr3t'),
    },
    { type: 'webhook', url: 'https://hooks.example.com/warden?v=1', secret: secret(whsec) },
    { type: 'webhook', url: 'http://127.0.0.1:8080/in', secret: secret(whsec) },
  ])('accepts $url', (spec) => {
    expect(deliveryTargetSchema.safeParse(spec).success).toBe(true);
  });

  it.each([
    [{ type: 'bucket', url: 'file://relative/dir' }, 'file:///absolute/dir'],
    [{ type: 'bucket', url: 's3://Upper_Case/x' }, 's3://bucket/prefix'],
    [{ type: 'bucket', url: 's3://reports', accessKeyId: 'AKIA' }, 'together'],
    [{ type: 'webhook', url: 'http://hooks.example.com/', secret: secret(whsec) }, 'https://'],
    [{ type: 'webhook', url: 'https://u:p@example.com/', secret: secret(whsec) }, 'credentials'],
    [{ type: 'webhook', url: 'https://example.com/', secret: secret('whsec_c2hvcnQ=') }, 'whsec_'],
    [{ type: 'ftp', url: 'ftp://x' }, ''],
  ])('rejects %j with a fix', (spec, message) => {
    const result = deliveryTargetSchema.safeParse(spec);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message).join('\n')).toContain(message);
  });

  it('resolves secrets through the schema it is given (as tenant config does)', () => {
    const fromString = z.string().transform((raw) => new Secret(raw, 'literal'));
    const spec = createDeliveryTargetSchema(fromString).parse({
      type: 'webhook',
      url: 'https://example.com/in',
      secret: whsec,
    });
    expect(spec.type === 'webhook' && spec.secret.reveal()).toBe(whsec);
    expect(inspect(spec)).not.toContain(whsec);
  });
});

describe('createDeliveryTarget', () => {
  it('builds the adapter for the spec, described without secrets or query', () => {
    const hook = createDeliveryTarget({
      type: 'webhook',
      url: 'https://hooks.example.com/in?token=abc',
      secret: secret(whsec),
    });
    expect(hook.kind).toBe('webhook');
    expect(hook.describe()).toBe('webhook https://hooks.example.com/in');
    const s3 = createDeliveryTarget({
      type: 'bucket',
      url: 's3://reports/weekly',
      accessKeyId: 'AKIA',
      secretAccessKey: secret('s3cr3t'),
    });
    expect(s3.describe()).toBe('bucket s3://reports/weekly');
    expect(s3.describe()).not.toContain('s3cr3t');
    s3.close?.();
  });
});
