/**
 * Verify-parallel: `warden verify` on every core. The main thread reads the bundle and runs every
 * check; the Ed25519 signatures — nine tenths of the work — are streamed, in chunks, to one worker
 * thread per core as the receipts are read, so workers verify while the main thread canonicalises
 * and hashes the next ones.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { WardenError } from '../errors.js';
import {
  type SignatureJob,
  type SignatureVerifier,
  startVerify,
  type VerifyOptions,
  type VerifyReport,
  verifyBundle,
} from './verify-bundle.js';

const workerSource = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
let keys = [];
parentPort.on('message', ({ pems, id, bytes, ends, sigs, keyIndexes }) => {
  if (pems) {
    keys = pems.map((pem) => { try { return pem ? createPublicKey(pem) : null; } catch { return null; } });
    return;
  }
  const data = Buffer.from(bytes);
  const sigData = Buffer.from(sigs);
  const oks = new Uint8Array(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const key = keys[keyIndexes[i]];
    const sig = sigData.subarray(i * 64, i * 64 + 64);
    oks[i] = key && verify(null, data.subarray(start, ends[i]), key, sig) ? 1 : 0;
    start = ends[i];
  }
  parentPort.postMessage({ id, oks }, [oks.buffer]);
});
`;

export interface ParallelVerifyOptions extends VerifyOptions {
  /** Worker threads. @defaultValue os.availableParallelism() */
  threads?: number;
  /** Signatures per message to a worker. @defaultValue 1000 */
  chunk?: number;
}

/** Below this many receipts, starting workers costs more than it saves. */
const minReceipts = 2000;

/**
 * @example
 * const report = await verifyBundleParallel(JSON.parse(text)); // same report as verifyBundle
 */
export async function verifyBundleParallel(
  bundle: unknown,
  options: ParallelVerifyOptions = {},
): Promise<VerifyReport> {
  return verifyWith(bundle, options, undefined);
}

/**
 * Reads and verifies a bundle file, starting the worker threads first so they are up by the time
 * the file is parsed. Throws `invalid` when the file is not JSON.
 * @example
 * const report = await verifyBundleFile(readFile('bundle.json', 'utf8'));
 */
export async function verifyBundleFile(
  text: Promise<string>,
  options: ParallelVerifyOptions = {},
): Promise<VerifyReport> {
  const threads = options.threads ?? availableParallelism();
  const pool = threads >= 1 ? createWorkerVerifier(threads, options.chunk ?? 1000) : undefined;
  try {
    let bundle: unknown;
    try {
      bundle = JSON.parse(await text);
    } catch (err) {
      if (err instanceof SyntaxError) {
        throw new WardenError('invalid', 'The bundle is not valid JSON.', { cause: err });
      }
      throw err;
    }
    return await verifyWith(bundle, options, pool);
  } finally {
    await pool?.close();
  }
}

async function verifyWith(
  bundle: unknown,
  options: ParallelVerifyOptions,
  started: WorkerVerifier | undefined,
): Promise<VerifyReport> {
  const threads = options.threads ?? availableParallelism();
  const receipts = (bundle as { receipts?: unknown[] } | null)?.receipts;
  const keys = (bundle as { keys?: unknown[] } | null)?.keys;
  if (
    threads < 1 ||
    !Array.isArray(receipts) ||
    receipts.length < minReceipts ||
    !Array.isArray(keys)
  ) {
    return verifyBundle(bundle, options);
  }
  const pems = keys.map((k) => {
    const pem = (k as { publicKeyPem?: unknown } | null)?.publicKeyPem;
    return typeof pem === 'string' ? pem : null;
  });
  const pool = started ?? createWorkerVerifier(threads, options.chunk ?? 1000);
  try {
    pool.useKeys(pems);
    const pending = startVerify(bundle, options, pool);
    return pending.finish(await pending.signatures);
  } finally {
    if (!started) await pool.close();
  }
}

interface Reply {
  id: number;
  oks: Uint8Array;
}

type WorkerVerifier = SignatureVerifier & {
  /** The bundle's public keys (PEM, by index), sent before any signature. */
  useKeys(pems: ReadonlyArray<string | null>): void;
  close(): Promise<void>;
};

/** Sends each full chunk of signatures to the next worker, round robin. */
function createWorkerVerifier(threads: number, chunkSize: number): WorkerVerifier {
  const workers = Array.from({ length: threads }, () => new Worker(workerSource, { eval: true }));
  const replies: Array<Promise<Uint8Array>> = [];
  const waiting = new Map<number, { resolve(oks: Uint8Array): void; reject(err: Error): void }>();
  let chunk: SignatureJob[] = [];
  for (const w of workers) {
    w.on('message', (reply: Reply) => {
      waiting.get(reply.id)?.resolve(reply.oks);
      waiting.delete(reply.id);
    });
    w.on('error', (err) => {
      for (const pending of waiting.values()) pending.reject(err);
      waiting.clear();
    });
  }

  function send() {
    if (chunk.length === 0) return;
    const jobs = chunk;
    chunk = [];
    const id = replies.length;
    const worker = workers[id % workers.length] as Worker;
    const total = jobs.reduce((sum, j) => sum + j.bytes.length, 0);
    const bytes = new Uint8Array(total);
    const ends = new Uint32Array(jobs.length);
    const sigs = new Uint8Array(jobs.length * 64);
    const keyIndexes = new Uint16Array(jobs.length);
    let at = 0;
    jobs.forEach((j, i) => {
      bytes.set(j.bytes, at);
      at += j.bytes.length;
      ends[i] = at;
      sigs.set(j.sig.length === 64 ? j.sig : new Uint8Array(64), i * 64);
      keyIndexes[i] = j.keyIndex;
    });
    replies.push(
      new Promise<Uint8Array>((resolve, reject) => waiting.set(id, { resolve, reject })),
    );
    worker.postMessage({ id, bytes, ends, sigs, keyIndexes }, [
      bytes.buffer,
      ends.buffer,
      sigs.buffer,
      keyIndexes.buffer,
    ]);
  }

  return {
    useKeys(pems) {
      for (const w of workers) w.postMessage({ pems });
    },
    add(job) {
      chunk.push(job);
      if (chunk.length >= chunkSize) send();
    },
    async results() {
      send();
      const parts = await Promise.all(replies);
      return parts.flatMap((oks) => Array.from(oks, (ok) => ok === 1));
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
