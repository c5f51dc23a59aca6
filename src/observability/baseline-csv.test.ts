import { describe, expect, it } from 'vitest';
import { parseBaselineCsv, parseInstant } from './baseline-csv.js';

describe('parseInstant', () => {
  it('takes RFC 3339 instants with an offset and returns them in UTC', () => {
    expect(parseInstant('2026-01-05T10:00:00Z')).toEqual({ iso: '2026-01-05T10:00:00.000Z' });
    expect(parseInstant('2026-01-05 11:30+01:00')).toEqual({ iso: '2026-01-05T10:30:00.000Z' });
    expect(parseInstant('2026-01-05T10:00:00.1234-0200')).toEqual({
      iso: '2026-01-05T12:00:00.123Z',
    });
  });

  it('refuses a time without an offset and dates that do not exist', () => {
    expect(parseInstant('2026-01-05T10:00:00')).toHaveProperty('problem');
    expect(parseInstant('2026-02-30T10:00:00Z')).toEqual({
      problem: '"2026-02-30T10:00:00Z" is not a valid date and time',
    });
    expect(parseInstant('yesterday')).toHaveProperty('problem');
  });
});

describe('parseBaselineCsv', () => {
  it('reads the three columns in any order, ignores others and skips blank lines', () => {
    const csv = [
      'Mitigated_At,id,alertname,started_at',
      '2026-01-05T10:42:00Z,INC-1,IngestLag,2026-01-05T10:00:00Z',
      '',
      '"2026-01-06T08:10:00Z",INC-2,"Disk, full",2026-01-06T08:00:00Z',
    ].join('\r\n');
    expect(parseBaselineCsv(csv)).toEqual({
      incidents: [
        {
          line: 2,
          alertname: 'IngestLag',
          startedAt: '2026-01-05T10:00:00.000Z',
          mitigatedAt: '2026-01-05T10:42:00.000Z',
        },
        {
          line: 4,
          alertname: 'Disk, full',
          startedAt: '2026-01-06T08:00:00.000Z',
          mitigatedAt: '2026-01-06T08:10:00.000Z',
        },
      ],
      problems: [],
      ignoredColumns: ['id'],
    });
  });

  it('reports every bad row with its line and returns no incidents worth importing', () => {
    const csv = [
      'alertname,started_at,mitigated_at',
      'Ok,2026-01-05T10:00:00Z,2026-01-05T10:30:00Z',
      ',2026-01-05T10:00:00Z,2026-01-05T10:30:00Z',
      'Late,2026-01-05T10:00:00Z,2026-01-05T09:00:00Z',
      'Naive,2026-01-05 10:00,2026-01-05T10:30:00Z',
      'Short,2026-01-05T10:00:00Z',
    ].join('\n');
    const { problems } = parseBaselineCsv(csv);
    expect(problems).toEqual([
      { line: 3, problem: 'alertname is empty' },
      {
        line: 4,
        problem:
          'mitigated_at (2026-01-05T09:00:00.000Z) is before started_at (2026-01-05T10:00:00.000Z)',
      },
      {
        line: 5,
        problem:
          'started_at: "2026-01-05 10:00" is not a timestamp with an offset, such as 2026-01-05T10:00:00Z',
      },
      { line: 6, problem: '2 field(s) where the header has 3' },
    ]);
  });

  it('refuses a header without the required columns, an empty file and a file of only a header', () => {
    expect(parseBaselineCsv('alert,started_at,mitigated_at\nx,y,z\n').problems).toEqual([
      {
        line: 1,
        problem: 'the header lacks "alertname" (expected alertname,started_at,mitigated_at)',
      },
    ]);
    expect(parseBaselineCsv('').problems).toEqual([{ line: 1, problem: 'the file is empty' }]);
    expect(parseBaselineCsv('alertname,started_at,mitigated_at\n').problems).toEqual([
      { line: 1, problem: 'the file has no incidents' },
    ]);
  });

  it('reports a CSV syntax error at its line', () => {
    const csv = 'alertname,started_at,mitigated_at\n"Open,2026-01-05T10:00:00Z,x\n';
    expect(parseBaselineCsv(csv).problems).toEqual([
      { line: 2, problem: 'a quoted field is never closed' },
    ]);
  });
});
