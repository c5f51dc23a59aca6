import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBundle } from '../../src/ledger/bundle.js';
import { canonicalBytes } from '../../src/ledger/canonical-json.js';
import type { Receipt } from '../../src/ledger/receipt.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** `openssl pkeyutl -verify` over raw bytes: checking one receipt without Warden (CONTRACT.md). */
function opensslVerify(dir: string, data: string) {
  const run = spawnSync(
    'openssl',
    [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      'pub.pem',
      '-rawin',
      '-in',
      data,
      '-sigfile',
      'sig.bin',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe.skipIf(!hasOpenssl)('receipts checked with openssl alone', () => {
  describeEngines('openssl pkeyutl', ({ db }) => {
    let dir: string;
    let receipt: Receipt;
    let bytes: Buffer;

    beforeAll(async () => {
      const { ledger } = await createTestLedger(db(), ['acme']);
      await ledger.append('acme', { kind: 'tenant.updated', data: { note: 'café €5' } });
      const bundle = await exportBundle(db().knex, 'acme');
      receipt = bundle.receipts[0] as Receipt;
      const key = bundle.keys.find((k) => k.keyId === receipt.signature.keyId);
      if (!key) throw new Error('the bundle lacks the signing key');
      bytes = canonicalBytes(receipt.payload);
      dir = await mkdtemp(join(tmpdir(), 'warden-openssl-'));
      await writeFile(join(dir, 'pub.pem'), key.publicKeyPem);
      await writeFile(join(dir, 'sig.bin'), Buffer.from(receipt.signature.sig, 'base64url'));
      await writeFile(join(dir, 'data.bin'), bytes);
      const flipped = Buffer.from(bytes);
      flipped[10] = (flipped[10] as number) ^ 0x01;
      await writeFile(join(dir, 'flipped.bin'), flipped);
    });

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('verifies the exported signature over the canonical payload bytes', () => {
      const result = opensslVerify(dir, 'data.bin');
      expect(result.output).toContain('Signature Verified Successfully');
      expect(result.status).toBe(0);
    });

    it('rejects the signature when one byte of the payload is flipped', () => {
      const result = opensslVerify(dir, 'flipped.bin');
      expect(result.output).not.toContain('Signature Verified Successfully');
      expect(result.status).not.toBe(0);
    });

    it('has a digest equal to SHA-256 of the same bytes', () => {
      expect(receipt.digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    });
  });
});
