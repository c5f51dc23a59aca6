import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasVectors, vectorsDir } from '../../test/helpers/vectors.js';
import {
  commitFields,
  decodeDisclosure,
  discloseField,
  disclosureDigest,
  isDisclosed,
  parseDisclosurePolicy,
  revealFields,
} from './disclosure.js';

interface SectionVector {
  source: string;
  /** [salt, name, value] for a claim, [salt, value] for an array element. */
  array: unknown[];
  disclosure: string;
  sha256_b64url: string | null;
  computed_sha256_b64url: string;
}
interface AppendixVector {
  label: string;
  disclosure: string;
  sha256_b64url: string;
  decoded: unknown[];
}

const read = <T>(name: string): T[] =>
  JSON.parse(readFileSync(join(vectorsDir, 'sd-jwt-rfc9901', name), 'utf8')) as T[];

describe.skipIf(!hasVectors)('disclosure digests against RFC 9901 vectors', () => {
  it('hashes every §4.2 Disclosure string to its published digest', () => {
    const vectors = read<SectionVector>('disclosures-section4.json');
    expect(vectors.length).toBeGreaterThan(3);
    for (const v of vectors) {
      expect(disclosureDigest(v.disclosure), v.source).toBe(
        v.sha256_b64url ?? v.computed_sha256_b64url,
      );
      if (v.array.length === 3) {
        const decoded = decodeDisclosure(v.disclosure);
        expect(decoded.ok && [decoded.salt, decoded.name, decoded.value], v.source).toEqual(
          v.array,
        );
      }
    }
  });

  it('hashes all the draft-22 appendix Disclosures (§5.1, §6, App. A)', () => {
    const vectors = read<AppendixVector>('disclosures-draft22-appendix.json');
    expect(vectors.length).toBe(87);
    for (const v of vectors) {
      expect(disclosureDigest(v.disclosure), v.label).toBe(v.sha256_b64url);
      // Array-element disclosures are [salt, value]; ours are always claims: [salt, name, value].
      if (v.decoded.length === 3) {
        const d = decodeDisclosure(v.disclosure);
        expect(d.ok && d.value, v.label).toEqual(v.decoded[2]);
      }
    }
  });

  it('makes the compact-JSON variant byte for byte from the same salt, name and value', () => {
    const v = read<SectionVector>('disclosures-section4.json').find((x) =>
      x.source.includes('no whitespace'),
    ) as SectionVector;
    const [salt, name, value] = v.array as [string, string, string];
    const d = discloseField(name, value, salt);
    expect(d.disclosure).toBe(v.disclosure);
    expect(d.digest).toBe(v.computed_sha256_b64url);
  });
});

describe('commitFields', () => {
  it('salts each field afresh, so equal values get unrelated digests', () => {
    const a = commitFields({ actor: 'slack:U1' });
    const b = commitFields({ actor: 'slack:U1' });
    expect(a.digests[0]).not.toBe(b.digests[0]);
    const d = decodeDisclosure(a.disclosures[0]?.disclosure as string);
    expect(d).toMatchObject({ ok: true, name: 'actor', value: 'slack:U1' });
    expect(d.ok && d.salt.length).toBe(22); // 128 bits, base64url
  });

  it('lists the digests sorted, whatever the order of the fields', () => {
    const { digests } = commitFields({ z: 1, a: 2, m: { deep: [1, 2] } });
    expect(digests).toEqual([...digests].sort());
    expect(digests).toHaveLength(3);
  });
});

describe('decodeDisclosure', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  it('refuses what is not a [salt, name, value] claim Disclosure', () => {
    expect(decodeDisclosure('not base64!')).toEqual({ ok: false, problem: 'not base64url' });
    expect(decodeDisclosure(b64(['saltsaltsaltsaltsalt', 'x'])).ok).toBe(false);
    expect(decodeDisclosure(b64(['short', 'x', 1])).ok).toBe(false);
    expect(decodeDisclosure(b64(['saltsaltsaltsaltsalt', '_sd', 1])).ok).toBe(false);
    expect(decodeDisclosure(b64(['saltsaltsaltsaltsalt', 'x', null]))).toMatchObject({ ok: true });
  });
});

describe('parseDisclosurePolicy', () => {
  it('reads none, all and field lists', () => {
    expect(parseDisclosurePolicy(undefined)).toBe('none');
    expect(parseDisclosurePolicy('none')).toBe('none');
    expect(parseDisclosurePolicy('all')).toBe('all');
    const some = parseDisclosurePolicy(' actor, comment ,');
    expect(some).toEqual(['actor', 'comment']);
    expect(isDisclosed(some, 'actor')).toBe(true);
    expect(isDisclosed(some, 'input')).toBe(false);
    expect(isDisclosed('all', 'input')).toBe(true);
  });
});

describe('revealFields', () => {
  it('puts back the fields whose Disclosures match the payload, and nothing else', () => {
    const { digests, disclosures } = commitFields({ actor: 'slack:U1', comment: 'ok' });
    const payload = { kind: 'approval.decided', _sd: digests };
    const forged = discloseField('actor', 'slack:UEVIL').disclosure;
    const shown = revealFields(payload, [forged, disclosures[1]?.disclosure as string]);
    expect(shown).toEqual({ ...payload, comment: 'ok' });
    expect(
      revealFields(
        payload,
        disclosures.map((d) => d.disclosure),
      ),
    ).toMatchObject({
      actor: 'slack:U1',
      comment: 'ok',
    });
  });
});
