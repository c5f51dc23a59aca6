import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWardenError } from '../errors.js';
import {
  appendLeaves,
  consistencyProof,
  emptyRoot,
  type GetHashes,
  inclusionProof,
  leafHash,
  MemoryHashStore,
  nodeHash,
  rootAt,
  type SubtreeKey,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

/**
 * RFC 9162 §2.1's recursive definitions over a leaf-hash function: the oracle. MTH is memoised
 * by `rangeId`, which may name ranges of equal content alike.
 */
function naiveTree(
  leaf: (index: number) => Buffer,
  rangeId = (lo: number, hi: number) => `${lo}:${hi}`,
) {
  const split = (n: number) => {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  };
  const memo = new Map<string, Buffer>();
  const mth = (lo: number, hi: number): Buffer => {
    if (hi - lo === 1) return leaf(lo);
    const id = rangeId(lo, hi);
    const cached = memo.get(id);
    if (cached) return cached;
    const k = split(hi - lo);
    const hash = nodeHash(mth(lo, lo + k), mth(lo + k, hi));
    memo.set(id, hash);
    return hash;
  };
  const path = (m: number, lo: number, hi: number): Buffer[] => {
    if (hi - lo === 1) return [];
    const k = lo + split(hi - lo);
    return m < k ? [...path(m, lo, k), mth(k, hi)] : [...path(m, k, hi), mth(lo, k)];
  };
  const subproof = (m: number, lo: number, hi: number, whole: boolean): Buffer[] => {
    if (m === hi) return whole ? [] : [mth(lo, hi)];
    const k = lo + split(hi - lo);
    if (m <= k) return [...subproof(m, lo, k, whole), mth(k, hi)];
    return [...subproof(m, k, hi, false), mth(lo, k)];
  };
  return {
    root: (n: number) => (n === 0 ? emptyRoot : mth(0, n)),
    path: (m: number, n: number) => path(m, 0, n),
    proof: (m: number, n: number) => subproof(m, 0, n, true),
  };
}

/** A getHashes that enforces its contract for a tree of `size` leaves and records each call. */
function checked(source: GetHashes, size: number) {
  const calls: SubtreeKey[][] = [];
  const getHashes: GetHashes = (keys) => {
    calls.push([...keys]);
    expect(new Set(keys.map((k) => `${k.level}/${k.index}`)).size).toBe(keys.length);
    for (const { level, index } of keys) {
      expect(Number.isSafeInteger(level) && Number.isSafeInteger(index) && index >= 0).toBe(true);
      expect((index + 1) * 2 ** level, `${level}/${index} complete at ${size}`).toBeLessThanOrEqual(
        size,
      );
    }
    return source(keys);
  };
  return { getHashes, calls };
}

/** Property tests build up to 10,000-leaf trees tens of times: seconds, not milliseconds. */
const propertyTimeout = 60_000;

const leavesOf = (seed: number, size: number) =>
  Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`${seed}/${i}`)));

/** Appends `leaves` in batches, checking the getHashes contract at each; returns the nodes. */
async function build(store: MemoryHashStore, leaves: Buffer[], batches: number[]) {
  let size = 0;
  const stored: SubtreeKey[] = [];
  for (const count of batches) {
    const { getHashes, calls } = checked(store.getHashes, size);
    const nodes = await appendLeaves(size, leaves.slice(size, size + count), getHashes);
    expect(calls.length).toBeLessThanOrEqual(1);
    store.put(nodes);
    stored.push(...nodes);
    size += count;
  }
  return stored;
}

/** A random tree: its size (small or up to 10,000), leaf seed and append batch sizes. */
const treeArb = fc
  .oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 10_000 }))
  .chain((size) =>
    fc.record({
      size: fc.constant(size),
      seed: fc.nat(),
      batches: fc
        .uniqueArray(fc.integer({ min: 1, max: Math.max(1, size - 1) }), { maxLength: 30 })
        .map((cuts) => [0, ...cuts.filter((c) => c < size).sort((a, b) => a - b), size])
        .map((bounds) => bounds.slice(1).map((end, i) => end - (bounds[i] as number))),
    }),
  );

/** Up to 2^53 − 1 bits set: counted without 32-bit operators. */
function popcount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) count += x % 2;
  return count;
}

/** A copy of `hash` with one bit flipped, chosen by `bit` (taken modulo the hash's bit count). */
function flipBit(hash: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(hash);
  const at = Math.floor(bit / 8) % copy.length;
  copy[at] = (copy[at] as number) ^ (1 << (bit % 8));
  return copy;
}

/** The proof with one bit flipped in each hash in turn, then without its first and last hash. */
function altered(proof: Buffer[], bit: number): Buffer[][] {
  if (proof.length === 0) return [];
  const flipped = proof.map((hash, i) => proof.with(i, flipBit(hash, bit)));
  return [...flipped, proof.slice(1), proof.slice(0, -1)];
}

describe('leafHash, nodeHash and emptyRoot', () => {
  it('separate leaves from nodes and hash the empty tree as SHA-256("")', () => {
    expect(emptyRoot.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    const [a, b] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    expect(leafHash(Buffer.concat([a, b])).equals(nodeHash(a, b))).toBe(false);
  });
});

describe('appendLeaves and rootAt', () => {
  it(
    'stores each complete subtree once, and rootAt equals the RFC 9162 MTH at every size',
    async () => {
      await fc.assert(
        fc.asyncProperty(treeArb, fc.array(fc.nat(), { maxLength: 8 }), async (tree, picks) => {
          const leaves = leavesOf(tree.seed, tree.size);
          const naive = naiveTree((i) => leaves[i] as Buffer);
          const store = new MemoryHashStore();
          const stored = await build(store, leaves, tree.batches);
          expect(stored.length).toBe(2 * tree.size - popcount(tree.size));
          expect(new Set(stored.map((k) => `${k.level}/${k.index}`)).size).toBe(stored.length);

          let boundary = 0;
          const sizes = [0, ...tree.batches.map((n) => (boundary += n)), ...picks];
          for (const size of sizes.map((s) => s % (tree.size + 1))) {
            const { getHashes, calls } = checked(store.getHashes, size);
            expect((await rootAt(size, getHashes)).equals(naive.root(size)), `size ${size}`).toBe(
              true,
            );
            expect(calls.length).toBe(size === 0 ? 0 : 1);
            expect(calls.flat().length).toBe(popcount(size));
          }
        }),
        { numRuns: 40 },
      );
    },
    propertyTimeout,
  );

  it('reads only the right-edge subtrees that the new leaves complete', async () => {
    const store = new MemoryHashStore();
    await build(store, leavesOf(1, 7), [7]);
    const { getHashes, calls } = checked(store.getHashes, 7);
    await appendLeaves(7, leavesOf(2, 1), getHashes); // 7 → 8 merges [6], [4, 6) and [0, 4)
    expect(calls).toEqual([
      [
        { level: 2, index: 0 },
        { level: 1, index: 2 },
        { level: 0, index: 6 },
      ],
    ]);
    const fromSix = checked(store.getHashes, 6);
    await appendLeaves(6, leavesOf(2, 1), fromSix.getHashes); // 6 → 7 merges nothing
    expect(fromSix.calls).toEqual([]);
  });

  it('rejects bad sizes and leaf hashes, and a getHashes that returns the wrong count', async () => {
    const store = new MemoryHashStore();
    const leaf = leafHash(Buffer.from('x'));
    for (const bad of [
      () => appendLeaves(-1, [leaf], store.getHashes),
      () => appendLeaves(1.5, [leaf], store.getHashes),
      () => appendLeaves(Number.MAX_SAFE_INTEGER, [leaf], store.getHashes),
      () => appendLeaves(0, [Buffer.alloc(31)], store.getHashes),
      () => rootAt(Number.NaN, store.getHashes),
    ]) {
      const error = await bad().catch((err: unknown) => err);
      expect(isWardenError(error) && error.code).toBe('invalid');
    }
    const error = await appendLeaves(1, [leaf], async () => []).catch((err: unknown) => err);
    expect(isWardenError(error) && error.code).toBe('internal');
  });
});

describe('inclusionProof and verifyInclusion', () => {
  it(
    'give the RFC 9162 PATH, which verifies, and reject every altered input',
    async () => {
      const pick = fc.record({ size: fc.nat(), index: fc.nat(), other: fc.nat(), bit: fc.nat() });
      await fc.assert(
        fc.asyncProperty(treeArb, fc.array(pick, { minLength: 1, maxLength: 6 }), async (t, ps) => {
          const leaves = leavesOf(t.seed, t.size);
          const naive = naiveTree((i) => leaves[i] as Buffer);
          const store = new MemoryHashStore();
          await build(store, leaves, t.batches);
          for (const p of ps) {
            const size = 1 + (p.size % t.size);
            const index = p.index % size;
            const { getHashes, calls } = checked(store.getHashes, size);
            const proof = await inclusionProof(index, size, getHashes);
            expect(calls.length).toBeLessThanOrEqual(1);
            expect(proof).toEqual(naive.path(index, size));
            const [leaf, root] = [leaves[index] as Buffer, naive.root(size)];
            expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);

            // Another index in 0..size − 1, and another size in 1..t.size (when there is one).
            const otherIndex = (index + 1 + (p.other % Math.max(1, size - 1))) % size;
            const otherSize = 1 + ((size + (p.other % Math.max(1, t.size - 1))) % t.size);
            const rejects = [...altered(proof, p.bit), [...proof, leaf], [leaf, ...proof]].map(
              (bad) => verifyInclusion(leaf, index, size, bad, root),
            );
            if (size > 1) rejects.push(verifyInclusion(leaf, otherIndex, size, proof, root));
            if (otherSize !== size && index < otherSize) {
              const otherRoot = naive.root(otherSize);
              rejects.push(verifyInclusion(leaf, index, otherSize, proof, otherRoot));
            }
            if (size > 1)
              rejects.push(verifyInclusion(leaves[otherIndex] as Buffer, index, size, proof, root));
            rejects.push(verifyInclusion(leaf, index, size, proof, flipBit(root, p.bit)));
            expect(rejects.filter((r) => r !== false)).toEqual([]);
          }
        }),
        { numRuns: 40 },
      );
    },
    propertyTimeout,
  );

  it('accepts another size with an unchanged root only when the leaf keeps its path shape', () => {
    // The proof does not commit to the size: the verifier must use the signed (size, root) pair.
    const leaves = leavesOf(3, 8);
    const naive = naiveTree((i) => leaves[i] as Buffer);
    const proof = naive.path(0, 8);
    expect(verifyInclusion(leaves[0] as Buffer, 0, 7, proof, naive.root(8))).toBe(true);
    expect(verifyInclusion(leaves[0] as Buffer, 0, 5, proof, naive.root(8))).toBe(true);
    expect(verifyInclusion(leaves[0] as Buffer, 0, 4, proof, naive.root(8))).toBe(false);
    expect(verifyInclusion(leaves[0] as Buffer, 0, 9, proof, naive.root(8))).toBe(false);
  });

  it('returns false, never throws, for sizes, indices and hashes out of policy', () => {
    const leaf = leafHash(Buffer.from('only'));
    expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
    for (const [index, size] of [
      [0, 0], // no leaf is in the empty tree
      [1, 1], // index ≥ size
      [-1, 1],
      [0.5, 1],
      [0, Number.NaN],
      [2 ** 53, 2 ** 53 + 2], // beyond 2^53 − 1
    ] as const) {
      expect(verifyInclusion(leaf, index, size, [], leaf), `${index} of ${size}`).toBe(false);
    }
    expect(verifyInclusion(leaf.subarray(1), 0, 1, [], leaf.subarray(1))).toBe(false);
    const junk = [null, undefined, 'x', [null], [Buffer.alloc(31)], {}] as unknown[];
    for (const bad of junk) {
      expect(verifyInclusion(leaf, 0, 2, bad as Uint8Array[], leaf)).toBe(false);
      expect(verifyInclusion(bad as Uint8Array, 0, 1, [], leaf)).toBe(false);
      expect(verifyInclusion(leaf, 0, 1, [], bad as Uint8Array)).toBe(false);
    }
  });

  it('rejects an index outside 0..size − 1 with an invalid WardenError', async () => {
    const store = new MemoryHashStore();
    await build(store, leavesOf(1, 4), [4]);
    for (const [index, size] of [
      [4, 4],
      [-1, 4],
      [0, 0],
    ] as const) {
      const error = await inclusionProof(index, size, store.getHashes).catch((err) => err);
      expect(isWardenError(error) && error.code).toBe('invalid');
    }
  });
});

describe('consistencyProof and verifyConsistency', () => {
  it(
    'give the RFC 9162 PROOF, which verifies, and reject every altered input',
    async () => {
      const pick = fc.record({ a: fc.nat(), b: fc.nat(), other: fc.nat(), bit: fc.nat() });
      await fc.assert(
        fc.asyncProperty(treeArb, fc.array(pick, { minLength: 1, maxLength: 6 }), async (t, ps) => {
          const leaves = leavesOf(t.seed, t.size);
          const naive = naiveTree((i) => leaves[i] as Buffer);
          const store = new MemoryHashStore();
          await build(store, leaves, t.batches);
          for (const p of ps) {
            const size2 = 1 + (p.b % t.size);
            const size1 = 1 + (p.a % size2);
            const { getHashes, calls } = checked(store.getHashes, size2);
            const proof = await consistencyProof(size1, size2, getHashes);
            expect(calls.length).toBeLessThanOrEqual(1);
            expect(proof).toEqual(naive.proof(size1, size2));
            const [root1, root2] = [naive.root(size1), naive.root(size2)];
            expect(verifyConsistency(size1, size2, proof, root1, root2)).toBe(true);

            const other = 1 + (p.other % t.size);
            const rejects = [...altered(proof, p.bit), [...proof, root1], [root1, ...proof]].map(
              (bad) => verifyConsistency(size1, size2, bad, root1, root2),
            );
            rejects.push(
              verifyConsistency(size1, size2, proof, flipBit(root1, p.bit), root2),
              verifyConsistency(size1, size2, proof, root1, flipBit(root2, p.bit)),
            );
            if (size1 < size2) rejects.push(verifyConsistency(size1, size2, proof, root2, root1));
            if (other !== size1 && other <= size2) {
              const otherRoot = naive.root(other);
              rejects.push(verifyConsistency(other, size2, proof, otherRoot, root2));
            }
            if (other !== size2 && other >= size1) {
              const otherRoot = naive.root(other);
              rejects.push(verifyConsistency(size1, other, proof, root1, otherRoot));
            }
            expect(rejects.filter((r) => r !== false)).toEqual([]);
          }
        }),
        { numRuns: 40 },
      );
    },
    propertyTimeout,
  );

  it('follows the transparency-dev policy at the edges, returning false rather than throwing', () => {
    const [a, b] = [leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))];
    const ab = nodeHash(a, b);
    expect(verifyConsistency(1, 2, [b], a, ab)).toBe(true);
    expect(verifyConsistency(2, 2, [], ab, ab)).toBe(true); // equal sizes: empty proof, same root
    expect(verifyConsistency(2, 2, [a], ab, ab)).toBe(false);
    expect(verifyConsistency(2, 2, [], ab, a)).toBe(false);
    expect(verifyConsistency(0, 0, [], emptyRoot, emptyRoot)).toBe(false); // from 0: meaningless
    expect(verifyConsistency(0, 1, [], emptyRoot, a)).toBe(false);
    expect(verifyConsistency(2, 1, [], ab, a)).toBe(false); // size1 > size2
    expect(verifyConsistency(1, 2, [], a, ab)).toBe(false);
    for (const [s1, s2] of [
      [Number.NaN, 2],
      [1, 2 ** 53],
      [1.5, 2],
      [-1, 2],
    ]) {
      expect(verifyConsistency(s1 as number, s2 as number, [b], a, ab)).toBe(false);
    }
    for (const bad of [null, undefined, 'x', [null], [Buffer.alloc(31)], {}] as unknown[]) {
      expect(verifyConsistency(1, 2, bad as Uint8Array[], a, ab)).toBe(false);
      expect(verifyConsistency(1, 2, [b], bad as Uint8Array, ab)).toBe(false);
      expect(verifyConsistency(1, 2, [b], a, bad as Uint8Array)).toBe(false);
    }
  });

  it('is empty for equal sizes and rejects a proof from size 0 with an invalid WardenError', async () => {
    const store = new MemoryHashStore();
    await build(store, leavesOf(1, 4), [4]);
    expect(await consistencyProof(3, 3, store.getHashes)).toEqual([]);
    for (const [size1, size2] of [
      [0, 4],
      [0, 0],
      [4, 3],
    ] as const) {
      const error = await consistencyProof(size1, size2, store.getHashes).catch((err) => err);
      expect(isWardenError(error) && error.code).toBe('invalid');
    }
  });
});

/**
 * A tree of up to 2^53 − 1 leaves whose leaf i is leafHash("i mod 1024"): every aligned run of
 * 1,024 leaves is the same, so any complete subtree's hash is cheap to compute.
 */
function periodicTree() {
  const period = 2 ** 10;
  const leaf = (i: number) => leafHash(Buffer.from(`leaf ${i % period}`));
  const memo = new Map<string, Buffer>();
  const subtree = (level: number, index: number): Buffer => {
    if (level === 0) return leaf(index);
    const id = level >= 10 ? `${level}` : `${level}/${index % (period / 2 ** level)}`;
    const cached = memo.get(id);
    if (cached) return cached;
    const hash = nodeHash(subtree(level - 1, 2 * index), subtree(level - 1, 2 * index + 1));
    memo.set(id, hash);
    return hash;
  };
  const getHashes: GetHashes = async (keys) => keys.map((k) => subtree(k.level, k.index));
  // Leaves [lo, hi) depend only on lo mod 1024 and hi − lo: name such ranges alike.
  const naive = naiveTree(leaf, (lo, hi) => `${lo % period}+${hi - lo}`);
  return { leaf, subtree, getHashes, naive };
}

describe('the Merkle log at sizes up to 2^53 − 1', () => {
  const big = fc.oneof(
    fc.constantFrom(
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 32 + 1,
      2 ** 40 + 3,
      2 ** 53 - 2,
      2 ** 53 - 1,
    ),
    fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }),
  );
  const tree = periodicTree();
  const { naive } = tree;

  it(
    'computes roots and proofs that verify, and rejects altered ones',
    async () => {
      const arb = fc.record({
        size: big,
        index: fc.maxSafeNat(),
        size1: fc.maxSafeNat(),
        bit: fc.nat(),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ size, index: i, size1: s1, bit }) => {
          const [index, size1] = [i % size, 1 + (s1 % size)];
          const { getHashes, calls } = checked(tree.getHashes, size);
          const root = await rootAt(size, getHashes);
          expect(root.equals(naive.root(size))).toBe(true);

          const proof = await inclusionProof(index, size, getHashes);
          expect(proof.length).toBeLessThanOrEqual(53);
          const leaf = tree.leaf(index);
          expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);
          const flipped = proof.with(
            bit % proof.length,
            flipBit(proof[bit % proof.length] as Buffer, bit),
          );
          expect(verifyInclusion(leaf, index, size, flipped, root)).toBe(false);
          expect(verifyInclusion(leaf, index === 0 ? 1 : index - 1, size, proof, root)).toBe(false);
          expect(verifyInclusion(leaf, index, size, proof.slice(0, -1), root)).toBe(false);

          const root1 = await rootAt(size1, getHashes);
          const consistency = await consistencyProof(size1, size, getHashes);
          expect(verifyConsistency(size1, size, consistency, root1, root)).toBe(true);
          expect(verifyConsistency(size1, size, consistency, flipBit(root1, bit), root)).toBe(
            false,
          );
          expect(calls.length).toBe(size1 === size ? 3 : 4); // one read per operation
        }),
        { numRuns: 60 },
      );
    },
    propertyTimeout,
  );

  it(
    'appends near 2^53 − 1, emitting exactly the subtrees that complete',
    async () => {
      const arb = fc.record({ size: big, count: fc.integer({ min: 1, max: 2_000 }) });
      await fc.assert(
        fc.asyncProperty(arb, async ({ size: end, count }) => {
          const size = end - count;
          const leaves = Array.from({ length: count }, (_, i) => tree.leaf(size + i));
          const { getHashes } = checked(tree.getHashes, size);
          const nodes = await appendLeaves(size, leaves, getHashes);
          // Complete subtrees of n leaves: 2n − popcount(n); the difference stays below 2^53.
          expect(nodes.length).toBe(2 * count - popcount(end) + popcount(size));
          const wrong = nodes.filter(({ level, index, hash }) => {
            const [begin, width] = [index * 2 ** level, 2 ** level];
            const completes = begin + width <= end && begin + width > size;
            return !completes || !hash.equals(tree.subtree(level, index));
          });
          expect(wrong).toEqual([]);
        }),
        { numRuns: 60 },
      );
    },
    propertyTimeout,
  );
});
