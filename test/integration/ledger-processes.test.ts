/**
 * Appends of one tenant from several ledgers — in separate processes, or separate instances in one
 * process — are serialised by the row lock on the chain head: seq stays 1..n with no gap and verifies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBundle } from '../../src/ledger/bundle.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { type Database, openDatabase } from '../../src/storage/database.js';
import {
  createTestLedger,
  databaseUrl,
  describeEngines,
  enginesUnderTest,
} from '../helpers/database.js';

// At module level, so that WARDEN_REQUIRE_SERVICES=1 without DATABASE_URL fails the file loudly.
const engines = enginesUnderTest();
const worker = fileURLToPath(new URL('../helpers/append-worker.ts', import.meta.url));
const seqs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

interface Worker {
  proc: ChildProcess;
  /** Resolves with each line the worker prints on stdout, in order. */
  next(): Promise<string>;
  stderr(): string;
}

function startWorker(schema: string, tenant: string): Worker {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', worker, '--tenant', tenant, '--receipts', '500', '--callers', '10'],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl, WARDEN_TEST_SCHEMA: schema },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  const iterator = lines[Symbol.asyncIterator]();
  return {
    proc,
    stderr: () => stderr,
    async next() {
      const { value, done } = await iterator.next();
      if (done)
        throw new Error(`worker ${proc.pid} ended early (exit ${proc.exitCode}):\n${stderr}`);
      return value;
    },
  };
}

function exitOf(proc: ChildProcess): Promise<number | string | null> {
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
}

/** How often the signing key changes along the chain: 1 means one ledger wrote a solid block. */
function keySwitches(keyIds: string[]): number {
  return keyIds.filter((k, i) => i > 0 && k !== keyIds[i - 1]).length;
}

describe.skipIf(!engines.includes('postgres'))('ledger across processes [postgres]', () => {
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const workers: Worker[] = [];
  let db: Database;

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl, schema });
    await db.knex('tenants').insert({ id: 'shared', name: 'shared', tier: 'enterprise' });
  });

  afterAll(async () => {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    await db?.knex.raw('drop schema if exists ?? cascade', [schema]);
    await db?.close();
  });

  it('keeps 1,000 receipts from 2 processes × 10 callers gap-free, verifiable, both keys', async () => {
    workers.push(startWorker(schema, 'shared'), startWorker(schema, 'shared'));
    for (const w of workers) expect(await w.next()).toBe('ready');
    for (const w of workers) w.proc.stdin?.end('go\n');
    const results = await Promise.all(
      workers.map(async (w) => JSON.parse(await w.next()) as { keyId: string; seqs: number[] }),
    );
    for (const w of workers) expect(await exitOf(w.proc), w.stderr()).toBe(0);

    expect(results.flatMap((r) => r.seqs).sort((a, b) => a - b)).toEqual(seqs(1000));
    const bundle = await exportBundle(db.knex, 'shared');
    expect(bundle.receipts.map((r) => r.payload.seq)).toEqual(seqs(1000));
    const report = verifyBundle(bundle);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    const keyIds = results.map((r) => r.keyId);
    expect(new Set(keyIds).size).toBe(2);
    expect(bundle.keys.map((k) => k.keyId).sort()).toEqual([...keyIds].sort());
    expect(keySwitches(bundle.receipts.map((r) => r.signature.keyId))).toBeGreaterThan(1);
  });
});

describeEngines('ledger across instances', ({ db }) => {
  it('keeps 1,000 receipts from 20 callers over 2 ledgers gap-free and verifiable', async () => {
    const ledgers: Ledger[] = [];
    for (let i = 0; i < 2; i++) ledgers.push((await createTestLedger(db(), ['split'])).ledger);
    await Promise.all(
      Array.from({ length: 20 }, async (_, caller) => {
        const ledger = ledgers[caller % 2] as Ledger;
        for (let i = 0; i < 50; i++) {
          await ledger.append('split', { kind: 'tenant.updated', data: { caller, i } });
        }
      }),
    );
    const bundle = await exportBundle(db().knex, 'split');
    expect(bundle.receipts.map((r) => r.payload.seq)).toEqual(seqs(1000));
    expect(verifyBundle(bundle).ok).toBe(true);
    const keyIds = ledgers.map((l) => l.signer.keyId);
    expect(bundle.keys.map((k) => k.keyId).sort()).toEqual([...keyIds].sort());
    expect(keySwitches(bundle.receipts.map((r) => r.signature.keyId))).toBeGreaterThan(1);
  });
});
