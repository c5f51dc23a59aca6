/**
 * The benchmark suite: `npm run bench [name…]`. Runs every benchmark (or the named ones), prints
 * Warden's figures beside their ceilings with the ratio and the goal, and writes
 * bench/results/latest.json. Goals are reported, never asserted: the exit code is 1 only when a
 * benchmark could not be measured.
 */
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anchoringBenchmark } from './anchoring.js';
import type { BenchRow } from './benchmark.js';
import { guardrailsBenchmark } from './guardrails.js';
import { ingressBenchmark } from './ingress.js';
import { ledgerBenchmark } from './ledger.js';
import { formatTable, writeResults } from './report.js';
import { reportsBenchmark } from './reports.js';
import { runtimeBenchmark } from './runtime.js';
import { startupBenchmark } from './startup.js';
import { verifyBenchmark } from './verify.js';

const benchmarks = [
  ledgerBenchmark,
  anchoringBenchmark,
  verifyBenchmark,
  startupBenchmark,
  ingressBenchmark,
  runtimeBenchmark,
  guardrailsBenchmark,
  reportsBenchmark,
];

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const resultsPath = join(here, 'results/latest.json');

const names = process.argv.slice(2);
const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
if (unknown.length > 0) {
  const known = benchmarks.map((b) => b.name).join(', ');
  process.stderr.write(`unknown benchmark: ${unknown.join(', ')} (known: ${known})\n`);
  process.exit(2);
}
const selected = names.length > 0 ? benchmarks.filter((b) => names.includes(b.name)) : benchmarks;

const log = (line: string) => process.stderr.write(`${line}\n`);
const loadBefore = loadavg()[0] ?? 0;
const started = performance.now();
const rows: BenchRow[] = [];
for (const benchmark of selected) {
  try {
    rows.push(
      ...(await benchmark.run({ databaseUrl: process.env.DATABASE_URL || undefined, root, log })),
    );
  } catch (err) {
    rows.push({
      name: benchmark.name,
      unit: '',
      warden: null,
      ceiling: null,
      ceilingLabel: '',
      error: (err as Error).message,
    });
  }
}
const seconds = (performance.now() - started) / 1000;
const load = { before: loadBefore, after: loadavg()[0] ?? 0 };

process.stdout.write(`\n${formatTable(rows)}\n\n`);
process.stdout.write(
  `suite took ${seconds.toFixed(1)} s; 1-min load average ${load.before.toFixed(1)} before, ` +
    `${load.after.toFixed(1)} after (on a busy machine compare ratios, not absolute figures)\n`,
);
await writeResults(resultsPath, root, rows, {
  benchmarks: selected.map((b) => b.name),
  seconds,
  loadAverage: load,
});
process.stdout.write(`results: ${resultsPath}\n`);
process.exit(rows.some((r) => r.error) ? 1 : 0);
