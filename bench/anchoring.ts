/**
 * Anchoring benchmark: leaves anchored per second (receipts → Merkle log → signed checkpoint, on
 * PGlite and PostgreSQL) beside the bare leaf-hashing rate; inclusion proof p50/p99 on a
 * 1,000,000-leaf log (subtree hashes in memory, the proof code alone; goal p99 ≤ 2 ms) and on the
 * stored log (one database read per proof) beside a bare `select 1`.
 */
import { createHash, randomBytes } from 'node:crypto';
import pino from 'pino';
import { createAnchoring, hashesOf } from '../src/ledger/anchor.js';
import { createSigner, generateSigningKey } from '../src/ledger/ed25519.js';
import { createLedger } from '../src/ledger/ledger.js';
import { appendLeaves, inclusionProof, leafHash, MemoryHashStore } from '../src/ledger/merkle.js';
import { openDatabase } from '../src/storage/database.js';
import { createTenant } from '../src/tenancy/tenants.js';
import { type BenchRow, defineBenchmark } from './benchmark.js';
import { perSecond } from './stats.js';

const receipts = 20_000;
const bigLog = 1_000_000;
const proofs = 5_000;

const pct = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
};

async function timeEach(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f(i);
    out.push(performance.now() - t);
  }
  return out;
}

async function storedCase(
  label: string,
  databaseUrl: string | undefined,
  log: (l: string) => void,
): Promise<BenchRow[]> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const db = await openDatabase(databaseUrl ? { databaseUrl, schema } : {});
  try {
    const signer = createSigner(generateSigningKey());
    const ledger = await createLedger({ knex: db.knex, signer });
    const tenant = 'bench';
    await createTenant({ knex: db.knex, ledger }, { id: tenant, tier: 'enterprise' }, 'bench');
    for (let i = 0; i < receipts; i += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, j) =>
          ledger.append(tenant, { kind: 'trigger.received', data: { i: i + j, note: 'bench' } }),
        ),
      );
    }
    const bodies: string[] = (
      await db.knex('receipts').where({ tenant_id: tenant }).orderBy('seq').select('body')
    ).map((r: { body: string }) => r.body);
    // Ceiling: hashing the same leaves, nothing else.
    let t = performance.now();
    for (const b of bodies) leafHash(Buffer.from(b, 'utf8'));
    const hashRate = perSecond(bodies.length, performance.now() - t);
    const anchoring = createAnchoring({
      knex: db.knex,
      signer,
      origin: (x) => `bench.local/${x}`,
      enabled: async () => true,
      logger: pino({ level: 'silent' }),
    });
    t = performance.now();
    const cp = await anchoring.anchor(tenant);
    const rate = perSecond(cp?.size ?? 0, performance.now() - t);
    log(
      `  ${label}: anchored ${cp?.size} leaves at ${rate.toFixed(0)}/s (hashing alone ${hashRate.toFixed(0)}/s)`,
    );
    const size = cp?.size ?? 1;
    const get = hashesOf(db.knex, tenant);
    const proofTimes = await timeEach(2_000, (i) => inclusionProof((i * 7919) % size, size, get));
    const rtt = await timeEach(2_000, () => db.knex.raw('select 1'));
    return [
      {
        name: `anchoring.leaves-per-second-${label}`,
        unit: 'leaves/s',
        warden: rate,
        ceiling: hashRate,
        ceilingLabel: 'SHA-256 leaf hashing of the same receipts, nothing stored',
        note: `${label}: ${size} receipts anchored in batches of 5,000 with a signed checkpoint each`,
      },
      {
        name: `anchoring.stored-proof-${label}.p99`,
        unit: 'ms',
        warden: pct(proofTimes, 99),
        ceiling: pct(rtt, 99),
        ceilingLabel: `bare select 1 round trip (p50 ${pct(rtt, 50).toFixed(3)} ms)`,
        note: `${label}: inclusion proof from stored subtree hashes, log of ${size}: p50 ${pct(proofTimes, 50).toFixed(3)} ms, p99 ${pct(proofTimes, 99).toFixed(3)} ms`,
      },
    ];
  } finally {
    if (databaseUrl) await db.knex.raw('drop schema if exists ?? cascade', [schema]);
    await db.close();
  }
}

export const anchoringBenchmark = defineBenchmark({
  name: 'anchoring',
  description: 'leaves anchored/s; inclusion proof p99 on a 1,000,000-leaf log',
  async run({ databaseUrl, log }) {
    log('anchoring: building a 1,000,000-leaf log in memory');
    const store = new MemoryHashStore();
    for (let size = 0; size < bigLog; size += 10_000) {
      const leaves = Array.from({ length: 10_000 }, (_, i) =>
        createHash('sha256')
          .update(String(size + i))
          .digest(),
      );
      store.put(await appendLeaves(size, leaves, store.getHashes));
    }
    const memoryTimes = await timeEach(proofs, (i) =>
      inclusionProof((i * 104_729) % bigLog, bigLog, store.getHashes),
    );
    // Ceiling: fetching the ~20 subtree hashes a proof needs, with no tree logic.
    const keys = Array.from({ length: 20 }, (_, level) => ({ level, index: 0 }));
    const fetchTimes = await timeEach(proofs, () => store.getHashes(keys));
    const rows: BenchRow[] = [
      {
        name: 'anchoring.memory-proof-1M.p99',
        unit: 'ms',
        warden: pct(memoryTimes, 99),
        ceiling: pct(fetchTimes, 99),
        ceilingLabel: 'reading 20 stored subtree hashes (no proof logic)',
        goal: { op: '<=', value: 2 },
        note: `inclusion proof on a ${bigLog.toLocaleString('en')}-leaf log: p50 ${pct(memoryTimes, 50).toFixed(3)} ms, p99 ${pct(memoryTimes, 99).toFixed(3)} ms`,
      },
    ];
    rows.push(...(await storedCase('pglite', undefined, log)));
    if (databaseUrl) rows.push(...(await storedCase('postgres', databaseUrl, log)));
    return rows;
  },
});
