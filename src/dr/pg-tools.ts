/**
 * Pg-tools: runs `pg_dump` / `pg_restore` with a connection URL, keeping the password out of the
 * process list (PGPASSWORD), and turns their failures into messages a user can act on.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WardenError } from '../errors.js';

const run = promisify(execFile);

/** A URL without its password, and the environment that carries the password instead. */
export function splitPassword(databaseUrl: string): { url: string; env: NodeJS.ProcessEnv } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return { url: databaseUrl, env: process.env }; // a key=value conninfo: passed as is
  }
  const password = decodeURIComponent(url.password);
  url.password = '';
  return {
    url: url.toString(),
    env: password ? { ...process.env, PGPASSWORD: password } : process.env,
  };
}

/** The same server's URL for another database. */
export function withDatabase(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Runs a PostgreSQL client tool against `databaseUrl` (`--dbname`); throws `failure` with the tool's
 * first error lines when it exits non-zero, `not_ready` when it is not installed.
 */
export async function runPgTool(
  tool: 'pg_dump' | 'pg_restore',
  databaseUrl: string,
  args: string[],
  failure: 'internal' | 'invalid',
): Promise<void> {
  const { url, env } = splitPassword(databaseUrl);
  try {
    await run(tool, [...args, '--no-password', `--dbname=${url}`], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new WardenError(
        'not_ready',
        `${tool} was not found on PATH: install the PostgreSQL client tools (the server's major version or newer).`,
        { cause: err },
      );
    }
    const said = (e.stderr ?? e.message)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .slice(0, 3)
      .join(' / ');
    throw new WardenError(failure, `${tool} failed: ${said}`, { cause: err });
  }
}
