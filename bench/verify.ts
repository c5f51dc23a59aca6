/**
 * Verify benchmark: `warden verify` of a 100,000-receipt bundle — read the file, parse it, run every
 * check with the signatures spread over one worker thread per core — in receipts per second, beside
 * the two-core ceiling: raw node:crypto Ed25519 verifies per second on the same number of worker
 * threads, over the same bytes and signatures, with nothing else. Goal: ≥ 0.8 × the ceiling.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { bundleFormat } from '../src/ledger/bundle.js';
import { createSigner, generateSigningKey } from '../src/ledger/ed25519.js';
import { prepareReceipt, type Receipt, signedReceipt } from '../src/ledger/receipt.js';
import { verifyBundleFile } from '../src/ledger/verify-parallel.js';
import { createWorkerSigner } from '../src/ledger/worker-signer.js';
import { defineBenchmark } from './benchmark.js';
import { median, perSecond } from './stats.js';

const count = 100_000;
const runs = 3;

/** A chain of realistic step receipts (~450 bytes of payload each), signed on a worker thread. */
async function buildBundle() {
  const key = generateSigningKey();
  const signer = createWorkerSigner(key);
  const keyId = createSigner(key).keyId;
  const receipts: Receipt[] = [];
  const messages: Buffer[] = [];
  let prev: string | null = null;
  for (let from = 0; from < count; from += 1000) {
    const prepared = [];
    for (let seq = from + 1; seq <= from + 1000; seq++) {
      const p = prepareReceipt(
        { tenant: 'bench', seq, prev },
        {
          kind: 'step.executed',
          run: `run-${seq % 997}`,
          data: {
            playbook: { name: 'restart-ingest', version: 3 },
            step: 'restart',
            uses: 'http.request',
            outcome: 'succeeded',
            decision: { outcome: 'allow', reasons: [] },
            durationMs: 42,
            targets: [`ingest-${seq % 12}`],
            cost: 1,
            risk: 'write',
          },
        },
        { id: crypto.randomUUID(), at: new Date().toISOString() },
      );
      prev = p.digest;
      prepared.push(p);
    }
    const sigs = await signer.signBatch(prepared.map((p) => p.bytes));
    prepared.forEach((p, i) => {
      receipts.push(signedReceipt(p, keyId, sigs[i] as string));
      messages.push(p.bytes);
    });
  }
  await signer.close();
  const pub = createSigner(key);
  const bundle = {
    format: bundleFormat,
    tenant: 'bench',
    exportedAt: new Date().toISOString(),
    range: { since: null, until: null },
    keys: [{ keyId, alg: 'Ed25519', publicKeyPem: pub.publicKeyPem }],
    receipts,
    proofs: [],
    checkpoint: null,
    disclosures: [],
  };
  return { bundle, messages, sigs: receipts.map((r) => r.signature.sig), pem: pub.publicKeyPem };
}

const ceilingSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const key = createPublicKey(workerData.pem);
const { messages, sigs } = workerData;
let ok = 0;
for (let i = 0; i < messages.length; i++) ok += verify(null, messages[i], key, Buffer.from(sigs[i], 'base64url')) ? 1 : 0;
parentPort.postMessage(ok);
`;

/** Raw verifies per second with `threads` workers splitting the same signatures. */
async function ceiling(messages: Buffer[], sigs: string[], pem: string, threads: number) {
  const per = Math.ceil(messages.length / threads);
  const workers = Array.from({ length: threads }, (_, t) => ({
    messages: messages.slice(t * per, (t + 1) * per),
    sigs: sigs.slice(t * per, (t + 1) * per),
  }));
  const started = performance.now();
  const oks = await Promise.all(
    workers.map(
      (data) =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(ceilingSource, { eval: true, workerData: { ...data, pem } });
          w.once('message', (n: number) => {
            void w.terminate();
            resolve(n);
          });
          w.once('error', reject);
        }),
    ),
  );
  const rate = perSecond(messages.length, performance.now() - started);
  if (oks.reduce((a, b) => a + b, 0) !== messages.length) throw new Error('a signature failed');
  return rate;
}

export const verifyBenchmark = defineBenchmark({
  name: 'verify',
  description: 'warden verify of a 100,000-receipt bundle on every core vs raw Ed25519 verifies',
  async run({ log }) {
    const threads = availableParallelism();
    log(`verify: signing a ${count.toLocaleString('en')}-receipt bundle`);
    const { bundle, messages, sigs, pem } = await buildBundle();
    const dir = await mkdtemp(join(tmpdir(), 'warden-bench-verify-'));
    const file = join(dir, 'bundle.json');
    try {
      await writeFile(file, JSON.stringify(bundle, null, 2));
      const warden: number[] = [];
      const raw: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        const report = await verifyBundleFile(readFile(file, 'utf8'), { threads });
        warden.push(perSecond(count, performance.now() - started));
        if (!report.ok) throw new Error('the benchmark bundle does not verify');
        raw.push(await ceiling(messages, sigs, pem, threads));
        log(
          `  run ${i + 1}: ${warden.at(-1)?.toFixed(0)} receipts/s, raw ${raw.at(-1)?.toFixed(0)}/s`,
        );
      }
      const w = median(warden);
      const c = median(raw);
      return [
        {
          name: `verify.bundle-${count / 1000}k`,
          unit: 'receipts/s',
          warden: w,
          ceiling: c,
          ceilingLabel: `raw node:crypto Ed25519 verifies/s on ${threads} worker threads`,
          goal: { op: '>=', value: Math.round(0.8 * c) },
          samples: { warden, ceiling: raw },
          note: `read + parse + every check of a ${count.toLocaleString('en')}-receipt bundle, signatures on ${threads} threads`,
        },
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});
