/** Benchmark declarations: what a benchmark measures and the rows it reports, Warden beside its ceiling. */

export interface Goal {
  op: '>=' | '<=';
  value: number;
}

/** One figure: Warden's measurement beside the ceiling measured in the same run. */
export interface BenchRow {
  /** `<benchmark>.<case>`, e.g. `ledger.postgres`. */
  name: string;
  unit: string;
  /** Median (or single) measurement; null when the case was skipped or failed. */
  warden: number | null;
  ceiling: number | null;
  /** What the ceiling is, e.g. `node:crypto Ed25519 signs/s`. */
  ceilingLabel: string;
  goal?: Goal;
  /** Every measured run, so a reader can see the spread behind the median. */
  samples?: { warden: number[]; ceiling: number[] };
  note?: string;
  /** Set when the case could not be measured. */
  error?: string;
}

export interface BenchContext {
  /** PostgreSQL connection string; PostgreSQL cases are skipped without it. */
  databaseUrl: string | undefined;
  /** The repository root (where `bin/warden.js` lives). */
  root: string;
  /** Progress lines (stderr), kept apart from the result table. */
  log(line: string): void;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

/** Returns the declaration unchanged, typed. */
export function defineBenchmark(benchmark: Benchmark): Benchmark {
  return benchmark;
}

/** Warden ÷ ceiling, or null when either side is missing. */
export function ratioOf(row: BenchRow): number | null {
  if (row.warden === null || row.ceiling === null || row.ceiling === 0) return null;
  return row.warden / row.ceiling;
}

/** Whether the row meets its goal; null when it has no goal or no figure. */
export function goalMet(row: BenchRow): boolean | null {
  if (!row.goal || row.warden === null) return null;
  return row.goal.op === '>=' ? row.warden >= row.goal.value : row.warden <= row.goal.value;
}
