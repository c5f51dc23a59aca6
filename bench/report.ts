/** Bench report: the compact result table for the terminal and the JSON written to bench/results/. */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { type BenchRow, goalMet, ratioOf } from './benchmark.js';

function formatValue(value: number | null, unit: string): string {
  if (value === null) return '—';
  const digits = value >= 100 ? 0 : 2;
  const text = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return `${text} ${unit}`;
}

function cells(row: BenchRow): string[] {
  const ratio = ratioOf(row);
  const met = goalMet(row);
  const goal = row.goal ? `${row.goal.op} ${formatValue(row.goal.value, row.unit)}` : '—';
  return [
    row.name,
    row.error ? 'error' : formatValue(row.warden, row.unit),
    formatValue(row.ceiling, row.unit === 'receipts/s' ? 'signs/s' : row.unit),
    ratio === null ? '—' : `${ratio.toFixed(2)}×`,
    goal,
    met === null ? '—' : met ? 'yes' : 'NO',
  ];
}

/** `name | warden | ceiling | ratio | goal | met?`, aligned, then ceilings, notes and errors. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['name', 'warden', 'ceiling', 'ratio', 'goal', 'met?'];
  const body = rows.map(cells);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)];
  out.push('', 'ratio = warden ÷ ceiling (ceiling measured in the same run)');
  for (const row of rows) {
    const detail = row.error ? `ERROR ${row.error}` : [row.ceilingLabel, row.note].join('; ');
    out.push(`  ${row.name}: ${detail}`);
  }
  return out.join('\n');
}

function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Writes the rows, with ratio, goal verdict and the machine they ran on, as JSON. */
export async function writeResults(
  path: string,
  root: string,
  rows: readonly BenchRow[],
  meta: { benchmarks: string[]; seconds: number; loadAverage: { before: number; after: number } },
): Promise<void> {
  const commit = git(root, ['rev-parse', 'HEAD']);
  const dirty = (git(root, ['status', '--porcelain']) ?? '') !== '';
  const report = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    commit,
    dirty,
    ...meta,
    results: rows.map((row) => ({ ...row, ratio: ratioOf(row), met: goalMet(row) })),
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}
