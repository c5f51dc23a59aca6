import { describe, expect, it } from 'vitest';
import { createSigner, generateSigningKey, verifyEd25519 } from './ed25519.js';
import { createWorkerSigner } from './worker-signer.js';

const messages = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`receipt ${i}`));

describe('createWorkerSigner', () => {
  it('signs a large batch on the worker with the same bytes as inline signing', async () => {
    const key = generateSigningKey();
    const worker = createWorkerSigner(key, { minBatch: 8 });
    const inline = createSigner(key);
    try {
      const batch = messages(200);
      const sigs = await worker.signBatch(batch);
      expect(sigs).toEqual(batch.map((m) => inline.sign(m)));
      expect(
        verifyEd25519(
          worker.publicKey,
          batch[7] as Buffer,
          Buffer.from(sigs[7] as string, 'base64url'),
        ),
      ).toBe(true);
      expect(worker.keyId).toBe(inline.keyId);
    } finally {
      await worker.close();
    }
  });

  it('keeps concurrent batches apart and in order', async () => {
    const key = generateSigningKey();
    const worker = createWorkerSigner(key, { minBatch: 2 });
    const inline = createSigner(key);
    try {
      const batches = Array.from({ length: 6 }, (_, b) =>
        Array.from({ length: 10 + b }, (_, i) => Buffer.from(`${b}:${i}`)),
      );
      const results = await Promise.all(batches.map((b) => worker.signBatch(b)));
      results.forEach((sigs, b) => {
        expect(sigs).toEqual((batches[b] as Buffer[]).map((m) => inline.sign(m)));
      });
    } finally {
      await worker.close();
    }
  });

  it('can sign again after close, starting a new worker', async () => {
    const worker = createWorkerSigner(generateSigningKey(), { minBatch: 1 });
    await worker.signBatch(messages(3));
    await worker.close();
    await expect(worker.signBatch(messages(3))).resolves.toHaveLength(3);
    await worker.close();
  });
});
