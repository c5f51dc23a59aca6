import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasVectors, vectorsDir } from '../../test/helpers/vectors.js';
import { isWardenError } from '../errors.js';
import { canonicalBytes, canonicalText } from './canonical-json.js';

const jcsDir = join(vectorsDir, 'jcs-rfc8785');
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/** The double whose IEEE-754 bits are `hex` (big-endian; upstream omits leading zeros). */
function doubleOf(hex: string): number {
  return Buffer.from(hex.padStart(16, '0'), 'hex').readDoubleBE(0);
}

function expectWardenError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isWardenError(thrown), `expected a WardenError, got ${String(thrown)}`).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
}

describe('canonicalText', () => {
  it('sorts keys, drops whitespace and keeps the UTF-8 of non-ASCII strings', () => {
    expect(canonicalText({ b: [1, 'é'], a: { d: true, c: null } })).toBe(
      '{"a":{"c":null,"d":true},"b":[1,"é"]}',
    );
    expect(canonicalBytes({ k: '€' }).toString('hex')).toBe('7b226b223a22e282ac227d');
  });

  it('rejects NaN, Infinity, -Infinity and BigInt with an invalid WardenError', () => {
    for (const bad of [NaN, Infinity, -Infinity, { n: NaN }, [Infinity], 1n]) {
      expectWardenError(() => canonicalText(bad), 'invalid');
      expectWardenError(() => canonicalBytes(bad), 'invalid');
    }
  });

  it('rejects undefined and lone surrogates with an invalid WardenError', () => {
    expectWardenError(() => canonicalText(undefined), 'invalid');
    expectWardenError(() => canonicalText({ s: '\ud800' }), 'invalid');
  });
});

describe.skipIf(!hasVectors)('canonicalBytes (RFC 8785 vectors)', () => {
  const cases = hasVectors
    ? readdirSync(join(jcsDir, 'input')).filter((f) => f.endsWith('.json'))
    : [];

  it('finds the six upstream input/output pairs', () => {
    expect(cases.sort()).toEqual([
      'arrays.json',
      'french.json',
      'structures.json',
      'unicode.json',
      'values.json',
      'weird.json',
    ]);
  });

  it.each(cases)('reproduces output/%s byte for byte', (file) => {
    const input = readJson(join(jcsDir, 'input', file));
    const expected = readFileSync(join(jcsDir, 'output', file));
    expect(canonicalBytes(input).equals(expected)).toBe(true);
    expect(canonicalText(input)).toBe(expected.toString('utf8'));
    const hex = readFileSync(join(jcsDir, 'outhex', file.replace(/\.json$/, '.txt')), 'utf8');
    expect(canonicalBytes(input).toString('hex')).toBe(hex.replace(/\s+/g, ''));
  });

  it('serialises every Appendix B number sample and rejects NaN and Infinity', () => {
    const { samples } = readJson(join(jcsDir, 'rfc8785-appendixB-numbers.json')) as {
      samples: Array<{ ieee754_hex: string; json: string | null }>;
    };
    expect(samples.length).toBe(26);
    for (const { ieee754_hex, json } of samples) {
      const value = doubleOf(ieee754_hex);
      if (json === null) expectWardenError(() => canonicalText(value), 'invalid');
      else expect(canonicalText(value), ieee754_hex).toBe(json);
    }
  });

  it('reproduces the §3.2 serialisation example, text and UTF-8 hex', () => {
    const { serialization } = readJson(join(jcsDir, 'rfc8785-section3-examples.json')) as {
      serialization: { input_json: string; expected_canonical: string; expected_utf8_hex: string };
    };
    const input = JSON.parse(serialization.input_json);
    expect(canonicalText(input)).toBe(serialization.expected_canonical);
    expect(canonicalBytes(input).toString('hex')).toBe(serialization.expected_utf8_hex);
  });

  it('orders properties by UTF-16 code units as in the §3.2.3 example', () => {
    const { sorting } = readJson(join(jcsDir, 'rfc8785-section3-examples.json')) as {
      sorting: { input_json: string; expected_value_order: string[] };
    };
    const text = canonicalText(JSON.parse(sorting.input_json));
    const values = [...text.matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    expect(values).toEqual(sorting.expected_value_order);
  });

  it('matches the first 10,000 lines of the ES6 number test file', () => {
    const lines = readFileSync(join(jcsDir, 'es6-numbers-first10000.txt'), 'utf8')
      .split('\n')
      .filter((line) => line !== '');
    expect(lines.length).toBe(10_000);
    const mismatches: string[] = [];
    for (const line of lines) {
      const [hex = '', expected] = line.split(',');
      const actual = canonicalText(doubleOf(hex));
      if (actual !== expected) mismatches.push(`${hex}: got ${actual}, expected ${expected}`);
    }
    expect(mismatches).toEqual([]);
  });
});

describe('canonicalText against the canonicalize package', () => {
  it('writes the same bytes for generated JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalText(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the same bytes for objects with integer-like, "__proto__" and non-ASCII keys', () => {
    const cases = [
      { b: 1, 10: 'ten', 9: 'nine', a: [{ 2: true, 1: false }] },
      JSON.parse('{"__proto__":{"x":1},"a":2}'),
      { é: 1, e: 2, '😂': 3, דּ: 4, '\u0000': 5 },
      { n: -0, big: 1e21, small: 5e-324, f: 0.1 + 0.2 },
    ];
    for (const value of cases) expect(canonicalText(value)).toBe(canonicalize(value));
  });
});
