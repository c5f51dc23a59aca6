/** Ed25519: signing keys (node:crypto KeyObjects), key ids, signing and constant-time verification. */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { WardenError } from '../errors.js';

export interface Signer {
  /** `ed25519:` + the first 16 hex digits of SHA-256 over the raw 32-byte public key. */
  readonly keyId: string;
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  /** Ed25519 signature (RFC 8032, pure) over `data`, base64url without padding. */
  sign(data: Uint8Array): string;
  /**
   * Signs many messages, in order. The seam for signers that are not in this thread: a worker pool
   * (see worker-signer.ts) or, with BYOK, a KMS.
   */
  signBatch(messages: readonly Uint8Array[]): Promise<string[]>;
}

/** The raw 32-byte Ed25519 public key (the SPKI DER minus its fixed 12-byte prefix). */
export function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(12);
}

/**
 * The key id scheme: `ed25519:<first 16 hex digits of SHA-256(raw public key)>`.
 * @example keyIdOf(publicKey) // 'ed25519:3f1c0a9b27d4e815'
 */
export function keyIdOf(publicKey: KeyObject): string {
  return `ed25519:${createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16)}`;
}

export function createSigner(privateKey: KeyObject): Signer {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new WardenError(
      'config_invalid',
      `The signing key must be Ed25519, not ${privateKey.asymmetricKeyType}. Fix: openssl genpkey -algorithm ed25519.`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (data) => sign(null, data, privateKey).toString('base64url'),
    signBatch: async (messages) =>
      messages.map((data) => sign(null, data, privateKey).toString('base64url')),
  };
}

export function generateSigningKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey({ key: pem, format: 'pem' });
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey({ key: pem, format: 'pem' });
}

/**
 * Verifies an Ed25519 signature. Strict RFC 8032 (rejects non-canonical and malleable signatures);
 * the comparison inside OpenSSL does not depend on where the signature differs. Never throws.
 */
export function verifyEd25519(
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, data, publicKey, signature);
  } catch {
    return false;
  }
}
