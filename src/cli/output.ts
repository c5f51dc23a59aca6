/** CLI output: what commands print, and how failures become exit codes (0 ok, 1 failure, 2 usage). */
import { isWardenError } from '../errors.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Ends a command with an exit code after it has printed its own explanation. */
export class ExitCode extends Error {
  override readonly name = 'ExitCode';
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Prints a failure the way a user can act on it; returns the exit code. */
export function reportFailure(err: unknown, io: Io): number {
  if (err instanceof ExitCode) return err.code;
  if (err instanceof UsageError) {
    io.err(`warden: ${err.message}`);
    return 2;
  }
  if (isWardenError(err)) {
    io.err(`warden: ${err.message}`);
    return 1;
  }
  io.err(`warden: unexpected failure: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
}
