/**
 * Signing-key: where the ledger's Ed25519 key comes from — `WARDEN_SIGNING_KEY` (PEM, the BYOK seam) or
 * `<data dir>/keys/ledger-ed25519.pem`, created with mode 0600 on first start.
 */

import type { KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WardenError } from '../errors.js';
import { generateSigningKey, privateKeyFromPem } from './ed25519.js';

export const signingKeyFile = 'keys/ledger-ed25519.pem';

export interface LoadSignerOptions {
  dataDir: string;
  /** PEM private key given by the environment; wins over the file. */
  pem?: string | undefined;
}

export function loadOrCreateSigningKey({ dataDir, pem }: LoadSignerOptions): KeyObject {
  if (pem) return parse(pem, 'WARDEN_SIGNING_KEY');
  const path = join(dataDir, signingKeyFile);
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) chmodSync(path, 0o600); // tighten a key left readable by others
    return parse(readFileSync(path, 'utf8'), path);
  }
  mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  const key = generateSigningKey();
  const text = key.export({ format: 'pem', type: 'pkcs8' }).toString();
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  return key;
}

function parse(pem: string, where: string) {
  try {
    return privateKeyFromPem(pem);
  } catch (err) {
    throw new WardenError(
      'config_invalid',
      `The signing key in ${where} is not a PEM private key. Fix: give an Ed25519 PKCS#8 PEM (openssl genpkey -algorithm ed25519).`,
      { cause: err },
    );
  }
}
