/**
 * Worker-signer: a Signer whose large batches are signed on a worker thread, so the main thread can
 * canonicalise, hash and talk to the database meanwhile. Small batches sign inline; the worker starts
 * on the first large batch (idle servers pay nothing) and is unref'd so it never holds the process.
 */

import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createSigner, type Signer } from './ed25519.js';

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
const key = createPrivateKey({ key: workerData.key, format: 'der', type: 'pkcs8' });
parentPort.on('message', ({ id, messages }) => {
  try {
    parentPort.postMessage({ id, sigs: messages.map((m) => sign(null, m, key).toString('base64url')) });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err) });
  }
});
`;

export interface WorkerSigner extends Signer {
  close(): Promise<void>;
}

export interface WorkerSignerOptions {
  /** Batches smaller than this are signed inline. @defaultValue 64 */
  minBatch?: number;
}

interface Reply {
  id: number;
  sigs?: string[];
  error?: string;
}

export function createWorkerSigner(
  privateKey: KeyObject,
  options: WorkerSignerOptions = {},
): WorkerSigner {
  const inline = createSigner(privateKey);
  const minBatch = options.minBatch ?? 64;
  const waiting = new Map<number, { resolve(s: string[]): void; reject(e: Error): void }>();
  let worker: Worker | undefined;
  let nextId = 0;

  /** A worker died: fail what it owed. Events of a worker already replaced are ignored. */
  function failAll(w: Worker, err: Error) {
    if (worker !== w) return;
    worker = undefined;
    for (const pending of waiting.values()) pending.reject(err);
    waiting.clear();
  }

  function start(): Worker {
    const key = privateKey.export({ format: 'der', type: 'pkcs8' });
    const w = new Worker(workerSource, { eval: true, workerData: { key } });
    w.unref();
    w.on('message', (reply: Reply) => {
      const pending = waiting.get(reply.id);
      waiting.delete(reply.id);
      if (reply.sigs) pending?.resolve(reply.sigs);
      else pending?.reject(new Error(`signing worker failed: ${reply.error}`));
    });
    w.on('error', (err) => failAll(w, err));
    w.on('exit', (code) => failAll(w, new Error(`signing worker exited with code ${code}`)));
    return w;
  }

  return {
    ...inline,
    signBatch(messages) {
      if (messages.length < minBatch) return inline.signBatch(messages);
      worker ??= start();
      const id = nextId++;
      return new Promise<string[]>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker?.postMessage({ id, messages });
      });
    },
    async close() {
      const w = worker;
      if (!w) return;
      failAll(w, new Error('signer closed'));
      await w.terminate();
    },
  };
}
