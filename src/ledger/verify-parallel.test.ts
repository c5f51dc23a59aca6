import { describe, expect, it } from 'vitest';
import { bundleFormat } from './bundle.js';
import { createSigner, generateSigningKey } from './ed25519.js';
import { type Receipt, sealReceipt } from './receipt.js';
import { verifyBundle } from './verify-bundle.js';
import { verifyBundleFile, verifyBundleParallel } from './verify-parallel.js';

const signer = createSigner(generateSigningKey());
const other = createSigner(generateSigningKey());
const keyOf = (s: typeof signer) => ({
  keyId: s.keyId,
  alg: 'Ed25519',
  publicKeyPem: s.publicKeyPem,
});

/** A chain of `count` receipts, every 7th signed by the second key. */
function bundle(count: number) {
  const receipts: Receipt[] = [];
  let prev: string | null = null;
  for (let seq = 1; seq <= count; seq++) {
    const { receipt } = sealReceipt(
      { tenant: 'acme', seq, prev },
      { kind: 'tenant.updated', data: { seq, note: 'naïve ✓' } },
      { id: `r-${seq}`, at: '2026-11-01T00:00:00.000Z' },
      seq % 7 === 0 ? other : signer,
    );
    receipts.push(receipt);
    prev = receipt.digest;
  }
  return {
    format: bundleFormat,
    tenant: 'acme',
    exportedAt: '2026-11-01T00:00:00.000Z',
    range: { since: null, until: null },
    keys: [keyOf(signer), keyOf(other)],
    receipts,
    proofs: [],
    checkpoint: null,
    disclosures: [],
  };
}

describe('verifyBundleParallel', () => {
  it('gives the same report as verifyBundle on a valid bundle of 3,000 receipts', async () => {
    const b = bundle(3000);
    const report = await verifyBundleParallel(b, { threads: 2, chunk: 250 });
    expect(report).toEqual(verifyBundle(b));
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'signatures')?.detail).toBe(
      '3000/3000 Ed25519 signatures valid',
    );
  });

  it('finds the same bad signatures, in order, as verifyBundle', async () => {
    const b = bundle(3000);
    for (const i of [10, 1500, 2999]) {
      const r = b.receipts[i] as Receipt;
      const sig = Buffer.from(r.signature.sig, 'base64url');
      sig[5] = (sig[5] as number) ^ 1;
      r.signature.sig = sig.toString('base64url');
    }
    // A signature by the wrong one of the two keys.
    (b.receipts[21] as Receipt).signature.keyId = other.keyId; // seq 22 was signed by signer
    const report = await verifyBundleParallel(b, { threads: 2, chunk: 100 });
    expect(report).toEqual(verifyBundle(b));
    const signatures = report.checks.find((c) => c.name === 'signatures');
    expect(signatures).toMatchObject({ ok: false, failures: 4 });
    expect(signatures?.detail).toMatch(/^receipt r-11 \(seq 11.*\(and 3 more\)$/);
  });

  it('verifies small bundles inline', async () => {
    const b = bundle(10);
    expect(await verifyBundleParallel(b)).toEqual(verifyBundle(b));
  });

  it('verifies a file as it is read, with the workers started first, and refuses what is not JSON', async () => {
    const b = bundle(2500);
    const report = await verifyBundleFile(Promise.resolve(JSON.stringify(b)), { threads: 2 });
    expect(report).toEqual(verifyBundle(b));
    await expect(verifyBundleFile(Promise.resolve('{"format":'))).rejects.toMatchObject({
      code: 'invalid',
    });
    await expect(verifyBundleFile(Promise.reject(new Error('disk gone')))).rejects.toThrow(
      'disk gone',
    );
  });
});
