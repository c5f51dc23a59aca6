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

const escapeCell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/**
 * The benchmark report as Markdown: the machine and commit, then one row per figure — Warden, the
 * ceiling measured in the same run, the ratio, the goal and whether it was met — and what each
 * ceiling is.
 */
export function formatMarkdown(
  rows: readonly BenchRow[],
  meta: {
    generatedAt: string;
    commit: string | undefined;
    dirty: boolean;
    node: string;
    cpus: number;
    cpuModel: string | undefined;
    seconds: number;
    loadAverage: { before: number; after: number };
  },
): string {
  const met = rows.filter((r) => goalMet(r) === true).length;
  const missed = rows.filter((r) => goalMet(r) === false).length;
  const out = [
    '# Benchmark report',
    '',
    `Generated ${meta.generatedAt} by \`npm run bench\` at commit \`${meta.commit ?? 'unknown'}\`${meta.dirty ? ' (with uncommitted changes)' : ''}, Node ${meta.node}, ${meta.cpus} × ${meta.cpuModel ?? 'CPU'}. The suite took ${meta.seconds.toFixed(0)} s; 1-minute load average ${meta.loadAverage.before.toFixed(1)} before, ${meta.loadAverage.after.toFixed(1)} after.`,
    '',
    `Goals: ${met} met, ${missed} missed, ${rows.length - met - missed} without a goal or a figure. Ratio = Warden ÷ ceiling, both measured in this run (bench/README.md says what each is).`,
    '',
    '| figure | Warden | ceiling | ratio | goal | met |',
    '|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const [name, warden, ceiling, ratio, goal, verdict] = cells(row);
    out.push(
      `| ${[name, warden, ceiling, ratio, goal, verdict === 'NO' ? '**no**' : verdict].map((c) => escapeCell(c ?? '')).join(' | ')} |`,
    );
  }
  out.push('', '## Ceilings and notes', '');
  for (const row of rows) {
    const detail = row.error
      ? `error: ${row.error}`
      : [row.ceilingLabel, row.note].filter(Boolean).join('; ');
    out.push(`- \`${row.name}\`: ${escapeCell(detail)}`);
  }
  return `${out.join('\n')}\n`;
}

/** Writes the rows, with ratio, goal verdict and the machine they ran on, as JSON and Markdown. */
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
  await writeFile(path.replace(/\.json$/, '.md'), formatMarkdown(rows, report));
}
