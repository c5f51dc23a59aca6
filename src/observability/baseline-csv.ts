/**
 * Baseline CSV: reads and validates an incidents file for `warden baseline import` — a header row
 * naming `alertname`, `started_at` and `mitigated_at` (any order, other columns ignored), then one
 * incident per row. Every row is checked and every problem reported with its line, so one pass
 * tells a person everything to fix.
 */
import { CsvSyntaxError, parseCsv } from './csv-records.js';

const baselineColumns = ['alertname', 'started_at', 'mitigated_at'] as const;

/** Most incidents one file may hold. */
const maxBaselineRows = 100_000;
const maxAlertname = 200;

export interface BaselineIncident {
  /** The CSV line of the incident; null when computed from stored alerts. */
  line: number | null;
  alertname: string;
  /** ISO 8601 UTC. */
  startedAt: string;
  mitigatedAt: string;
}

export interface RowProblem {
  line: number;
  problem: string;
}

export interface BaselineCsv {
  incidents: BaselineIncident[];
  problems: RowProblem[];
  /** Header columns other than the three read (kept out of the baseline). */
  ignoredColumns: string[];
}

/**
 * An RFC 3339 instant with an explicit offset: `2026-01-05T10:00:00Z`, `2026-01-05 10:00+01:00`.
 * Seconds and fractions are optional; a time without an offset is ambiguous and refused.
 */
const instant =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/;

/** The instant in ISO 8601 UTC, or a reason it is not one. */
export function parseInstant(text: string): { iso: string } | { problem: string } {
  const m = instant.exec(text.trim());
  if (!m) {
    return {
      problem: `"${clip(text)}" is not a timestamp with an offset, such as 2026-01-05T10:00:00Z`,
    };
  }
  const [, y, mo, d, h, mi, s = '00', frac = '', offset = 'Z'] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    day.getUTCMonth() !== Number(mo) - 1 ||
    day.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return { problem: `"${clip(text)}" is not a valid date and time` };
  }
  const zone = /^[Zz]$/.test(offset) ? 'Z' : offset.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const ms = (frac || '.').padEnd(4, '0').slice(0, 4);
  return { iso: new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${zone}`).toISOString() };
}

/**
 * @example
 * const { incidents, problems } = parseBaselineCsv(
 *   'alertname,started_at,mitigated_at\nIngestLag,2026-01-05T10:00:00Z,2026-01-05T10:42:00Z\n',
 * );
 * // incidents: [{ line: 2, alertname: 'IngestLag', startedAt: '2026-01-05T10:00:00.000Z', … }]
 */
export function parseBaselineCsv(text: string): BaselineCsv {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text).filter((r) => r.fields.length > 1 || r.fields[0]?.trim() !== '');
  } catch (err) {
    if (err instanceof CsvSyntaxError) {
      return {
        incidents: [],
        problems: [{ line: err.line, problem: err.message }],
        ignoredColumns: [],
      };
    }
    throw err;
  }
  const [header, ...rows] = records;
  if (!header) {
    return {
      incidents: [],
      problems: [{ line: 1, problem: 'the file is empty' }],
      ignoredColumns: [],
    };
  }
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const problems: RowProblem[] = [];
  const index = new Map<string, number>();
  for (const [i, name] of names.entries()) {
    if (index.has(name))
      problems.push({ line: header.line, problem: `column "${name}" appears twice` });
    index.set(name, i);
  }
  const missing = baselineColumns.filter((c) => !index.has(c));
  if (missing.length > 0) {
    problems.push({
      line: header.line,
      problem: `the header lacks ${missing.map((c) => `"${c}"`).join(', ')} (expected ${baselineColumns.join(',')})`,
    });
  }
  const ignoredColumns = names.filter((n) => !(baselineColumns as readonly string[]).includes(n));
  if (problems.length > 0) return { incidents: [], problems, ignoredColumns };
  if (rows.length === 0) problems.push({ line: header.line, problem: 'the file has no incidents' });
  if (rows.length > maxBaselineRows) {
    problems.push({
      line: header.line,
      problem: `the file has ${rows.length} incidents; at most ${maxBaselineRows} are taken`,
    });
  }
  const incidents: BaselineIncident[] = [];
  const column = (fields: string[], name: (typeof baselineColumns)[number]) =>
    fields[index.get(name) as number] ?? '';
  for (const row of rows) {
    if (row.fields.length !== names.length) {
      problems.push({
        line: row.line,
        problem: `${row.fields.length} field(s) where the header has ${names.length}`,
      });
      continue;
    }
    const incident = checkRow(row.line, {
      alertname: column(row.fields, 'alertname'),
      started: column(row.fields, 'started_at'),
      mitigated: column(row.fields, 'mitigated_at'),
    });
    if ('problems' in incident) problems.push(...incident.problems);
    else incidents.push(incident);
  }
  return { incidents, problems, ignoredColumns };
}

function checkRow(
  line: number,
  raw: { alertname: string; started: string; mitigated: string },
): BaselineIncident | { problems: RowProblem[] } {
  const found: string[] = [];
  const alertname = raw.alertname.trim();
  if (alertname === '') found.push('alertname is empty');
  else if (alertname.length > maxAlertname)
    found.push(`alertname is over ${maxAlertname} characters`);
  const started = parseInstant(raw.started);
  const mitigated = parseInstant(raw.mitigated);
  if ('problem' in started) found.push(`started_at: ${started.problem}`);
  if ('problem' in mitigated) found.push(`mitigated_at: ${mitigated.problem}`);
  if ('iso' in started && 'iso' in mitigated && mitigated.iso < started.iso) {
    found.push(`mitigated_at (${mitigated.iso}) is before started_at (${started.iso})`);
  }
  if (found.length > 0 || !('iso' in started) || !('iso' in mitigated)) {
    return { problems: found.map((problem) => ({ line, problem })) };
  }
  return { line, alertname, startedAt: started.iso, mitigatedAt: mitigated.iso };
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
