/**
 * CSV records: a small RFC 4180 reader — comma-separated fields, double-quoted fields that may hold
 * commas, quotes (`""`) and line breaks; CRLF, LF or CR between records; an optional UTF-8 BOM.
 * Each record keeps the line it starts on, so a caller can point at the row a person must fix.
 */

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  line: number;
  fields: string[];
}

/** The file is not CSV from `line` on (an unclosed quote, a stray quote). */
export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const isBreak = (c: string | undefined) => c === '\n' || c === '\r';

/**
 * Reads every record of `text`. A blank line is a record of one empty field.
 * @example
 * parseCsv('a,b\r\n"x, ""y""",z\n'); // [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['x, "y"', 'z'] }]
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < n) {
    const record: CsvRecord = { line, fields: [] };
    for (;;) {
      let value: string;
      if (text[i] === '"') {
        const opened = line;
        value = '';
        i += 1;
        for (;;) {
          const quote = text.indexOf('"', i);
          if (quote === -1) throw new CsvSyntaxError(opened, 'a quoted field is never closed');
          const chunk = text.slice(i, quote);
          line += countBreaks(chunk);
          value += chunk;
          if (text[quote + 1] === '"') {
            value += '"';
            i = quote + 2;
            continue;
          }
          i = quote + 1;
          break;
        }
        if (i < n && text[i] !== ',' && !isBreak(text[i])) {
          throw new CsvSyntaxError(line, 'text follows the closing quote of a field');
        }
      } else {
        const from = i;
        while (i < n && text[i] !== ',' && !isBreak(text[i])) {
          if (text[i] === '"') {
            throw new CsvSyntaxError(line, 'a quote inside an unquoted field (quote the field)');
          }
          i += 1;
        }
        value = text.slice(from, i);
      }
      record.fields.push(value);
      if (text[i] === ',') {
        i += 1;
        continue;
      }
      if (text[i] === '\r') i += 1;
      if (text[i] === '\n') i += 1;
      line += 1;
      break;
    }
    records.push(record);
  }
  return records;
}

/** Line breaks in a quoted chunk: CRLF, LF and lone CR each count once. */
function countBreaks(chunk: string): number {
  let count = 0;
  for (let j = 0; j < chunk.length; j += 1) {
    if (chunk[j] === '\n' || (chunk[j] === '\r' && chunk[j + 1] !== '\n')) count += 1;
  }
  return count;
}
