/**
 * RFC 9162 Merkle tree over stored complete-subtree hashes: appends, roots, inclusion and
 * consistency proofs in O(log n) hash reads, and the pure §2.1.3.2 / §2.1.4.2 verifiers.
 *
 * Sizes and indices are JavaScript numbers up to 2^53 − 1. The arithmetic uses `/ 2`, `% 2` and
 * `Math.floor`, never the 32-bit operators (`>>`, `&`), which would truncate.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { WardenError } from '../errors.js';

/** A complete (perfect) subtree: the `2^level` leaves from leaf `index · 2^level`. */
export interface SubtreeKey {
  readonly level: number;
  readonly index: number;
}

export interface SubtreeNode extends SubtreeKey {
  readonly hash: Buffer;
}

/**
 * Reads stored subtree hashes in one round trip, in the order of `keys` (one 32-byte hash each).
 * Every key asked for is a complete subtree of the tree size the caller passed (`(index + 1) ·
 * 2^level ≤ size`), so it exists once `appendLeaves` up to that size has been stored. Keys are
 * distinct; an operation that needs no stored hash does not call it.
 */
export type GetHashes = (keys: readonly SubtreeKey[]) => Promise<Buffer[]>;

type Range = readonly [begin: number, end: number];

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

const leafPrefix = Buffer.from([0x00]);
const nodePrefix = Buffer.from([0x01]);

/** RFC 9162 leaf hash, SHA-256(0x00 ‖ bytes). @example leafHash(Buffer.from('receipt')) */
export const leafHash = (bytes: Uint8Array): Buffer => sha256(leafPrefix, bytes);

/** RFC 9162 interior node hash, SHA-256(0x01 ‖ left ‖ right). */
export const nodeHash = (left: Uint8Array, right: Uint8Array): Buffer =>
  sha256(nodePrefix, left, right);

/** The root of the empty tree, SHA-256(""). Do not mutate: `rootAt(0)` returns a copy. */
export const emptyRoot: Buffer = sha256();

const twoTo32 = 2 ** 32;
const half = (x: number): number => Math.floor(x / 2);
const isOdd = (x: number): boolean => x % 2 === 1;

/** How many bits `x` needs (0 ≤ x ≤ 2^53), exact for numbers beyond 32 bits. */
function bitLength(x: number): number {
  return x < twoTo32 ? 32 - Math.clz32(x) : 32 + bitLength(Math.floor(x / twoTo32));
}

const isPowerOfTwo = (x: number): boolean => x > 0 && 2 ** (bitLength(x) - 1) === x;

/** RFC 9162's split point k: the largest power of two smaller than `n` (n ≥ 2). */
const splitOf = (n: number): number => 2 ** (bitLength(n - 1) - 1);

/**
 * The complete subtrees covering leaves [begin, end), left to right, for the ranges an RFC 9162
 * tree is made of (begin is a multiple of the largest power of two not above end − begin): one
 * per bit set in end − begin.
 */
function cover([begin, end]: Range): SubtreeKey[] {
  const keys: SubtreeKey[] = [];
  for (let start = begin; start < end; ) {
    const level = bitLength(end - start) - 1;
    const width = 2 ** level;
    keys.push({ level, index: start / width });
    start += width;
  }
  return keys;
}

/** MTH of a covered range: its complete subtrees hashed right to left. */
const fold = (hashes: Buffer[]): Buffer =>
  hashes.reduceRight((right, left) => nodeHash(left, right));

async function read(getHashes: GetHashes, keys: readonly SubtreeKey[]): Promise<Buffer[]> {
  if (keys.length === 0) return [];
  const hashes = await getHashes(keys);
  const ok = Array.isArray(hashes) && hashes.length === keys.length && hashes.every(isHash);
  if (!ok) {
    throw new WardenError('internal', `getHashes must return ${keys.length} 32-byte hashes.`);
  }
  return hashes;
}

/** The MTH of each range (disjoint ranges, so distinct keys), from one getHashes call. */
async function hashRanges(ranges: readonly Range[], getHashes: GetHashes): Promise<Buffer[]> {
  const covers = ranges.map(cover);
  const hashes = await read(getHashes, ([] as SubtreeKey[]).concat(...covers));
  const roots: Buffer[] = [];
  let at = 0;
  for (const keys of covers) {
    roots.push(fold(hashes.slice(at, at + keys.length)));
    at += keys.length;
  }
  return roots;
}

function assertCount(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (Number.isSafeInteger(value) && value >= min && value <= max) return;
  throw new WardenError(
    'invalid',
    `${name} must be an integer from ${min} to ${max}, got ${value}.`,
  );
}

/**
 * The complete subtrees that appending `leafHashes` after `size` leaves completes, level 0 (the
 * leaves themselves) included, for the caller to store. Reads the stored right-edge subtrees of
 * `size` that the new leaves complete into larger ones.
 * @example store.put(await appendLeaves(size, [leafHash(receiptBytes)], store.getHashes));
 */
export async function appendLeaves(
  size: number,
  leafHashes: readonly Buffer[],
  getHashes: GetHashes,
): Promise<SubtreeNode[]> {
  assertCount('size', size, 0, Number.MAX_SAFE_INTEGER - leafHashes.length);
  if (!leafHashes.every(isHash)) throw new WardenError('invalid', 'Leaf hashes must be 32 bytes.');
  const newSize = size + leafHashes.length;
  // Only a suffix of the compact range merges: the subtrees whose right sibling completes.
  const merging = cover([0, size]).filter((k) => (k.index + 2) * 2 ** k.level <= newSize);
  const hashes = await read(getHashes, merging);
  const stack: SubtreeNode[] = merging.map((key, i) => ({ ...key, hash: hashes[i] as Buffer }));
  const nodes: SubtreeNode[] = [];
  leafHashes.forEach((hash, offset) => {
    let node: SubtreeNode = { level: 0, index: size + offset, hash };
    nodes.push(node);
    for (let left = stack.at(-1); left?.level === node.level; left = stack.at(-1)) {
      stack.pop();
      node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
      nodes.push(node);
    }
    stack.push(node);
  });
  return nodes;
}

/** RFC 9162 MTH of the first `size` leaves, from at most log2(size) + 1 stored hashes. */
export async function rootAt(size: number, getHashes: GetHashes): Promise<Buffer> {
  assertCount('size', size, 0);
  if (size === 0) return Buffer.from(emptyRoot);
  const [root] = await hashRanges([[0, size]], getHashes);
  return root as Buffer;
}

/**
 * RFC 9162 §2.1.3.1 PATH(index, D[size]): the audit path from the leaf's sibling up to the root's
 * child. Throws an `invalid` WardenError unless 0 ≤ index < size.
 * @example const proof = await inclusionProof(5, 8, store.getHashes); // 3 hashes
 */
export async function inclusionProof(
  index: number,
  size: number,
  getHashes: GetHashes,
): Promise<Buffer[]> {
  assertCount('size', size, 1);
  assertCount('index', index, 0, size - 1);
  const siblings: Range[] = []; // root to leaf; each range is the sibling of the path's next node
  for (let begin = 0, end = size; end - begin > 1; ) {
    const middle = begin + splitOf(end - begin);
    siblings.push(index < middle ? [middle, end] : [begin, middle]);
    [begin, end] = index < middle ? [begin, middle] : [middle, end];
  }
  return hashRanges(siblings.reverse(), getHashes);
}

/**
 * RFC 9162 §2.1.4.1 PROOF(size1, D[size2]); empty when the sizes are equal. Throws an `invalid`
 * WardenError unless 1 ≤ size1 ≤ size2: a proof from the empty tree is meaningless (and
 * `verifyConsistency` rejects size1 = 0).
 */
export async function consistencyProof(
  size1: number,
  size2: number,
  getHashes: GetHashes,
): Promise<Buffer[]> {
  assertCount('size2', size2, 1);
  assertCount('size1', size1, 1, size2);
  const ranges: Range[] = []; // root to leaf, as SUBPROOF recurses
  let [begin, end, whole] = [0, size2, true];
  while (end !== size1) {
    const middle = begin + splitOf(end - begin);
    ranges.push(size1 <= middle ? [middle, end] : [begin, middle]);
    if (size1 <= middle) end = middle;
    else [begin, whole] = [middle, false];
  }
  if (!whole) ranges.push([begin, end]);
  return hashRanges(ranges.reverse(), getHashes);
}

function isHash(value: unknown): value is Buffer {
  return value instanceof Uint8Array && value.length === 32;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && timingSafeEqual(a, b);

/**
 * Walks a proof as RFC 9162 §2.1.3.2 / §2.1.4.2 do, `fn` and `sn` climbing from the node and from
 * the tree's last leaf: `second` always (r, sr), `first` only for consistency (fr). Undefined when
 * the proof's length does not fit the sizes.
 */
function climb(
  fn: number,
  sn: number,
  path: readonly Uint8Array[],
  second: Uint8Array,
  first?: Uint8Array,
) {
  for (const p of path) {
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      second = nodeHash(p, second);
      if (first !== undefined) first = nodeHash(p, first);
      while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      second = nodeHash(second, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 ? { first, second } : undefined;
}

/**
 * RFC 9162 §2.1.3.2 with transparency-dev's edge cases: false (never a throw) when size is 0,
 * index ≥ size, a size or index is not an integer up to 2^53 − 1, or a hash is not 32 bytes.
 * @example verifyInclusion(leafHash(bytes), 5, 8, proof, signedRoot) // true
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size)) return false;
    if (index < 0 || index >= size || !isHash(leaf) || !isHash(root)) return false;
    if (!Array.isArray(proof) || !proof.every(isHash)) return false;
    const climbed = climb(index, size - 1, proof, leaf);
    return climbed !== undefined && sameBytes(climbed.second, root);
  } catch {
    return false;
  }
}

/**
 * RFC 9162 §2.1.4.2 with transparency-dev's edge cases, false (never a throw) on malformed input:
 * - size1 = 0 is rejected, even 0 → 0 (a proof from the empty tree proves nothing);
 * - size1 = size2 needs an empty proof and root1 equal to root2 (compared as bytes);
 * - size1 > size2, or sizes that are not integers up to 2^53 − 1, are rejected.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  try {
    if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2)) return false;
    if (size1 < 1 || size1 > size2 || !Array.isArray(proof)) return false;
    if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array)) return false;
    if (size1 === size2) return proof.length === 0 && sameBytes(root1, root2);
    if (!isHash(root1) || !isHash(root2) || !proof.every(isHash)) return false;
    // A power-of-two size1 is a complete subtree of size2: its root is the path's first node.
    const [seed, ...path] = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
    if (seed === undefined) return false;
    let [fn, sn] = [size1 - 1, size2 - 1];
    while (isOdd(fn)) [fn, sn] = [half(fn), half(sn)];
    const climbed = climb(fn, sn, path, seed, seed);
    if (climbed?.first === undefined) return false;
    return sameBytes(climbed.first, root1) && sameBytes(climbed.second, root2);
  } catch {
    return false;
  }
}

/**
 * Subtree hashes in memory, one Map per level: for tests and benchmarks.
 * @example
 * const store = new MemoryHashStore();
 * store.put(await appendLeaves(0, leaves, store.getHashes));
 * const root = await rootAt(leaves.length, store.getHashes);
 */
export class MemoryHashStore {
  readonly #levels: Map<number, Buffer>[] = [];

  /** A GetHashes (already bound); throws an `internal` WardenError for a hash never stored. */
  readonly getHashes: GetHashes = async (keys) =>
    keys.map(({ level, index }) => {
      const hash = this.#levels[level]?.get(index);
      if (hash !== undefined) return hash;
      throw new WardenError('internal', `No subtree hash at level ${level}, index ${index}.`);
    });

  put(nodes: readonly SubtreeNode[]): void {
    for (const { level, index, hash } of nodes) {
      let byIndex = this.#levels[level];
      if (byIndex === undefined) this.#levels[level] = byIndex = new Map();
      byIndex.set(index, hash);
    }
  }
}
