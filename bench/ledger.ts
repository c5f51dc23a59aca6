/**
 * Ledger benchmark: receipts appended and signed per second through `createLedger(...).append`, many
 * concurrent callers on one tenant, on PostgreSQL (when DATABASE_URL is set), in-memory PGlite and
 * file-backed PGlite — each beside raw Ed25519 signs/s over messages of the same size.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalBytes } from '../src/ledger/canonical-json.js';
import type { Signer } from '../src/ledger/ed25519.js';
import { generateSigningKey } from '../src/ledger/ed25519.js';
import { createLedger, type Ledger } from '../src/ledger/ledger.js';
import type { ReceiptDraft } from '../src/ledger/receipt.js';
import { createWorkerSigner } from '../src/ledger/worker-signer.js';
import { type Database, openDatabase } from '../src/storage/database.js';
import { openBenchSchema } from './bench-database.js';
import { type BenchRow, defineBenchmark, type Goal } from './benchmark.js';
import { createSignCeiling } from './sign-ceiling.js';
import { median, perSecond, withDeadline } from './stats.js';

/** Receipts per measured run: PostgreSQL's is the goal figure; PGlite, slower, gets half to stay bounded. */
const receiptsPerRun = { postgres: 20_000, pglite: 10_000 };
const inFlight = 2_000;
const warmupReceipts = 2_000;
const runs = 3;
const tenant = 'bench';
const caseDeadlineMs = 45_000;

interface EngineCase {
  name: string;
  receiptsPerRun: number;
  goal?: Goal;
  /** Why the case cannot run here, if it cannot. */
  skip?: string;
  /**
   * Processes appending to the one tenant, each with its own ledger and connection pool (1 unless
   * set): each predicts the head it left, and finds it moved whenever another appended since.
   */
  writers?: number;
  open(): Promise<{ db: Database; another?(): Promise<Database>; cleanup(): Promise<void> }>;
}

/** A realistic receipt: a tenant change with actor and reason; its body comes to ~300 bytes. */
function draft(i: number): ReceiptDraft {
  return {
    kind: 'tenant.updated',
    run: `run-${i % 97}`,
    data: {
      actor: 'bench@warden.local',
      change: { field: 'tier', from: 'pro', to: 'enterprise' },
      reason: 'benchmark: steady ingest from many callers',
      i,
    },
  };
}

/**
 * `count` appends from `window` concurrent callers, each awaiting its previous append; caller k
 * appends through `ledgers[k % ledgers.length]`.
 */
async function appendMany(ledgers: Ledger[], count: number, window: number): Promise<number> {
  let issued = 0;
  let bodyBytes = 0;
  const caller = async (k: number) => {
    const ledger = ledgers[k % ledgers.length] as Ledger;
    while (issued < count) {
      const receipt = await ledger.append(tenant, draft(issued++));
      if (bodyBytes === 0) bodyBytes = canonicalBytes(receipt.payload).length;
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, (_, k) => caller(k)));
  return bodyBytes;
}

/** Every append must have landed, gap-free: the figure counts committed receipts only. */
async function assertCommitted(db: Database, expected: number): Promise<void> {
  const row = await db
    .knex('receipts')
    .where({ tenant_id: tenant })
    .first<{ n: string | number; top: string | number }>(
      db.knex.raw('count(*) as n'),
      db.knex.raw('max(seq) as top'),
    );
  if (Number(row?.n) !== expected || Number(row?.top) !== expected) {
    throw new Error(`expected ${expected} receipts, found ${row?.n} (max seq ${row?.top})`);
  }
}

async function measureCase(engine: EngineCase, log: (line: string) => void): Promise<BenchRow> {
  const { db, another, cleanup } = await engine.open();
  const count = engine.receiptsPerRun;
  // The signer the server runs with: large batches are signed on a worker thread.
  const key = generateSigningKey();
  const signers = [createWorkerSigner(key)];
  const others: Database[] = [];
  try {
    await db.knex('tenants').insert({ id: tenant, name: tenant, tier: 'enterprise' });
    for (let w = 1; w < (engine.writers ?? 1); w++) {
      if (!another)
        throw new Error(`${engine.name}: the engine cannot open another process's pool`);
      others.push(await another());
      signers.push(createWorkerSigner(key));
    }
    const ledgers = await Promise.all(
      [db, ...others].map((d, w) => createLedger({ knex: d.knex, signer: signers[w] as Signer })),
    );
    const bodyBytes = await appendMany(ledgers, warmupReceipts, inFlight);
    const ceiling = createSignCeiling(bodyBytes);
    ceiling.measure(warmupReceipts);
    const samples = { warden: [] as number[], ceiling: [] as number[] };
    let appended = warmupReceipts;
    for (let run = 1; run <= runs; run++) {
      samples.ceiling.push(ceiling.measure(count));
      const started = performance.now();
      await appendMany(ledgers, count, inFlight);
      samples.warden.push(perSecond(count, performance.now() - started));
      appended += count;
      await assertCommitted(db, appended);
      log(`  ${engine.name} run ${run}: ${Math.round(samples.warden.at(-1) ?? 0)} receipts/s`);
    }
    await Promise.all(ledgers.map((l) => l.drain()));
    return {
      name: engine.name,
      unit: 'receipts/s',
      warden: median(samples.warden),
      ceiling: median(samples.ceiling),
      ceilingLabel: `Ed25519 signs/s (node:crypto, ${bodyBytes}-byte messages)`,
      ...(engine.goal ? { goal: engine.goal } : {}),
      samples,
      note:
        `median of ${runs} runs × ${count} receipts, ${inFlight} in flight, one tenant, ` +
        `${engine.writers ?? 1} writer(s) (a ledger and a pool each), after ${warmupReceipts} warm-up`,
    };
  } finally {
    await Promise.all(signers.map((s) => s.close()));
    await Promise.all(others.map((d) => d.close()));
    await cleanup();
  }
}

function engineCases(databaseUrl: string | undefined): EngineCase[] {
  const postgres = () => openBenchSchema(databaseUrl);
  const noDatabase = databaseUrl ? {} : { skip: 'skipped: DATABASE_URL is not set' };
  return [
    {
      name: 'ledger.postgres',
      receiptsPerRun: receiptsPerRun.postgres,
      goal: { op: '>=', value: 15_000 },
      ...noDatabase,
      open: postgres,
    },
    {
      // Split roles (an ingress and a worker) append to one tenant's chain from two processes:
      // here two ledgers, each with its own pool and its own predicted head, in one process.
      name: 'ledger.postgres-two-writers',
      receiptsPerRun: receiptsPerRun.postgres,
      writers: 2,
      ...noDatabase,
      open: postgres,
    },
    {
      name: 'ledger.pglite-memory',
      receiptsPerRun: receiptsPerRun.pglite,
      async open() {
        const db = await openDatabase({});
        return { db, cleanup: () => db.close() };
      },
    },
    {
      name: 'ledger.pglite-file',
      receiptsPerRun: receiptsPerRun.pglite,
      async open() {
        const dataDir = await mkdtemp(join(tmpdir(), 'warden-bench-ledger-'));
        const db = await openDatabase({ dataDir, purpose: 'warden bench' });
        return {
          db,
          async cleanup() {
            await db.close();
            await rm(dataDir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
}

export const ledgerBenchmark = defineBenchmark({
  name: 'ledger',
  description: 'receipts appended and signed per second vs raw Ed25519 signs per second',
  async run({ databaseUrl, log }) {
    const rows: BenchRow[] = [];
    for (const engine of engineCases(databaseUrl)) {
      const base = {
        name: engine.name,
        unit: 'receipts/s',
        warden: null,
        ceiling: null,
        ceilingLabel: 'Ed25519 signs/s',
        ...(engine.goal ? { goal: engine.goal } : {}),
      };
      if (engine.skip) {
        rows.push({ ...base, note: engine.skip });
        continue;
      }
      log(`ledger: ${engine.name}`);
      try {
        rows.push(await withDeadline(measureCase(engine, log), caseDeadlineMs, engine.name));
      } catch (err) {
        rows.push({ ...base, error: (err as Error).message });
      }
    }
    return rows;
  },
});
