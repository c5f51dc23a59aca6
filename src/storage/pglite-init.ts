/**
 * PGlite-init: creates a new PGlite data directory in a short-lived child process. initdb grows
 * PGlite's WASM memory to ~860 MB, which is never returned; doing it in a child keeps the server's
 * resident memory at what reopening costs (~300 MB).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const childScript = `
const [url, dir] = process.argv.slice(1);
const { PGlite } = await import(url);
const db = new PGlite(dir);
await db.waitReady;
await db.close();
`;

export function isInitialised(pgdata: string): boolean {
  return existsSync(join(pgdata, 'PG_VERSION'));
}

/** Runs initdb for `pgdata` in a child process, unless it already holds a database. */
export async function initEmbeddedDataDir(pgdata: string): Promise<void> {
  if (isInitialised(pgdata)) return;
  const url = import.meta.resolve('@electric-sql/pglite');
  await run(process.execPath, ['--input-type=module', '-e', childScript, url, pgdata], {
    timeout: 120_000,
  });
}
