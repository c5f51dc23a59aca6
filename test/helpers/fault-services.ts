/**
 * Private service instances for the fault tests: a Redis server and a PostgreSQL cluster of the
 * test's own, on free ports, that the test may kill, stop and start again. The machine's shared
 * services are never touched. PostgreSQL's server binaries come from `WARDEN_PG_BIN` or the newest
 * `/usr/lib/postgresql/<version>/bin`; as root, initdb and pg_ctl run as the `postgres` OS user
 * (initdb refuses root). A missing binary is an error, never a skip.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import knexFactory from 'knex';

const run = promisify(execFile);

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls until `check` holds, or throws naming what it waited for. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
  return Date.now() - started;
}

/** Cleanups that must run even when the test process ends early (kill the private servers). */
const onExit = new Set<() => void>();
process.once('exit', () => {
  for (const cleanup of onExit) {
    try {
      cleanup();
    } catch {
      // best effort while exiting
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Redis

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILLs the server: with no persistence, everything it held is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Stops it for good. */
  close(): Promise<void>;
}

/** Answers whether a Redis server on the port replies PONG to PING. */
function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/**
 * `redis-server --port <free> --save '' --appendonly no` (no persistence: a restart loses every
 * key, as a crashed cache node would).
 */
export async function startPrivateRedis(binary = '/usr/bin/redis-server'): Promise<PrivateRedis> {
  if (!existsSync(binary)) {
    throw new Error(`${binary} not found: install redis-server to run the Redis fault test`);
  }
  const port = await freePort();
  let proc: ChildProcess | undefined;
  let output = '';
  const exited = (p: ChildProcess) =>
    p.exitCode !== null || p.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => p.once('exit', () => resolve()));
  const killNow = () => proc?.kill('SIGKILL');

  async function start() {
    const child = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc = child;
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4096);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    onExit.add(killNow);
    await waitFor(
      `private redis-server on port ${port} to answer PING`,
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited:\n${output}`);
        return pingRedis(port);
      },
      20_000,
    );
  }

  async function kill() {
    const child = proc;
    if (!child) return;
    child.kill('SIGKILL');
    await exited(child);
    proc = undefined;
    onExit.delete(killNow);
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    close: kill,
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/warden` (trust authentication). */
  url: string;
  port: number;
  /** `pg_ctl stop` (`fast`: clients are disconnected, as in a failover or an operator's stop). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** `pg_ctl start` on the same data directory and port. */
  start(): Promise<void>;
  /** Stops the cluster and deletes its directory. */
  destroy(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: `WARDEN_PG_BIN`, else the newest installed version. */
async function postgresBinDir(): Promise<string> {
  const fromEnv = process.env.WARDEN_PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  }
  throw new Error(
    'No PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/<version>/bin: ' +
      'install postgresql, or set WARDEN_PG_BIN to the folder holding them.',
  );
}

/** The command prefix that runs PostgreSQL's tools as a user they accept. */
function asPostgresUser(): { prefix: string[]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  let ids: string[];
  try {
    ids = [
      execFileSync('id', ['-u', 'postgres']).toString().trim(),
      execFileSync('id', ['-g', 'postgres']).toString().trim(),
    ];
  } catch {
    throw new Error('Running as root, but there is no postgres OS user to run initdb as.');
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find(existsSync);
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find(existsSync);
  const [uid, gid] = ids.map(Number) as [number, number];
  if (runuser) return { prefix: [runuser, '-u', 'postgres', '--'], uid, gid };
  if (setpriv) {
    return {
      prefix: [setpriv, `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'],
      uid,
      gid,
    };
  }
  throw new Error('Running as root, but neither runuser nor setpriv is there to run initdb.');
}

/**
 * A new PostgreSQL cluster in a temporary directory (trust authentication, `fsync=off`), listening
 * on 127.0.0.1 at a free port, with an empty database `warden`.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = await postgresBinDir();
  const user = asPostgresUser();
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'warden-fault-pg-'));
  if (user.uid !== undefined && user.gid !== undefined) await chown(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const command = (name: string, args: string[]) =>
    [...user.prefix, join(bin, name), ...args] as [string, ...string[]];
  const tool = async (name: string, args: string[]) => {
    const [cmd, ...rest] = command(name, args);
    try {
      await run(cmd, rest, { cwd: dir, timeout: 120_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      const serverLog = await readFile(log, 'utf8').catch(() => '');
      throw new Error(
        `${name} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}\n${serverLog.slice(-2000)}`,
      );
    }
  };
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
  ].join(' ');
  let running = false;
  const stopNow = () => {
    if (!running) return;
    const [cmd, ...rest] = command('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    execFileSync(cmd, rest, { stdio: 'ignore' });
  };

  await tool('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  const start = async () => {
    await tool('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', options, 'start']);
    running = true;
    onExit.add(stopNow);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await tool('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    running = false;
    onExit.delete(stopNow);
  };
  await start();
  const admin = knexFactory({
    client: 'pg',
    connection: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pool: { min: 0, max: 1 },
  });
  try {
    await admin.raw('create database warden');
  } finally {
    await admin.destroy();
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/warden`,
    port,
    stop,
    start,
    async destroy() {
      if (running) await stop('immediate').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Deletes every key under `<prefix>:` on a Redis server (the queues a test's servers made). */
export async function clearRedisPrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  try {
    await client.connect();
    for await (const keys of client.scanStream({ match: `${prefix}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) await client.del(...(keys as string[]));
    }
  } finally {
    client.disconnect();
  }
}
