/**
 * The Merkle log against shared vectors: transparency-dev's 196 verifier probes, the upstream
 * 8-leaf reference tree, the derived tables (every proof for sizes 1..8, the byte tree's roots
 * 0..256) and the RFC 6962 hasher KATs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendLeaves,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  MemoryHashStore,
  nodeHash,
  rootAt,
  verifyConsistency,
  verifyInclusion,
} from '../../src/ledger/merkle.js';
import { hasVectors, vectorsDir } from '../helpers/vectors.js';

const merkleDir = join(vectorsDir, 'merkle-rfc6962');
const readJson = <T>(path: string): T => JSON.parse(readFileSync(join(merkleDir, path), 'utf8'));
const hex = (hash: Buffer): string => hash.toString('hex');
const fromHex = (text: string): Buffer => Buffer.from(text, 'hex');
/** Probe hashes are Go []byte in base64; a null proof is Go's nil slice, i.e. empty. */
const fromBase64 = (text: string | null): Buffer => Buffer.from(text ?? '', 'base64');

interface InclusionProbe {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyProbe {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

function probes<T>(kind: 'inclusion' | 'consistency'): Array<{ name: string; probe: T }> {
  if (!hasVectors) return [];
  const dir = join('transparency-dev-testdata', kind);
  return readdirSync(join(merkleDir, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: file, probe: readJson<T>(join(dir, file)) }));
}

/** A store holding every complete subtree of `leaves`, appended in batches of `batchSizes`. */
async function storeOf(leaves: Buffer[], batchSizes = [leaves.length]): Promise<MemoryHashStore> {
  const store = new MemoryHashStore();
  let size = 0;
  for (const count of batchSizes) {
    store.put(await appendLeaves(size, leaves.slice(size, size + count), store.getHashes));
    size += count;
  }
  return store;
}

describe.skipIf(!hasVectors)('Merkle verifiers (transparency-dev probes)', () => {
  const inclusion = probes<InclusionProbe>('inclusion');
  const consistency = probes<ConsistencyProbe>('consistency');

  it('finds the 98 inclusion and 98 consistency probes', () => {
    expect([inclusion.length, consistency.length]).toEqual([98, 98]);
  });

  // leafIdx 2^64 − 1 ("leafIdx sub @1") parses as 2^64 here: beyond 2^53 − 1, so rejected.
  it.each(inclusion)('inclusion $name gives wantErr', ({ probe }) => {
    const proof = (probe.proof ?? []).map(fromBase64);
    const args = [probe.leafIdx, probe.treeSize, proof, fromBase64(probe.root)] as const;
    expect(verifyInclusion(fromBase64(probe.leafHash), ...args)).toBe(!probe.wantErr);
  });

  it.each(consistency)('consistency $name gives wantErr', ({ probe }) => {
    const proof = (probe.proof ?? []).map(fromBase64);
    const roots = [fromBase64(probe.root1), fromBase64(probe.root2)] as const;
    expect(verifyConsistency(probe.size1, probe.size2, proof, ...roots)).toBe(!probe.wantErr);
  });
});

interface UpstreamTree {
  hasher_kats: Record<
    | 'empty_tree_root'
    | 'leaf_hash_of_empty_leaf'
    | 'leaf_hash_of_ascii_L123456'
    | 'node_hash_of_ascii_N123_N456',
    string
  >;
  leaves_hex: string[];
  node_hashes_by_level: string[][];
  roots_by_size: Record<string, string>;
  inclusion_paths: Array<{ leaf_index: number; tree_size: number; proof: string[] }>;
  consistency_proofs: Array<{ size1: number; size2: number; proof: string[] }>;
}

interface DerivedTree {
  leaf_hashes: string[];
  roots_by_size: Record<string, string>;
  inclusion: Array<{
    leaf_index: number;
    tree_size: number;
    leaf_hash: string;
    root: string;
    proof: string[];
  }>;
  consistency: Array<{
    size1: number;
    size2: number;
    root1: string;
    root2: string;
    proof: string[];
  }>;
}

describe.skipIf(!hasVectors)('Merkle log (RFC 6962 reference tree)', () => {
  const upstream = hasVectors ? readJson<UpstreamTree>('reference-tree-upstream.json') : undefined;
  const derived = hasVectors
    ? readJson<DerivedTree>('derived/reference-tree-complete-1..8.json')
    : undefined;

  it('matches the rfc6962 hasher KATs', () => {
    const kats = upstream?.hasher_kats;
    expect(hex(emptyRoot)).toBe(kats?.empty_tree_root);
    expect(hex(leafHash(new Uint8Array()))).toBe(kats?.leaf_hash_of_empty_leaf);
    expect(hex(leafHash(Buffer.from('L123456')))).toBe(kats?.leaf_hash_of_ascii_L123456);
    expect(hex(nodeHash(Buffer.from('N123'), Buffer.from('N456')))).toBe(
      kats?.node_hash_of_ascii_N123_N456,
    );
  });

  it('stores exactly the upstream node hashes, level by level, when the 8 leaves are appended', async () => {
    const leaves = (upstream?.leaves_hex ?? []).map((leaf) => leafHash(fromHex(leaf)));
    const nodes = await appendLeaves(0, leaves, new MemoryHashStore().getHashes);
    const levels = Math.max(...nodes.map((node) => node.level)) + 1;
    const byLevel = Array.from({ length: levels }, (_, level) =>
      nodes
        .filter((node) => node.level === level)
        .sort((a, b) => a.index - b.index)
        .map(({ index, hash }) => [index, hex(hash)]),
    );
    const want = upstream?.node_hashes_by_level.map((hashes) => hashes.map((h, i) => [i, h]));
    expect(byLevel).toEqual(want);
  });

  it('gives the upstream roots for sizes 0..8, whether leaves come one by one or at once', async () => {
    const leaves = (upstream?.leaves_hex ?? []).map((leaf) => leafHash(fromHex(leaf)));
    for (const store of [
      await storeOf(leaves),
      await storeOf(
        leaves,
        leaves.map(() => 1),
      ),
    ]) {
      for (const [size, root] of Object.entries(upstream?.roots_by_size ?? {})) {
        expect(hex(await rootAt(Number(size), store.getHashes)), `size ${size}`).toBe(root);
      }
    }
  });

  it('reproduces the upstream inclusion paths and consistency proofs', async () => {
    const store = await storeOf((upstream?.leaves_hex ?? []).map((l) => leafHash(fromHex(l))));
    for (const { leaf_index, tree_size, proof } of upstream?.inclusion_paths ?? []) {
      const got = await inclusionProof(leaf_index, tree_size, store.getHashes);
      expect(got.map(hex), `PATH(${leaf_index}, ${tree_size})`).toEqual(proof);
    }
    for (const { size1, size2, proof } of upstream?.consistency_proofs ?? []) {
      const got = await consistencyProof(size1, size2, store.getHashes);
      expect(got.map(hex), `PROOF(${size1}, ${size2})`).toEqual(proof);
    }
  });

  it('reproduces and verifies all 36 derived inclusion proofs for sizes 1..8', async () => {
    const store = await storeOf((derived?.leaf_hashes ?? []).map(fromHex));
    expect(derived?.inclusion).toHaveLength(36);
    for (const { leaf_index, tree_size, leaf_hash, root, proof } of derived?.inclusion ?? []) {
      const got = await inclusionProof(leaf_index, tree_size, store.getHashes);
      expect(got.map(hex), `PATH(${leaf_index}, ${tree_size})`).toEqual(proof);
      expect(hex(await rootAt(tree_size, store.getHashes))).toBe(root);
      expect(verifyInclusion(fromHex(leaf_hash), leaf_index, tree_size, got, fromHex(root))).toBe(
        true,
      );
    }
  });

  it('reproduces and verifies all 36 derived consistency proofs for sizes 1..8', async () => {
    const store = await storeOf((derived?.leaf_hashes ?? []).map(fromHex));
    expect(derived?.consistency).toHaveLength(36);
    for (const { size1, size2, root1, root2, proof } of derived?.consistency ?? []) {
      const got = await consistencyProof(size1, size2, store.getHashes);
      expect(got.map(hex), `PROOF(${size1}, ${size2})`).toEqual(proof);
      expect(verifyConsistency(size1, size2, got, fromHex(root1), fromHex(root2))).toBe(true);
    }
  });
});

interface BytesTree {
  roots_by_size: Record<string, string>;
  sample_inclusion: Array<{
    leaf_index: number;
    tree_size: number;
    leaf_hash: string;
    proof: string[];
  }>;
  sample_consistency: Array<{ size1: number; size2: number; proof: string[] }>;
}

describe.skipIf(!hasVectors)('Merkle log (byte tree, leaf i = byte i, derived)', () => {
  const tree = hasVectors ? readJson<BytesTree>('derived/bytes-tree-roots-0..256.json') : undefined;
  const leaves = Array.from({ length: 256 }, (_, i) => leafHash(Uint8Array.of(i)));
  const roots = Object.entries(tree?.roots_by_size ?? {}).map(([size, root]) => ({
    size: Number(size),
    root,
  }));

  it('gives all 257 roots for sizes 0..256', async () => {
    expect(roots).toHaveLength(257);
    const store = await storeOf(leaves);
    for (const { size, root } of roots) {
      expect(hex(await rootAt(size, store.getHashes)), `size ${size}`).toBe(root);
    }
  });

  it('gives the same roots when the leaves arrive in random batch sizes', async () => {
    // Random cut points in 1..255 split the 256 leaves into batches.
    const batchSizes = fc
      .uniqueArray(fc.integer({ min: 1, max: 255 }), { maxLength: 40 })
      .map((cuts) => [0, ...cuts.sort((a, b) => a - b), 256])
      .map((bounds) => bounds.slice(1).map((end, i) => end - (bounds[i] as number)));
    await fc.assert(
      fc.asyncProperty(batchSizes, async (batches) => {
        const store = new MemoryHashStore();
        let size = 0;
        let stored = 0;
        for (const count of batches) {
          const nodes = await appendLeaves(size, leaves.slice(size, size + count), store.getHashes);
          store.put(nodes);
          stored += nodes.length;
          size += count;
          expect(hex(await rootAt(size, store.getHashes))).toBe(tree?.roots_by_size[size]);
        }
        expect(stored).toBe(511); // every complete subtree of 256 leaves, each exactly once
        for (const { size: s, root } of roots) {
          expect(hex(await rootAt(s, store.getHashes))).toBe(root);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('reproduces the sample inclusion and consistency proofs', async () => {
    const store = await storeOf(leaves);
    expect(tree?.sample_inclusion.length).toBeGreaterThan(0);
    for (const { leaf_index, tree_size, leaf_hash, proof } of tree?.sample_inclusion ?? []) {
      expect(hex(leaves[leaf_index] as Buffer)).toBe(leaf_hash);
      const got = await inclusionProof(leaf_index, tree_size, store.getHashes);
      expect(got.map(hex), `PATH(${leaf_index}, ${tree_size})`).toEqual(proof);
    }
    expect(tree?.sample_consistency.length).toBeGreaterThan(0);
    for (const { size1, size2, proof } of tree?.sample_consistency ?? []) {
      const got = await consistencyProof(size1, size2, store.getHashes);
      expect(got.map(hex), `PROOF(${size1}, ${size2})`).toEqual(proof);
    }
  });
});
