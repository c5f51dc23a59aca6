import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { idsDigest, summarize } from './ids-digest.js';

describe('idsDigest', () => {
  it('is the SHA-256 of the ids sorted by byte, one per line', () => {
    const expected = createHash('sha256').update('B\na\nb\n').digest('hex');
    expect(idsDigest(['b', 'a', 'B'])).toBe(`sha256:${expected}`);
  });

  it('does not depend on the order the ids were found in', () => {
    expect(idsDigest(['x/1', 'x/0', 'y'])).toBe(idsDigest(['y', 'x/0', 'x/1']));
  });

  it('changes when one id is added or dropped', () => {
    expect(idsDigest(['a', 'b'])).not.toBe(idsDigest(['a']));
    expect(idsDigest(['a', 'b'])).not.toBe(idsDigest(['a', 'b', 'c']));
  });
});

describe('summarize', () => {
  it('names the first and last ids in digest order, and null for an empty category', () => {
    expect(summarize('runDetails', ['r3', 'r1', 'r2'])).toMatchObject({
      count: 3,
      firstId: 'r1',
      lastId: 'r3',
    });
    expect(summarize('disclosures', [])).toEqual({
      name: 'disclosures',
      count: 0,
      idsDigest: `sha256:${createHash('sha256').digest('hex')}`,
      firstId: null,
      lastId: null,
    });
  });
});
