/**
 * Test vectors: the shared, read-only folder beside the repository (`../shared/vectors`). Suites
 * using it skip when it is absent (`describe.skipIf(!hasVectors)`); vectors are never copied in.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export const vectorsDir = resolve(repoRoot, '../shared/vectors');
export const hasVectors = existsSync(vectorsDir);
