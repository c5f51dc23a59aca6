import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasVectors, vectorsDir } from '../../test/helpers/vectors.js';
import {
  createSigner,
  generateSigningKey,
  keyIdOf,
  publicKeyFromPem,
  rawPublicKey,
  verifyEd25519,
} from './ed25519.js';

const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

const privateKeyOf = (seedHex: string) =>
  createPrivateKey({
    key: Buffer.concat([pkcs8Prefix, Buffer.from(seedHex, 'hex')]),
    format: 'der',
    type: 'pkcs8',
  });

const publicKeyOf = (pkHex: string) =>
  createPublicKey({
    key: Buffer.concat([spkiPrefix, Buffer.from(pkHex, 'hex')]),
    format: 'der',
    type: 'spki',
  });

const readVectors = <T>(file: string): T =>
  hasVectors ? JSON.parse(readFileSync(join(vectorsDir, 'ed25519', file), 'utf8')) : ({} as T);

interface Rfc8032Case {
  name: string;
  secret_key: string;
  public_key: string;
  message: string;
  signature: string;
}

interface WycheproofFile {
  numberOfTests: number;
  testGroups: Array<{
    publicKey: { pk: string };
    tests: Array<{ tcId: number; comment: string; msg: string; sig: string; result: string }>;
  }>;
}

describe('createSigner', () => {
  it('signs so that verifyEd25519 accepts the bytes signed and nothing else', () => {
    const signer = createSigner(generateSigningKey());
    const data = Buffer.from('{"a":1}');
    const sig = Buffer.from(signer.sign(data), 'base64url');
    expect(sig.length).toBe(64);
    expect(verifyEd25519(signer.publicKey, data, sig)).toBe(true);
    expect(verifyEd25519(signer.publicKey, Buffer.from('{"a":2}'), sig)).toBe(false);
    expect(verifyEd25519(publicKeyFromPem(signer.publicKeyPem), data, sig)).toBe(true);
  });

  it('refuses a key that is not Ed25519 with config_invalid', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => createSigner(privateKey)).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
  });
});

describe('verifyEd25519', () => {
  it('returns false instead of throwing on a truncated or overlong signature', () => {
    const signer = createSigner(generateSigningKey());
    const data = Buffer.from('x');
    const sig = Buffer.from(signer.sign(data), 'base64url');
    expect(verifyEd25519(signer.publicKey, data, sig.subarray(0, 63))).toBe(false);
    expect(verifyEd25519(signer.publicKey, data, Buffer.concat([sig, Buffer.alloc(1)]))).toBe(
      false,
    );
    expect(verifyEd25519(signer.publicKey, data, new Uint8Array(0))).toBe(false);
  });
});

describe('keyIdOf', () => {
  it('is ed25519: and the first 16 hex digits of SHA-256 over the raw public key', () => {
    const signer = createSigner(generateSigningKey());
    const der = signer.publicKey.export({ format: 'der', type: 'spki' });
    expect(der.subarray(0, 12).equals(spkiPrefix)).toBe(true);
    const raw = der.subarray(12);
    expect(raw.length).toBe(32);
    const expected = `ed25519:${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
    expect(keyIdOf(signer.publicKey)).toBe(expected);
    expect(signer.keyId).toBe(expected);
    expect(signer.keyId).toMatch(/^ed25519:[0-9a-f]{16}$/);
  });

  it('gives different ids to different keys', () => {
    const a = createSigner(generateSigningKey());
    const b = createSigner(generateSigningKey());
    expect(a.keyId).not.toBe(b.keyId);
  });
});

describe.skipIf(!hasVectors)('ed25519 (RFC 8032 §7.1 vectors)', () => {
  const { tests = [] } = readVectors<{ tests?: Rfc8032Case[] }>('rfc8032-section7.1-ed25519.json');

  it('has the five section 7.1 tests', () => {
    expect(tests.map((t) => t.name)).toEqual([
      'TEST 1',
      'TEST 2',
      'TEST 3',
      'TEST 1024',
      'TEST SHA(abc)',
    ]);
  });

  it.each(tests)('$name: reproduces the signature from the seed and verifies it', (t) => {
    const signer = createSigner(privateKeyOf(t.secret_key));
    const message = Buffer.from(t.message, 'hex');
    const signature = Buffer.from(t.signature, 'hex');
    expect(rawPublicKey(signer.publicKey).toString('hex')).toBe(t.public_key);
    expect(signer.sign(message)).toBe(signature.toString('base64url'));
    const publicKey = publicKeyOf(t.public_key);
    expect(verifyEd25519(publicKey, message, signature)).toBe(true);
    const sha256 = createHash('sha256').update(Buffer.from(t.public_key, 'hex')).digest('hex');
    expect(keyIdOf(publicKey)).toBe(`ed25519:${sha256.slice(0, 16)}`);
    const tampered = Buffer.from(signature);
    tampered[0] = (tampered[0] ?? 0) ^ 0x01;
    expect(verifyEd25519(publicKey, message, tampered)).toBe(false);
  });
});

describe.skipIf(!hasVectors)('verifyEd25519 (Wycheproof)', () => {
  const file = readVectors<WycheproofFile>('wycheproof-ed25519_test.json');
  const cases = (file.testGroups ?? []).flatMap((group) =>
    group.tests.map((test) => ({ ...test, pk: group.publicKey.pk })),
  );

  it('runs all 151 cases, 88 valid and 63 invalid', () => {
    expect(cases.length).toBe(151);
    expect(file.numberOfTests).toBe(151);
    expect(cases.filter((c) => c.result === 'valid').length).toBe(88);
    expect(cases.filter((c) => c.result === 'invalid').length).toBe(63);
  });

  it('agrees with the expected result of every case', () => {
    const disagreements = cases
      .filter((c) => {
        const ok = verifyEd25519(
          publicKeyOf(c.pk),
          Buffer.from(c.msg, 'hex'),
          Buffer.from(c.sig, 'hex'),
        );
        return ok !== (c.result === 'valid');
      })
      .map((c) => `tcId ${c.tcId} (${c.comment || 'no comment'}): expected ${c.result}`);
    expect(disagreements).toEqual([]);
  });
});
