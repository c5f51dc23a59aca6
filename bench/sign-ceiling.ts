/** The ledger's ceiling: raw node:crypto Ed25519 signs per second with a pre-parsed KeyObject. */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { perSecond } from './stats.js';

export interface SignCeiling {
  /** Signs `count` distinct messages of the configured size; returns signs per second. */
  measure(count: number): number;
}

/**
 * @example
 * const ceiling = createSignCeiling(300);
 * ceiling.measure(2_000); // warm-up
 * const signsPerSecond = ceiling.measure(20_000);
 */
export function createSignCeiling(messageBytes: number): SignCeiling {
  const key: KeyObject = generateKeyPairSync('ed25519').privateKey;
  const messages = Array.from({ length: 256 }, () => randomBytes(messageBytes));
  let sink = 0;
  return {
    measure(count) {
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        sink ^= sign(null, messages[i & 255] as Buffer, key)[0] as number;
      }
      const rate = perSecond(count, performance.now() - started);
      if (sink === -1) throw new Error('unreachable'); // keeps the signatures observable
      return rate;
    },
  };
}
