/**
 * The embedded database is used by one process: a second process that opens the same data dir while
 * `warden serve` runs is refused with a message naming the holder, and the data dir stays intact.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { isWardenError } from '../../src/errors.js';
import { acquireEmbeddedLock } from '../../src/storage/embedded-lock.js';

const bin = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));
const children: ChildProcess[] = [];
let dir: string;

/** The environment minus what would send Warden elsewhere than the temp data dir. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  for (const name of ['DATABASE_URL', 'WARDEN_CONFIG', 'WARDEN_DATA_DIR', 'WARDEN_SIGNING_KEY']) {
    delete env[name];
  }
  return env;
}

/** Starts `warden serve --port 0`; resolves with the process and its URL once it listens. */
function startServer(
  dataDir: string,
  configFile: string,
): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [bin, '--data-dir', dataDir, '--config', configFile, 'serve', '--port', '0'],
    { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(proc);
  let stdout = '';
  let stderr = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`warden serve did not listen within 30 s:\n${stdout}\n${stderr}`)),
      30_000,
    );
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /Warden is listening on (http:\/\/\S+?) /.exec(stdout)?.[1];
      if (url) {
        clearTimeout(timer);
        resolvePromise({ proc, url });
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`warden serve exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
}

function exitOf(proc: ChildProcess, withinMs: number): Promise<number | string | null> {
  return new Promise((resolvePromise, reject) => {
    if (proc.exitCode !== null) return resolvePromise(proc.exitCode);
    const timer = setTimeout(() => reject(new Error(`no exit within ${withinMs} ms`)), withinMs);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise(code ?? signal);
    });
  });
}

/** A process id that no process holds any more. */
function deadPid(): number {
  const { pid, status } = spawnSync(process.execPath, ['-e', '']);
  if (pid === undefined || status !== 0) throw new Error('could not run node');
  return pid;
}

/** Runs the CLI on a data dir; resolves with the exit code and what it printed. */
async function cli(dataDir: string, configFile: string, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--data-dir', dataDir, '--config', configFile, ...args], {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(() => {
  for (const name of ['DATABASE_URL', 'WARDEN_CONFIG', 'WARDEN_DATA_DIR', 'WARDEN_SIGNING_KEY']) {
    vi.stubEnv(name, '');
  }
  vi.stubEnv('LOG_LEVEL', 'error');
  dir = mkdtempSync(join(tmpdir(), 'warden-lock-'));
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded database with warden serve running', { timeout: 120_000 }, () => {
  let dataDir: string;
  let configFile: string;
  let server: { proc: ChildProcess; url: string };

  beforeAll(async () => {
    dataDir = join(dir, 'served');
    configFile = join(dir, 'served.yaml');
    writeFileSync(configFile, 'tenants:\n  - id: alpha\n    tier: pro\n');
    server = await startServer(dataDir, configFile);
  }, 60_000);

  it('refuses a second process, naming the holder and suggesting DATABASE_URL', async () => {
    const { code, out, err } = await cli(
      dataDir,
      configFile,
      'tenant',
      'create',
      'x',
      '--tier',
      'free',
    );
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain(`is in use by another Warden process (pid ${server.proc.pid}`);
    expect(err).toContain('warden serve');
    expect(err).toContain('DATABASE_URL');
    const lock = JSON.parse(readFileSync(join(dataDir, 'pgdata.lock'), 'utf8'));
    expect(lock.pid).toBe(server.proc.pid);
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('exits 0 on SIGTERM and releases the lock', async () => {
    server.proc.kill('SIGTERM');
    expect(await exitOf(server.proc, 10_000)).toBe(0);
    expect(existsSync(join(dataDir, 'pgdata.lock'))).toBe(false);
  });

  it('leaves the data dir intact: a tenant can be created and the export verifies', async () => {
    const created = await cli(dataDir, configFile, 'tenant', 'create', 'x', '--tier', 'free');
    expect(created.code).toBe(0);
    const file = join(dir, 'alpha.json');
    const exported = await cli(dataDir, configFile, 'export', '--tenant', 'alpha', '--out', file);
    expect(exported.code).toBe(0);
    expect(exported.out).toContain('Wrote 1 receipt(s) (seq 1..1) of alpha');
    expect((await cli(dataDir, configFile, 'verify', file)).code).toBe(0);
  });
});

describe('embedded database with a stale lock', { timeout: 120_000 }, () => {
  it('takes over a lock file whose process is gone', async () => {
    const dataDir = join(dir, 'stale');
    const configFile = join(dir, 'stale.yaml');
    writeFileSync(configFile, 'tenants: []\n');
    const holder = { pid: deadPid(), purpose: 'warden serve on port 3000', since: '2020-01-01' };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'pgdata.lock'), JSON.stringify(holder));
    const { code, out, err } = await cli(
      dataDir,
      configFile,
      'tenant',
      'create',
      'y',
      '--tier',
      'free',
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('Created tenant y (free)');
    expect(existsSync(join(dataDir, 'pgdata.lock'))).toBe(false);
  });
});

describe('acquireEmbeddedLock', () => {
  let live: ChildProcess;

  beforeAll(async () => {
    live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    children.push(live);
    await new Promise((resolvePromise) => live.once('spawn', resolvePromise));
  });

  it('writes its own pid and purpose with mode 0600 and removes the file on release', () => {
    const path = join(dir, 'unit-own', 'pgdata.lock');
    const lock = acquireEmbeddedLock(path, 'unit test');
    const holder = JSON.parse(readFileSync(path, 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, purpose: 'unit test' });
    expect(Number.isNaN(Date.parse(holder.since))).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    lock.release();
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, 'someone else');
    lock.release();
    expect(readFileSync(path, 'utf8')).toBe('someone else');
  });

  it('throws storage_locked naming the live holder and leaves its lock alone', () => {
    const path = join(dir, 'unit-live', 'pgdata.lock');
    mkdirSync(join(dir, 'unit-live'), { recursive: true });
    const content = JSON.stringify({ pid: live.pid, purpose: 'warden serve', since: 'then' });
    writeFileSync(path, content);
    let thrown: unknown;
    try {
      acquireEmbeddedLock(path, 'second');
    } catch (err) {
      thrown = err;
    }
    expect(isWardenError(thrown) && thrown.code).toBe('storage_locked');
    expect((thrown as Error).message).toContain(`pid ${live.pid}, warden serve, since then`);
    expect((thrown as Error).message).toContain('DATABASE_URL');
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('takes over the lock once its holder has died', () => {
    const path = join(dir, 'unit-dead', 'pgdata.lock');
    mkdirSync(join(dir, 'unit-dead'), { recursive: true });
    writeFileSync(path, JSON.stringify({ pid: deadPid(), purpose: 'warden serve', since: 'then' }));
    const lock = acquireEmbeddedLock(path, 'successor');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({
      pid: process.pid,
      purpose: 'successor',
    });
    lock.release();
    expect(existsSync(path)).toBe(false);
  });
});
