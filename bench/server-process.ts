/**
 * Server processes for the start-up benchmark: spawn, time to the first 200 from GET /healthz, read
 * the idle resident set from /proc, and stop with SIGTERM, verifying the process is gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { get } from 'node:http';
import { sleep, withDeadline } from './stats.js';

export interface StartOptions {
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** @defaultValue 30_000 */
  timeoutMs?: number;
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Milliseconds from spawn to the first 200 from `GET <url>/healthz`. */
  readyMs: number;
  /** The last few kilobytes the process printed, for error messages. */
  output(): string;
}

const listening = /listening on (https?:\/\/\S+?)\.?(?:\s|$)/;

/** Spawns `node <args>`, reads its URL from the 'listening on <url>' line and waits for /healthz. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  let resolveUrl: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4096);
    const match = listening.exec(tail);
    if (match?.[1]) resolveUrl(match[1]);
  };
  child.stdout?.on('data', keep); // always drained, so a chatty child never blocks on a full pipe
  child.stderr?.on('data', keep);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`exited (${signal ?? code}) before it was ready:\n${tail.trim()}`)),
    );
  });
  exited.catch(() => {}); // also rejects after a normal stop; only the race below cares
  try {
    const ready = (async () => {
      const base = await Promise.race([url, exited]);
      while ((await healthStatus(`${base}/healthz`)) !== 200) await sleep(10);
      return base;
    })();
    const base = await withDeadline(
      Promise.race([ready, exited]),
      options.timeoutMs ?? 30_000,
      'start-up',
    );
    if (child.pid === undefined) throw new Error('spawn gave no pid');
    return {
      child,
      pid: child.pid,
      url: base,
      readyMs: performance.now() - started,
      output: () => tail,
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** The status of a GET, or 0 when the connection fails (not listening yet). */
function healthStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** The process's resident set in bytes (VmRSS of /proc/<pid>/status; Linux only). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/** Sends SIGTERM and waits for the exit; SIGKILLs and throws if the process does not go in time. */
export async function stopServer(server: ServerProcess, timeoutMs = 10_000): Promise<void> {
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    try {
      await withDeadline(gone, timeoutMs, `pid ${server.pid} after SIGTERM`);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }
  if (isRunning(server.pid)) throw new Error(`pid ${server.pid} is still running after exit`);
  if (child.exitCode !== 0) {
    const how = child.signalCode ?? `code ${child.exitCode}`;
    throw new Error(`pid ${server.pid} did not exit cleanly on SIGTERM (${how})`);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
