/**
 * Ingress benchmark: webhook deliveries per second and their latency, driven by autocannon from this
 * process against servers on loopback, each in a child process of its own:
 *  - a bare Hono route on @hono/node-server answering 202 to a JSON POST;
 *  - the ceiling: a Hono route that checks an HMAC-SHA256 of the body and signs an Ed25519 receipt
 *    over it with node:crypto;
 *  - Warden (`node bin/warden.js serve`) on PostgreSQL, POST /hooks/acme/alertmanager with the real
 *    firing body Alertmanager 0.25 sent (test/fixtures/alertmanager/firing_via_api_v2.json): a fresh
 *    fingerprint per request ("new alerts": trigger + signed receipt committed each time) and the
 *    same body again and again ("redelivery": answered `duplicate: true`).
 * Then a steady 1,000 deliveries/s (new alerts) for the p99 goal, and a CPU profile of Warden under
 * the new-alerts load (written to bench/results/).
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import knexFactory from 'knex';
import { createBenchDatabase } from './bench-database.js';
import { type BenchRow, defineBenchmark } from './benchmark.js';
import { type ServerProcess, startServer, stopServer } from './server-process.js';
import { withDeadline } from './stats.js';

/** Concurrent connections for the throughput runs (Warden's group commit batches across them). */
const connections = 50;
const runSeconds = 8;
const warmupSeconds = 2;
const steadyRate = 1_000;
const steadySeconds = 10;
/** Warden ÷ ceiling goal for throughput, and the p99 goal at the steady rate. */
const throughputGoal = 0.6;
const p99GoalMs = 25;
const tenant = 'acme';
const hookPath = `/hooks/${tenant}/alertmanager`;
const hmacSecret = randomBytes(32).toString('hex');
/** The whole benchmark runs ~80 s here; past this it is reported as an error. */
const caseDeadlineMs = 180_000;

/** The ceiling servers, started with `node -e` like the start-up benchmark's bare Hono. */
const serverPrelude = `
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
const app = new Hono();
app.get('/healthz', (c) => c.json({ status: 'ok' }));
const listen = () => {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
    console.log('listening on http://127.0.0.1:' + info.port));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
};
`;

const bareHono = `${serverPrelude}
app.post('${hookPath}', async (c) => {
  await c.req.json();
  return c.json({ accepted: true }, 202);
});
listen();
`;

/** Verify, parse, sign a receipt over the body's digest: what any signed ingest must do at least. */
const hmacSign = `${serverPrelude}
import { createHash, createHmac, generateKeyPairSync, randomUUID, sign, timingSafeEqual } from 'node:crypto';
const secret = process.env.BENCH_HMAC_SECRET;
const { privateKey } = generateKeyPairSync('ed25519');
app.post('${hookPath}', async (c) => {
  const raw = Buffer.from(await c.req.arrayBuffer());
  const given = Buffer.from(c.req.header('x-signature') ?? '', 'hex');
  const expected = createHmac('sha256', secret).update(raw).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return c.json({ error: 'bad signature' }, 401);
  }
  JSON.parse(raw.toString('utf8'));
  const payload = JSON.stringify({
    id: randomUUID(),
    tenant: '${tenant}',
    kind: 'trigger.received',
    at: new Date().toISOString(),
    bodyDigest: 'sha256:' + createHash('sha256').update(raw).digest('hex'),
  });
  const sig = sign(null, Buffer.from(payload), privateKey).toString('base64url');
  return c.json({ accepted: [{ payload, sig }] }, 202);
});
listen();
`;

/** Environment for every child: loopback, and nothing from the caller that would change what runs. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1' };
  const strip = ['DATABASE_URL', 'REDIS_URL', 'PORT', 'WARDEN_CONFIG', 'WARDEN_DATA_DIR'];
  for (const name of [...strip, 'WARDEN_SIGNING_KEY', 'LOG_LEVEL']) delete env[name];
  return { ...env, ...extra };
}

// --- request bodies ------------------------------------------------------------------------------

interface Bodies {
  /** The fixture body with a fresh fingerprint (a new alert) on every call. */
  fresh(): Buffer;
  /** The fixture body exactly as Alertmanager sent it (a redelivery after the first). */
  same(): Buffer;
}

/** The firing body Alertmanager sent, split around its fingerprint so a fresh one costs a concat. */
async function loadBodies(root: string): Promise<Bodies> {
  const path = join(root, 'test/fixtures/alertmanager/firing_via_api_v2.json');
  const body = (JSON.parse(await readFile(path, 'utf8')) as { body: { alerts: unknown[] } }).body;
  const alert = body.alerts[0] as { fingerprint: string };
  const same = Buffer.from(JSON.stringify(body));
  alert.fingerprint = '\u0000';
  const [head, tail] = JSON.stringify(body).split('\\u0000') as [string, string];
  const run = randomBytes(4).toString('hex');
  let n = 0;
  return {
    fresh: () => Buffer.from(`${head}${run}${(n++).toString(16).padStart(8, '0')}${tail}`),
    same: () => same,
  };
}

// --- load ----------------------------------------------------------------------------------------

interface LoadFigures {
  /** 2xx answers per second over the run. */
  rps: number;
  p50: number;
  p99: number;
  /** Requests answered (any status). */
  answered: number;
}

interface LoadOptions {
  url: string;
  body: () => Buffer;
  headers: Record<string, string>;
  seconds: number;
  /** Fixed overall rate (requests/s); latencies are corrected for coordinated omission. */
  rate?: number;
}

/**
 * One autocannon run. Every request carries an HMAC-SHA256 of its body (only the ceiling checks it),
 * so the client does the same work whichever server it drives. Any non-2xx answer or connection
 * error fails the run: a figure counts accepted deliveries only.
 */
async function load(options: LoadOptions): Promise<LoadFigures> {
  const result = await autocannon({
    url: options.url,
    connections,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        method: 'POST',
        path: hookPath,
        setupRequest: (request) => {
          const body = options.body();
          const signature = createHmac('sha256', hmacSecret).update(body).digest('hex');
          return {
            ...request,
            headers: {
              ...options.headers,
              'content-type': 'application/json',
              'user-agent': 'Alertmanager/0.25.0',
              'x-signature': signature,
            },
            body,
          };
        },
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(
      `${result.non2xx} non-2xx answers, ${result.errors} errors (${result.timeouts} timeouts); ` +
        `status codes ${JSON.stringify(result.statusCodeStats ?? {})}`,
    );
  }
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    answered: result.requests.total,
  };
}

const show = (f: LoadFigures) =>
  `${Math.round(f.rps).toLocaleString('en-US')} req/s, p50 ${f.p50} ms, p99 ${f.p99} ms`;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/**
 * An open-loop client at a truly steady rate: request i is due at start + i/rate and is sent then,
 * whatever is still in flight (as many connections as that takes, kept alive). Latency runs from
 * the due time to the end of the answer, so a stall on either side is counted, not omitted.
 * autocannon's `overallRate` is not this: each connection sends its per-second quota back to back
 * at the start of every second, and its coordinated-omission correction then assumes a
 * 1/quota-ms interval (see bench/README.md).
 */
async function paced(options: LoadOptions & { rate: number }): Promise<LoadFigures> {
  const { rate, seconds } = options;
  const total = Math.round(rate * seconds);
  const agent = new Agent({ keepAlive: true, maxSockets: 1_000 });
  const target = new URL(hookPath, options.url);
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const start = performance.now() + 20;
  const dueAt = (i: number) => start + (i * 1000) / rate;
  let sent = 0;
  let settled = 0;
  let lastEnd = start;
  try {
    await withDeadline(
      new Promise<void>((resolve) => {
        const settle = (failure?: string) => {
          settled++;
          lastEnd = performance.now();
          if (failure) failures.set(failure, (failures.get(failure) ?? 0) + 1);
          if (settled === total) resolve();
        };
        const send = (due: number) => {
          const body = options.body();
          const req = request(
            target,
            {
              method: 'POST',
              agent,
              headers: {
                ...options.headers,
                'content-type': 'application/json',
                'content-length': body.length,
                'user-agent': 'Alertmanager/0.25.0',
                'x-signature': createHmac('sha256', hmacSecret).update(body).digest('hex'),
              },
            },
            (res) => {
              res.resume();
              res.on('end', () => {
                const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
                if (ok) latencies.push(performance.now() - due);
                settle(ok ? undefined : String(res.statusCode));
              });
            },
          );
          req.on('error', (err) => settle((err as NodeJS.ErrnoException).code ?? err.message));
          req.end(body);
        };
        const tick = () => {
          const now = performance.now();
          while (sent < total && dueAt(sent) <= now) send(dueAt(sent++));
          if (sent < total) setTimeout(tick, Math.max(0, dueAt(sent) - performance.now()));
        };
        setTimeout(tick, Math.max(0, start - performance.now()));
      }),
      (seconds + 15) * 1000,
      `paced run (${settled} of ${total} answered)`,
    );
  } finally {
    agent.destroy();
  }
  if (failures.size > 0) {
    throw new Error(`paced run: failures ${JSON.stringify(Object.fromEntries(failures))}`);
  }
  latencies.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    rps: latencies.length / ((lastEnd - start) / 1000),
    p50: round(quantile(latencies, 0.5)),
    p99: round(quantile(latencies, 0.99)),
    answered: settled,
  };
}

// --- CPU accounting and profile ------------------------------------------------------------------

let clockTicks = 0;
function ticksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds of a process (all its threads), from /proc/<pid>/stat. */
async function cpuSecondsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return 0; // gone meanwhile
  }
}

/** CPU seconds of every process named `postgres` (the server and its backends) visible here. */
async function postgresCpuSeconds(): Promise<number> {
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'postgres') total += await cpuSecondsOf(Number(entry));
  }
  return total;
}

/** Busy CPU seconds of the whole machine (all cores), from the first line of /proc/stat. */
async function machineBusySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
  return busy / ticksPerSecond();
}

interface CpuShare {
  warden: number;
  postgres: number;
  client: number;
  /** Everything else on the machine meanwhile (other jobs on a shared box). */
  others: number;
  wallSeconds: number;
}

/** Runs `fn` and reports the CPU seconds Warden, PostgreSQL and this process (autocannon) spent. */
async function withCpu<T>(wardenPid: number, fn: () => Promise<T>): Promise<[T, CpuShare]> {
  const before = {
    warden: await cpuSecondsOf(wardenPid),
    postgres: await postgresCpuSeconds(),
    machine: await machineBusySeconds(),
    client: process.cpuUsage(),
    at: performance.now(),
  };
  const value = await fn();
  const clientUsage = process.cpuUsage(before.client);
  const client = (clientUsage.user + clientUsage.system) / 1e6;
  const warden = (await cpuSecondsOf(wardenPid)) - before.warden;
  const postgres = (await postgresCpuSeconds()) - before.postgres;
  const machine = (await machineBusySeconds()) - before.machine;
  return [
    value,
    {
      warden,
      postgres,
      client,
      others: Math.max(0, machine - warden - postgres - client),
      wallSeconds: (performance.now() - before.at) / 1000,
    },
  ];
}

const showCpu = (c: CpuShare) =>
  `CPU over ${c.wallSeconds.toFixed(1)} s: Warden ${c.warden.toFixed(1)} s, PostgreSQL ` +
  `${c.postgres.toFixed(1)} s, client ${c.client.toFixed(1)} s, other processes ${c.others.toFixed(1)} s`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface ProfileSummary {
  /** Milliseconds sampled in the window, and how many of them the thread was busy. */
  sampledMs: number;
  busyMs: number;
  top: Array<{ fn: string; where: string; selfMs: number; share: number }>;
  byOrigin: Array<{ origin: string; selfMs: number; share: number }>;
  /** Warden's own functions by total time (self + callees) on synchronous stacks. */
  wardenTotal: Array<{ fn: string; where: string; totalMs: number; share: number }>;
}

/** Where a frame's code comes from: a package, a Warden source file, Node itself, or V8. */
function originOf(url: string, root: string): string {
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:');
  const file = url.replace(/^file:\/\//, '');
  if (file.startsWith(root)) return `warden ${file.slice(root.length + 1)}`;
  return url === '' ? 'V8 / native' : url;
}

/** Self time per function and per origin over the samples in [from, to] (µs on the profile clock). */
function summariseProfile(
  profile: CpuProfile,
  root: string,
  window: { from: number; to: number },
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let t = profile.startTime;
  let sampled = 0;
  for (const [i, id] of profile.samples.entries()) {
    t += profile.timeDeltas[i] ?? 0;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < window.from || t > window.to) continue;
    sampled += dt;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const idle = new Set(['(idle)', '(program)', '(root)']);
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  const origins = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || idle.has(frame.functionName)) continue;
    busy += us;
    const origin = frame.functionName === '(garbage collector)' ? 'GC' : originOf(frame.url, root);
    origins.set(origin, (origins.get(origin) ?? 0) + us);
    const { fn, where } = label(frame);
    const key = `${fn}@${where}`;
    const entry = fns.get(key) ?? { fn, where, us: 0 };
    entry.us += us;
    fns.set(key, entry);
  }
  // Total time of Warden's functions: each sample counts once for every distinct one on its stack.
  const totals = new Map<string, { fn: string; where: string; us: number }>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || !originOf(frame.url, root).startsWith('warden ')) continue;
      const { fn, where } = label(frame);
      const key = `${fn}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = totals.get(key) ?? { fn, where, us: 0 };
      entry.us += us;
      totals.set(key, entry);
    }
  }
  const share = (us: number) => (busy === 0 ? 0 : us / busy);
  return {
    sampledMs: sampled / 1000,
    busyMs: busy / 1000,
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 20)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, share: share(e.us) })),
    byOrigin: [...origins.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([origin, us]) => ({ origin, selfMs: us / 1000, share: share(us) })),
    wardenTotal: [...totals.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 15)
      .map((e) => ({ fn: e.fn, where: e.where, totalMs: e.us / 1000, share: share(e.us) })),
  };

  /** Function name and where it lives (Warden's files without line: tsx's output has none useful). */
  function label(frame: ProfileNode['callFrame']): { fn: string; where: string } {
    const origin = originOf(frame.url, root);
    const where = origin.startsWith('warden ')
      ? origin.slice('warden '.length)
      : frame.url
        ? `${origin}:${frame.lineNumber + 1}`
        : '';
    return { fn: frame.functionName || '(anonymous)', where };
  }
}

function formatSummary(s: ProfileSummary): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
  return [
    `  main thread busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.sampledMs / 1000).toFixed(1)} s sampled`,
    '  self time by origin (share of busy):',
    ...s.byOrigin.map((o) => `    ${pct(o.share)}  ${o.origin}`),
    '  top functions by self time:',
    ...s.top.map((f) => `    ${pct(f.share)}  ${f.fn}  ${f.where}`),
    "  Warden's functions by total time (synchronous stacks only):",
    ...s.wardenTotal.map((f) => `    ${pct(f.share)}  ${f.fn}  ${f.where}`),
  ];
}

// --- group commits ------------------------------------------------------------------------------

interface Commits {
  receipts: number;
  /** Ingest transactions: a batch's receipts share one `at` (the ledger seals a batch at once). */
  commits: number;
}

/** Receipts of new triggers stored in [from, to], and the group commits that stored them. */
async function commitsBetween(url: string, from: Date, to: Date): Promise<Commits> {
  const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
  try {
    const row = await knex('receipts')
      .where({ tenant_id: tenant, kind: 'trigger.received' })
      .whereBetween('at', [from, to])
      .first<{ receipts: string; commits: string }>(
        knex.raw('count(*) as receipts'),
        knex.raw('count(distinct at) as commits'),
      );
    return { receipts: Number(row?.receipts ?? 0), commits: Number(row?.commits ?? 0) };
  } finally {
    await knex.destroy();
  }
}

const showCommits = (c: Commits, seconds: number) =>
  c.commits === 0
    ? 'no group commits seen'
    : `${c.commits} group commits, ${(c.receipts / c.commits).toFixed(1)} alerts each, one every ` +
      `${((seconds * 1000) / c.commits).toFixed(1)} ms`;

/** Runs `fn` and reports the group commits that happened meanwhile. */
async function withCommits<T>(url: string, fn: () => Promise<T>): Promise<[T, Commits, number]> {
  const from = new Date();
  const value = await fn();
  const to = new Date();
  return [value, await commitsBetween(url, from, to), (to.getTime() - from.getTime()) / 1000];
}

// --- the database --------------------------------------------------------------------------------

// --- the benchmark -------------------------------------------------------------------------------

interface Measured {
  bare: LoadFigures;
  ceiling: LoadFigures;
  /** The ceiling at the steady rate: paced, and autocannon's overallRate. */
  ceilingSteady: LoadFigures;
  ceilingQuota: LoadFigures;
  fresh: LoadFigures;
  redelivery: LoadFigures;
  steady: LoadFigures;
  quota: LoadFigures;
  cpu: { fresh: CpuShare; redelivery: CpuShare; steady: CpuShare };
  commits: { fresh: string; steady: string };
  profile?: ProfileSummary;
  profileError?: string;
}

async function measure(
  root: string,
  databaseUrl: string,
  log: (line: string) => void,
  live: Set<ServerProcess>,
  work: string,
): Promise<Measured> {
  const bodies = await loadBodies(root);
  const start = async (args: string[], env: NodeJS.ProcessEnv) => {
    const server = await startServer({ args, cwd: root, env });
    live.add(server);
    return server;
  };
  const stop = async (server: ServerProcess) => {
    await stopServer(server);
    live.delete(server);
  };
  const run = (url: string, body: () => Buffer, extra: Partial<LoadOptions> = {}) =>
    load({ url, body, headers: {}, seconds: runSeconds, ...extra });

  // Ceilings first, each warmed up, on the fresh-fingerprint bodies Warden gets.
  const ceilingEnv = childEnv({ BENCH_HMAC_SECRET: hmacSecret });
  const fromEval = (source: string) => ['--input-type=module', '-e', source];
  const bareServer = await start(fromEval(bareHono), ceilingEnv);
  await run(bareServer.url, bodies.fresh, { seconds: warmupSeconds });
  const bare = await run(bareServer.url, bodies.fresh);
  log(`  bare Hono: ${show(bare)}`);
  await stop(bareServer);

  const ceilingServer = await start(fromEval(hmacSign), ceilingEnv);
  await run(ceilingServer.url, bodies.fresh, { seconds: warmupSeconds });
  const ceiling = await run(ceilingServer.url, bodies.fresh);
  log(`  HMAC + Ed25519 ceiling: ${show(ceiling)}`);
  const steadyRun = { seconds: steadySeconds, rate: steadyRate };
  const ceilingSteady = await paced({
    url: ceilingServer.url,
    body: bodies.fresh,
    headers: {},
    ...steadyRun,
  });
  log(`  HMAC + Ed25519 ceiling, paced ${steadyRate}/s: ${show(ceilingSteady)}`);
  const ceilingQuota = await run(ceilingServer.url, bodies.fresh, steadyRun);
  log(`  HMAC + Ed25519 ceiling, autocannon overallRate ${steadyRate}: ${show(ceilingQuota)}`);
  await stop(ceilingServer);

  // Warden on a database of its own, with a tenant whose rate limit the bench cannot reach.
  const token = `wdn_bench_${randomBytes(18).toString('base64url')}`;
  const configFile = join(work, 'warden.yaml');
  await writeFile(
    configFile,
    [
      'tenants:',
      `  - id: ${tenant}`,
      '    tier: enterprise',
      '    tokens:',
      '      - { name: bench-ingest, scope: ingest, value: env:WARDEN_BENCH_INGEST_TOKEN }',
      '    ingest:',
      '      rateLimit: { perSecond: 1000000, burst: 1000000 }',
      '',
    ].join('\n'),
  );
  const database = await createBenchDatabase(databaseUrl);
  try {
    const wardenEnv = childEnv({
      DATABASE_URL: database.url,
      WARDEN_CONFIG: configFile,
      WARDEN_BENCH_INGEST_TOKEN: token,
    });
    const wardenArgs = ['bin/warden.js', '--data-dir', join(work, 'data'), 'serve', '--port', '0'];
    const headers = { authorization: `Bearer ${token}` };
    const warden = await start(wardenArgs, wardenEnv);
    await run(warden.url, bodies.fresh, { headers, seconds: warmupSeconds });
    const [[fresh, freshCpu], freshCommits, freshSeconds] = await withCommits(database.url, () =>
      withCpu(warden.pid, () => run(warden.url, bodies.fresh, { headers })),
    );
    const freshBatches = showCommits(freshCommits, freshSeconds);
    log(`  Warden, new alerts: ${show(fresh)}; ${showCpu(freshCpu)}; ${freshBatches}`);
    const [redelivery, redeliveryCpu] = await withCpu(warden.pid, () =>
      run(warden.url, bodies.same, { headers }),
    );
    log(`  Warden, redelivery: ${show(redelivery)}; ${showCpu(redeliveryCpu)}`);
    const [[steady, steadyCpu], steadyCommits, steadySecondsSeen] = await withCommits(
      database.url,
      () =>
        withCpu(warden.pid, () =>
          paced({ url: warden.url, body: bodies.fresh, headers, ...steadyRun }),
        ),
    );
    const steadyBatches = showCommits(steadyCommits, steadySecondsSeen);
    log(
      `  Warden, new alerts paced ${steadyRate}/s: ${show(steady)}; ${showCpu(steadyCpu)}; ${steadyBatches}`,
    );
    const quota = await run(warden.url, bodies.fresh, { headers, ...steadyRun });
    log(`  Warden, new alerts, autocannon overallRate ${steadyRate}: ${show(quota)}`);
    await stop(warden);

    const measured: Measured = {
      bare,
      ceiling,
      ceilingSteady,
      ceilingQuota,
      fresh,
      redelivery,
      steady,
      quota,
      cpu: { fresh: freshCpu, redelivery: redeliveryCpu, steady: steadyCpu },
      commits: { fresh: freshBatches, steady: steadyBatches },
    };
    try {
      measured.profile = await profileFresh(root, wardenArgs, wardenEnv, headers, bodies, {
        start,
        stop,
        work,
      });
      for (const line of formatSummary(measured.profile)) log(line);
    } catch (err) {
      measured.profileError = (err as Error).message;
      log(`  profile failed: ${measured.profileError}`);
    }
    return measured;
  } finally {
    for (const s of live) s.child.kill('SIGKILL');
    await database.drop();
  }
}

/**
 * Warden again under `--cpu-prof`, driven with new alerts for one run (not measured: profiling slows
 * it). The summary covers the samples taken during the load only; the profile itself is kept in
 * bench/results/ingress.cpuprofile for DevTools.
 */
async function profileFresh(
  root: string,
  wardenArgs: string[],
  env: NodeJS.ProcessEnv,
  headers: Record<string, string>,
  bodies: Bodies,
  io: {
    start(args: string[], env: NodeJS.ProcessEnv): Promise<ServerProcess>;
    stop(server: ServerProcess): Promise<void>;
    work: string;
  },
): Promise<ProfileSummary> {
  const dir = join(io.work, 'profile');
  await mkdir(dir, { recursive: true });
  const warden = await io.start(['--cpu-prof', '--cpu-prof-dir', dir, ...wardenArgs], env);
  await load({ url: warden.url, body: bodies.fresh, headers, seconds: warmupSeconds });
  const runStart = performance.now();
  const figures = await load({ url: warden.url, body: bodies.fresh, headers, seconds: runSeconds });
  const runEnd = performance.now();
  await io.stop(warden);
  const exited = performance.now();
  // The main thread's profile is CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile; workers have tid > 0.
  const files = await readdir(dir);
  const main = files.find((f) => f.includes(`.${warden.pid}.0.`));
  if (!main) throw new Error(`no main-thread profile among ${files.join(', ') || 'no files'}`);
  const text = await readFile(join(dir, main), 'utf8');
  await mkdir(join(root, 'bench/results'), { recursive: true });
  await writeFile(join(root, 'bench/results/ingress.cpuprofile'), text);
  const profile = JSON.parse(text) as CpuProfile;
  // The profile ends as the process exits: the load sits (exited - runEnd) before its end.
  const toUs = (ms: number) => ms * 1000;
  const summary = summariseProfile(profile, root, {
    from: profile.endTime - toUs(exited - runStart),
    to: profile.endTime - toUs(exited - runEnd),
  });
  const workers = files.filter((f) => f !== main).length;
  const out = { figures, workerProfiles: workers, summary };
  await writeFile(
    join(root, 'bench/results/ingress-profile.json'),
    `${JSON.stringify(out, null, 2)}\n`,
  );
  return summary;
}

function rows(m: Measured): BenchRow[] {
  const ceilingLabel = 'Hono route: HMAC-SHA256 check + JSON parse + Ed25519-signed receipt';
  const goal = { op: '>=' as const, value: throughputGoal * m.ceiling.rps };
  const how = `autocannon, ${connections} connections, ${runSeconds} s after ${warmupSeconds} s warm-up`;
  const lat = (f: LoadFigures) => `p50 ${f.p50} ms, p99 ${f.p99} ms`;
  const top = m.profile?.top
    .slice(0, 5)
    .map((f) => `${f.fn} ${(f.share * 100).toFixed(0)}%`)
    .join(', ');
  return [
    {
      name: 'ingress.new-alerts',
      unit: 'req/s',
      warden: m.fresh.rps,
      ceiling: m.ceiling.rps,
      ceilingLabel,
      goal,
      samples: { warden: [m.fresh.rps], ceiling: [m.ceiling.rps] },
      note:
        `fresh fingerprint per request (trigger + receipt committed); goal ${throughputGoal} × ceiling; ` +
        `${lat(m.fresh)} (ceiling ${lat(m.ceiling)}); ${showCpu(m.cpu.fresh)}; ${m.commits.fresh}; ${how}` +
        (top ? `; profile top self time: ${top}` : ''),
    },
    {
      name: 'ingress.redelivery',
      unit: 'req/s',
      warden: m.redelivery.rps,
      ceiling: m.ceiling.rps,
      ceilingLabel,
      goal,
      samples: { warden: [m.redelivery.rps], ceiling: [m.ceiling.rps] },
      note: `the same fixture body every time (duplicate: true); ${lat(m.redelivery)}; ${showCpu(m.cpu.redelivery)}; ${how}`,
    },
    {
      name: 'ingress.new-alerts.p99',
      unit: 'ms',
      warden: m.fresh.p99,
      ceiling: m.ceiling.p99,
      ceilingLabel: `${ceilingLabel}, p99 at its own maximum rate`,
      samples: { warden: [m.fresh.p99], ceiling: [m.ceiling.p99] },
      note: `latency at maximum throughput (${connections} connections); ratio > 1 is slower`,
    },
    {
      name: `ingress.steady-${steadyRate}.p99`,
      unit: 'ms',
      warden: m.steady.p99,
      ceiling: m.ceilingSteady.p99,
      ceilingLabel: `${ceilingLabel}, p99 at the same paced ${steadyRate}/s`,
      goal: { op: '<=', value: p99GoalMs },
      samples: { warden: [m.steady.p99], ceiling: [m.ceilingSteady.p99] },
      note:
        `new alerts, open loop: one request due every ${1000 / steadyRate} ms for ${steadySeconds} s, ` +
        `latency from the due time; achieved ${Math.round(m.steady.rps)}/s, p50 ${m.steady.p50} ms ` +
        `(ceiling p50 ${m.ceilingSteady.p50} ms); ${showCpu(m.cpu.steady)}; ${m.commits.steady}`,
    },
    {
      name: `ingress.autocannon-rate-${steadyRate}.p99`,
      unit: 'ms',
      warden: m.quota.p99,
      ceiling: m.ceilingQuota.p99,
      ceilingLabel: `${ceilingLabel}, same autocannon run`,
      samples: { warden: [m.quota.p99], ceiling: [m.ceilingQuota.p99] },
      note:
        `autocannon overallRate ${steadyRate} over ${connections} connections: each sends its ` +
        `${steadyRate / connections}/s quota back to back at every second's start, and latencies are ` +
        `"corrected" for a ${Math.ceil(connections / steadyRate)} ms interval, so this is a burst ` +
        `figure, not a steady one; achieved ${Math.round(m.quota.rps)}/s, p50 ${m.quota.p50} ms`,
    },
    {
      name: 'ingress.ceiling-vs-bare',
      unit: 'req/s',
      warden: m.ceiling.rps,
      ceiling: m.bare.rps,
      ceilingLabel: 'bare Hono route answering 202 to a JSON POST',
      samples: { warden: [m.ceiling.rps], ceiling: [m.bare.rps] },
      note: `this row's "warden" column is the HMAC + Ed25519 ceiling itself: what verifying and signing cost on this stack; bare ${lat(m.bare)}`,
    },
  ];
}

const rowNames = [
  'ingress.new-alerts',
  'ingress.redelivery',
  'ingress.new-alerts.p99',
  `ingress.steady-${steadyRate}.p99`,
  `ingress.autocannon-rate-${steadyRate}.p99`,
  'ingress.ceiling-vs-bare',
];

export const ingressBenchmark = defineBenchmark({
  name: 'ingress',
  description:
    'Alertmanager deliveries per second and latency through Warden on PostgreSQL vs an HMAC + Ed25519 Hono route',
  async run({ databaseUrl, root, log }) {
    const skipped = (note: string): BenchRow[] =>
      rowNames.map((name) => ({
        name,
        unit: name.endsWith('.p99') ? 'ms' : 'req/s',
        warden: null,
        ceiling: null,
        ceilingLabel: '',
        note,
      }));
    if (!databaseUrl)
      return skipped('skipped: DATABASE_URL is not set (Warden runs on PostgreSQL)');
    const live = new Set<ServerProcess>();
    const killAll = () => {
      for (const s of live) s.child.kill('SIGKILL');
    };
    process.once('exit', killAll); // never leave a server behind, even if the bench dies
    const work = await mkdtemp(join(tmpdir(), 'warden-bench-ingress-'));
    try {
      log('ingress: bare Hono, HMAC + Ed25519 ceiling, Warden (new alerts, redelivery, steady)');
      const m = await withDeadline(
        measure(root, databaseUrl, log, live, work),
        caseDeadlineMs,
        'ingress',
      );
      return rows(m);
    } catch (err) {
      // The first row carries the message; the others point at it.
      return skipped('').map(({ note: _, ...row }, i) => ({
        ...row,
        error: i === 0 ? (err as Error).message : `not measured (see ${rowNames[0]})`,
      }));
    } finally {
      killAll();
      process.off('exit', killAll);
      await rm(work, { recursive: true, force: true });
    }
  },
});
