import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from './csv-records.js';

describe('parseCsv', () => {
  it('reads fields, quoted commas, doubled quotes and CRLF or LF line ends', () => {
    expect(parseCsv('a,b,c\r\n"x, y","say ""hi""",\nlast,1,2')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', ''] },
      { line: 3, fields: ['last', '1', '2'] },
    ]);
  });

  it('keeps line breaks inside quotes and numbers the following records by physical line', () => {
    expect(parseCsv('"one\r\ntwo\nthree",x\nnext,y\n')).toEqual([
      { line: 1, fields: ['one\r\ntwo\nthree', 'x'] },
      { line: 4, fields: ['next', 'y'] },
    ]);
  });

  it('skips a UTF-8 BOM and reads a blank line as one empty field', () => {
    expect(parseCsv('\uFEFFa\n\nb\n')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, fields: [''] },
      { line: 3, fields: ['b'] },
    ]);
  });

  it('names the line of an unclosed quote, a stray quote and text after a closing quote', () => {
    const lineOf = (text: string) => {
      try {
        parseCsv(text);
      } catch (err) {
        if (err instanceof CsvSyntaxError) return [err.line, err.message];
      }
      return undefined;
    };
    expect(lineOf('a\nb\n"open,x\n')).toEqual([3, 'a quoted field is never closed']);
    expect(lineOf('a\n5" disk,x\n')).toEqual([
      2,
      'a quote inside an unquoted field (quote the field)',
    ]);
    expect(lineOf('a\n"q"x,y\n')).toEqual([2, 'text follows the closing quote of a field']);
  });
});
