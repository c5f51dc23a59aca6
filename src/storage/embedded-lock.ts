/**
 * Embedded-lock: PGlite's directory may be opened by one process only. A lock file holding the owner's
 * pid is created exclusively; a lock whose pid is dead is stale and taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { WardenError } from '../errors.js';

export interface EmbeddedLock {
  readonly path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws `storage_locked` naming the process that holds it. */
export function acquireEmbeddedLock(path: string, purpose: string): EmbeddedLock {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() }));
      closeSync(fd);
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(path);
      if (holder && isAlive(holder.pid) && holder.pid !== process.pid) {
        throw new WardenError(
          'storage_locked',
          `The embedded database ${dirname(path)} is in use by another Warden process (pid ${holder.pid}, ${holder.purpose}, since ${holder.since}). ` +
            'Stop that process first, use its HTTP API, or run Warden on PostgreSQL by setting DATABASE_URL.',
        );
      }
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new WardenError('storage_locked', `Could not take the embedded database lock ${path}.`);
}

function readHolder(path: string): { pid: number; purpose: string; since: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown };
    return typeof parsed.pid === 'number' ? (parsed as never) : undefined;
  } catch {
    return undefined;
  }
}
