/**
 * `warden baseline`: a tenant's MTTM baseline — `import` an incidents CSV, `compute` it from the
 * alerts resolved before playbooks were enabled, `show` MTTM now against it.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { WardenError } from '../../errors.js';
import {
  computeBaseline,
  importBaseline,
  type SavedBaseline,
} from '../../observability/baseline.js';
import { parseInstant } from '../../observability/baseline-csv.js';
import { compareMttm, type MttmFigures } from '../../observability/mttm.js';
import { withRuntime } from '../context.js';
import type { Io } from '../output.js';

/** An instant with an offset, or a date (midnight UTC). */
function parseWhen(value: string): Date {
  const parsed = parseInstant(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if ('problem' in parsed) throw new InvalidArgumentError(`${parsed.problem}.`);
  return new Date(parsed.iso);
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > 366) {
    throw new InvalidArgumentError('expected a whole number of days from 1 to 366.');
  }
  return days;
}

const fmt = (m: number | null) => (m === null ? '—' : `${m} min`);
const figures = (f: MttmFigures) =>
  `${f.incidents} incident(s), mean ${fmt(f.meanMinutes)}, median ${fmt(f.medianMinutes)}`;

function printSaved(io: Io, verb: string, tenant: string, s: SavedBaseline): void {
  io.out(
    `${verb} the MTTM baseline of ${tenant}: ${figures(s)}, from ${s.window.from} to ${s.window.to} (receipt ${s.receipt.payload.id}).`,
  );
  if (s.ignoredColumns.length > 0) io.out(`  ignored columns: ${s.ignoredColumns.join(', ')}`);
}

export function baselineCommand(io: Io): Command {
  const baseline = new Command('baseline').description(
    "a tenant's MTTM baseline (time to mitigate before automation)",
  );
  baseline
    .command('import')
    .description('replace the baseline with an incidents CSV (alertname,started_at,mitigated_at)')
    .requiredOption('--tenant <id>', 'tenant')
    .argument('<incidents.csv>', 'CSV with a header row; see docs/observability.md')
    .action(async (file: string, opts: { tenant: string }, cmd: Command) => {
      const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
        throw new WardenError('not_found', `Cannot read ${file}: ${err.code ?? err.message}.`);
      });
      const saved = await withRuntime(cmd, (rt) =>
        importBaseline(
          { knex: rt.db.knex, ledger: rt.ledger },
          { tenant: opts.tenant, bytes, fileName: basename(file) },
        ),
      );
      printSaved(io, 'Imported', opts.tenant, saved);
      io.out(`  sha256 ${saved.receipt.payload.sha256}`);
    });
  baseline
    .command('compute')
    .description('replace the baseline with the alerts resolved before playbooks were enabled')
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption(
      '--until <ISO>',
      'when playbooks were enabled (e.g. 2026-03-01T00:00:00Z)',
      parseWhen,
    )
    .option('--since <ISO>', 'ignore alerts that started before this', parseWhen)
    .action(async (opts: { tenant: string; until: Date; since?: Date }, cmd: Command) => {
      const saved = await withRuntime(cmd, (rt) =>
        computeBaseline(
          { knex: rt.db.knex, ledger: rt.ledger },
          { tenant: opts.tenant, until: opts.until, ...(opts.since ? { since: opts.since } : {}) },
        ),
      );
      printSaved(io, 'Computed', opts.tenant, saved);
    });
  baseline
    .command('show')
    .description('MTTM over the last days against the baseline')
    .requiredOption('--tenant <id>', 'tenant')
    .option('--days <n>', 'window ending now', parseDays, 30)
    .action(async (opts: { tenant: string; days: number }, cmd: Command) => {
      const to = new Date();
      const from = new Date(to.getTime() - opts.days * 86_400_000);
      const {
        now,
        baseline: base,
        delta,
      } = await withRuntime(cmd, (rt) =>
        compareMttm(rt.db.knex, { tenant: opts.tenant, from, to }),
      );
      io.out(
        `MTTM of ${opts.tenant}, last ${opts.days} day(s): ${figures(now)}; ${now.open} open.`,
      );
      for (const p of now.byPlaybook) {
        io.out(`  ${p.playbook}: ${figures(p)}; baseline ${fmt(p.baselineMinutes)}`);
      }
      if (!base) {
        io.out('No baseline: warden baseline import or warden baseline compute makes one.');
        return;
      }
      io.out(`Baseline (${base.source}, ${base.from} to ${base.to}): ${figures(base)}.`);
      if (delta) {
        io.out(
          `Delta: mean ${fmt(delta.meanMinutes)}${delta.meanPercent === null ? '' : ` (${delta.meanPercent}%)`}, median ${fmt(delta.medianMinutes)}.`,
        );
      }
    });
  return baseline;
}
