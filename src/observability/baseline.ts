/**
 * Baseline: a tenant's time to mitigate before automation, to compare MTTM against. Imported from an
 * incidents CSV (`warden baseline import`) or computed from the alerts resolved before playbooks
 * were enabled (`warden baseline compute`). Either replaces the tenant's baseline in one transaction
 * with its receipt — all of it or none of it.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Receipt, ReceiptDraft } from '../ledger/receipt.js';
import { type BaselineMeta, replaceBaseline, resolvedAlerts } from '../storage/baselines.js';
import { getTenant } from '../storage/tenants.js';
import { type BaselineIncident, parseBaselineCsv, type RowProblem } from './baseline-csv.js';

export interface BaselineDeps {
  knex: Knex;
  ledger: Ledger;
}

export interface SavedBaseline {
  receipt: Receipt;
  incidents: number;
  /** The earliest start and the latest mitigation among the incidents. */
  window: { from: string; to: string };
  meanMinutes: number;
  medianMinutes: number;
  /** Header columns the import did not read. */
  ignoredColumns: string[];
}

/** Problems listed in the error message (all of them are in its `details`). */
const listed = 20;

/**
 * Validates every row of an incidents CSV, then replaces the tenant's baseline with it and appends
 * a `baseline.imported` receipt (the file's SHA-256, row count and window). Any bad row rejects the
 * whole file: `invalid`, naming each bad line; nothing is imported.
 * @example
 * const saved = await importBaseline({ knex, ledger }, { tenant: 'acme', bytes: readFileSync(file) });
 */
export async function importBaseline(
  deps: BaselineDeps,
  opts: { tenant: string; bytes: Uint8Array; fileName?: string },
): Promise<SavedBaseline> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(opts.bytes);
  } catch (err) {
    throw new WardenError('invalid', 'The baseline file is not UTF-8 text.', { cause: err });
  }
  const parsed = parseBaselineCsv(text);
  if (parsed.problems.length > 0) throw badRows(parsed.problems);
  const sha256 = createHash('sha256').update(opts.bytes).digest('hex');
  const saved = await save(deps, {
    tenant: opts.tenant,
    meta: { source: 'import', sha256, fileName: opts.fileName ?? null },
    load: async () => parsed.incidents,
    draft: (s) => ({
      kind: 'baseline.imported',
      data: {
        sha256,
        ...(opts.fileName ? { file: opts.fileName } : {}),
        rows: s.incidents,
        window: s.window,
        meanMinutes: s.meanMinutes,
        medianMinutes: s.medianMinutes,
        ...(parsed.ignoredColumns.length > 0 ? { ignoredColumns: parsed.ignoredColumns } : {}),
      },
    }),
  });
  return { ...saved, ignoredColumns: parsed.ignoredColumns };
}

/**
 * Computes the tenant's baseline from its own alerts: those that started before `until` (and at or
 * after `since`) and were resolved before `until` — from triggers alone, since no playbook
 * mitigated them — then replaces the baseline and appends a `baseline.computed` receipt.
 * `not_found` when there is no such alert (the old baseline stays).
 * @example
 * await computeBaseline({ knex, ledger }, { tenant: 'acme', until: new Date('2026-03-01T00:00:00Z') });
 */
export async function computeBaseline(
  deps: BaselineDeps,
  opts: { tenant: string; until: Date; since?: Date },
): Promise<SavedBaseline> {
  const range = { since: opts.since ?? null, until: opts.until };
  if (range.since && range.since >= range.until) {
    throw new WardenError('invalid', '--since must be before --until.');
  }
  const saved = await save(deps, {
    tenant: opts.tenant,
    meta: { source: 'compute', sha256: null, fileName: null },
    load: (trx) => resolvedAlerts(trx, opts.tenant, range),
    draft: (s) => ({
      kind: 'baseline.computed',
      data: {
        since: range.since?.toISOString() ?? null,
        until: range.until.toISOString(),
        rows: s.incidents,
        window: s.window,
        meanMinutes: s.meanMinutes,
        medianMinutes: s.medianMinutes,
      },
    }),
  });
  return { ...saved, ignoredColumns: [] };
}

type Summary = Omit<SavedBaseline, 'receipt' | 'ignoredColumns'>;

/** Loads the incidents, then replaces the baseline and appends its receipt, in one transaction. */
async function save(
  deps: BaselineDeps,
  opts: {
    tenant: string;
    meta: Pick<BaselineMeta, 'source' | 'sha256' | 'fileName'>;
    load: (trx: Knex.Transaction) => Promise<readonly BaselineIncident[]>;
    draft: (s: Summary) => ReceiptDraft;
  },
): Promise<Omit<SavedBaseline, 'ignoredColumns'>> {
  const { tenant } = opts;
  return deps.knex.transaction(async (trx) => {
    if (!(await getTenant(trx, tenant))) {
      throw new WardenError('not_found', `No tenant ${tenant}.`);
    }
    const incidents = await opts.load(trx);
    if (incidents.length === 0) {
      throw new WardenError(
        'not_found',
        `Tenant ${tenant} has no alert that started and was resolved in that window: no baseline to compute.`,
      );
    }
    const summary = summarize(incidents);
    const [receipt] = await deps.ledger.appendIn(trx, tenant, [opts.draft(summary)]);
    if (!receipt) throw new Error('the ledger returned no receipt');
    await replaceBaseline(
      trx,
      tenant,
      {
        ...opts.meta,
        incidents: summary.incidents,
        windowFrom: summary.window.from,
        windowTo: summary.window.to,
        receiptId: receipt.payload.id,
      },
      incidents,
    );
    return { ...summary, receipt };
  });
}

/** Count, window, mean and median minutes (the median of an even count: the mean of the middle two). */
function summarize(incidents: readonly BaselineIncident[]): Summary {
  const minutes = incidents
    .map((i) => (Date.parse(i.mitigatedAt) - Date.parse(i.startedAt)) / 60_000)
    .sort((a, b) => a - b);
  const mid = minutes.length / 2;
  const median =
    minutes.length % 2 === 1
      ? (minutes[Math.floor(mid)] as number)
      : ((minutes[mid - 1] as number) + (minutes[mid] as number)) / 2;
  const starts = incidents.map((i) => i.startedAt).sort();
  const ends = incidents.map((i) => i.mitigatedAt).sort();
  return {
    incidents: incidents.length,
    window: { from: starts[0] as string, to: ends.at(-1) as string },
    meanMinutes: round2(minutes.reduce((a, b) => a + b, 0) / minutes.length),
    medianMinutes: round2(median),
  };
}

function badRows(problems: readonly RowProblem[]): WardenError {
  const lines = new Set(problems.map((p) => p.line));
  const shown = problems.slice(0, listed).map((p) => `  line ${p.line}: ${p.problem}`);
  const more = problems.length > listed ? [`  … and ${problems.length - listed} more`] : [];
  return new WardenError(
    'invalid',
    [
      `The baseline file has ${problems.length} problem(s) on ${lines.size} line(s); nothing was imported:`,
      ...shown,
      ...more,
    ].join('\n'),
    { details: { problems } },
  );
}

const round2 = (v: number) => Math.round(v * 100) / 100;
