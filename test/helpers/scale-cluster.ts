/**
 * Scale-out cluster: real `node bin/warden.js serve --role …` child processes that share one
 * PostgreSQL database, one Redis prefix, one signing key and one config file; each process's
 * Prometheus counters read back, and the Redis keys of the run removed afterwards.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { type ServerProcess, startServer, stopServer } from '../../bench/server-process.js';

const wardenBin = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

/** Variables of the parent that would change what a child reads: it gets only what it is given. */
const inherited = /^(WARDEN_|SLACK_|TEAMS_|DATABASE_URL$|REDIS_URL$|PORT$|HOST$|LOG_LEVEL$)/;

export interface WardenProcess extends ServerProcess {
  role: 'ingress' | 'worker' | 'all';
  name: string;
}

export interface StartWardenOptions {
  role: WardenProcess['role'];
  /** Names the process in messages and its data directory under `dir`. */
  name: string;
  /** Working directory; each process's data directory is `<dir>/<name>`. */
  dir: string;
  /** DATABASE_URL, REDIS_URL, WARDEN_CONFIG, WARDEN_SIGNING_KEY, … */
  env: Record<string, string>;
  /** @defaultValue 60_000 */
  timeoutMs?: number;
}

/**
 * Spawns `warden serve --role <role>` on a free loopback port; resolves once `/healthz` answers 200.
 * @example
 * const ingress = await startWarden({ role: 'ingress', name: 'ingress-1', dir, env });
 */
export async function startWarden(options: StartWardenOptions): Promise<WardenProcess> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !inherited.test(name)),
  );
  const env = { ...options.env };
  if (env.DATABASE_URL) {
    // Names the process's connections in pg_stat_activity.
    const url = new URL(env.DATABASE_URL);
    url.searchParams.set('application_name', `warden-${options.name}`);
    env.DATABASE_URL = url.toString();
  }
  const server = await startServer({
    args: [wardenBin, 'serve', '--role', options.role],
    cwd: options.dir,
    env: {
      ...base,
      PORT: '0',
      HOST: '127.0.0.1',
      WARDEN_DATA_DIR: join(options.dir, options.name),
      ...env,
    },
    timeoutMs: options.timeoutMs ?? 60_000,
  }).catch((err: unknown) => {
    throw new Error(`${options.name} did not start: ${(err as Error).message}`);
  });
  return Object.assign(server, { role: options.role, name: options.name });
}

/** SIGTERM, then waits for exit status 0 (throws naming the process and its last output if not). */
export async function stopWarden(proc: WardenProcess, timeoutMs = 30_000): Promise<void> {
  await stopServer(proc, timeoutMs).catch((err: unknown) => {
    throw new Error(`${proc.name}: ${(err as Error).message}\n${proc.output()}`);
  });
}

/** Stops any process still running, without waiting for a drain. */
export function killWarden(proc: WardenProcess): void {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
}

/** `GET /metrics` of one process (allowed on loopback when no operator token is set). */
export async function scrapeMetrics(proc: WardenProcess): Promise<string> {
  const res = await fetch(`${proc.url}/metrics`);
  if (res.status !== 200) throw new Error(`${proc.name} /metrics answered ${res.status}`);
  return res.text();
}

/**
 * The sum of a counter's samples whose labels include `labels`, in Prometheus text format.
 * @example
 * metricSum(text, 'warden_runs_total', { tenant: 'scale' }); // 312
 */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}) {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => has[k] === v)) sum += Number(match[3]);
  }
  return sum;
}

/** Deletes every Redis key under `<prefix>:` (queues, job schedulers, locks). */
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

export interface ConnectionWatch {
  /** The most connections seen at once, per `application_name` and as `all`. */
  peaks: Map<string, number>;
  stop(): void;
}

/**
 * Samples `pg_stat_activity` of one database every 200 ms (leaving out the sampling connection).
 * @example
 * const watch = watchConnections(knex, 'warden_test_ab12');
 * // … load …
 * watch.stop(); watch.peaks.get('warden-worker-1'); // 32
 */
export function watchConnections(knex: Knex, database: string): ConnectionWatch {
  const peaks = new Map<string, number>();
  const sample = async () => {
    const { rows } = await knex.raw<{ rows: Array<{ name: string; n: number }> }>(
      `select application_name as name, count(*)::int as n from pg_stat_activity
       where datname = ? and pid <> pg_backend_pid() group by 1`,
      [database],
    );
    const all = rows.reduce((sum, r) => sum + r.n, 0);
    for (const { name, n } of [...rows, { name: 'all', n: all }]) {
      peaks.set(name, Math.max(peaks.get(name) ?? 0, n));
    }
  };
  const timer = setInterval(() => void sample().catch(() => {}), 200);
  return { peaks, stop: () => clearInterval(timer) };
}
