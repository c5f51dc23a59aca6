/** Pack writer: writes artifacts into the pack folder and the package files the pack copies. */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, from the sources (src/) or the build (dist/src/). */
function packageRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return from;
}

/** A file shipped with Warden (templates, docs, built-in policies), by its path in the package. */
export const packageFile = (path: string) =>
  resolve(packageRoot(dirname(fileURLToPath(import.meta.url))), path);

export interface PackWriter {
  readonly dir: string;
  /** Writes `content` at `path` (relative, `/`-separated); resolves to `path` for linking. */
  write(path: string, content: string | Uint8Array): Promise<string>;
  /** Writes `value` as pretty JSON. */
  json(path: string, value: unknown): Promise<string>;
  /** Copies a file into the pack. */
  copy(from: string, path: string): Promise<string>;
}

export function createPackWriter(dir: string): PackWriter {
  const target = async (path: string) => {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    return full;
  };
  return {
    dir,
    async write(path, content) {
      await writeFile(await target(path), content);
      return path;
    },
    json(path, value) {
      return this.write(path, `${JSON.stringify(value, null, 2)}\n`);
    },
    async copy(from, path) {
      await copyFile(from, await target(path));
      return path;
    },
  };
}
