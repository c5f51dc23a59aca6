/**
 * Embedded-lock: PGlite's directory may be opened by one process only, and only once in it.
 *
 * The lock file appears atomically with its content (written aside, then hard-linked into place), and
 * holds the owner's pid and a nonce. A lock whose pid is dead is stale; it is taken over only while
 * holding an exclusive takeover marker, so two processes cannot both take it. `release()` removes the
 * file only if it still carries our nonce.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { WardenError } from '../errors.js';

export interface EmbeddedLock {
  readonly path: string;
  release(): void;
}

interface Holder {
  pid: number;
  purpose: string;
  since: string;
  /** Absent in locks written before nonces existed. */
  nonce?: string;
}

/** Lock paths held by this process: a second open here is refused too. */
const heldHere = new Set<string>();

/** A takeover marker older than this is left over from a crash and may be removed. */
const takeoverTimeoutMs = 10_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    return typeof parsed.pid === 'number' ? (parsed as Holder) : undefined;
  } catch {
    return undefined;
  }
}

/** Creates `path` with `content` atomically; false if it exists. */
function createExclusive(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function lockedError(path: string, holder: Holder): WardenError {
  return new WardenError(
    'storage_locked',
    `The embedded database ${dirname(path)} is in use by another Warden process (pid ${holder.pid}, ${holder.purpose}, since ${holder.since}). ` +
      'Stop that process first, use its HTTP API, or run Warden on PostgreSQL by setting DATABASE_URL.',
  );
}

/** Removes a stale lock under the takeover marker; true if the caller may try to create it again. */
function takeOverStale(path: string, stale: Holder | undefined): boolean {
  const marker = `${path}.takeover`;
  if (!createExclusive(marker, String(process.pid))) {
    const age = Date.now() - (statSync(marker, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > takeoverTimeoutMs) rmSync(marker, { force: true });
    return false; // another process is taking over right now
  }
  try {
    const now = readHolder(path);
    if (now?.pid === stale?.pid && now?.nonce === stale?.nonce) rmSync(path, { force: true });
    return true;
  } finally {
    rmSync(marker, { force: true });
  }
}

/** Takes the lock or throws `storage_locked` naming the process that holds it. */
export function acquireEmbeddedLock(path: string, purpose: string): EmbeddedLock {
  if (heldHere.has(path)) {
    throw new WardenError(
      'storage_locked',
      `The embedded database ${dirname(path)} is already open in this process; reuse that connection.`,
    );
  }
  mkdirSync(dirname(path), { recursive: true });
  const me: Holder = {
    pid: process.pid,
    purpose,
    since: new Date().toISOString(),
    nonce: randomBytes(12).toString('hex'),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(path, JSON.stringify(me))) {
      heldHere.add(path);
      return {
        path,
        release() {
          if (!heldHere.delete(path)) return;
          if (readHolder(path)?.nonce === me.nonce) rmSync(path, { force: true });
        },
      };
    }
    const holder = readHolder(path);
    // Our own pid without our record means a previous process with a recycled pid (containers).
    if (holder && holder.pid !== process.pid && isAlive(holder.pid))
      throw lockedError(path, holder);
    takeOverStale(path, holder);
  }
  throw new WardenError('storage_locked', `Could not take the embedded database lock ${path}.`);
}
