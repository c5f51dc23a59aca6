/**
 * Start-up benchmark: what `npm start` costs — time from spawn to the first 200 from /healthz, and the
 * resident set after ~3 s idle — on a fresh data dir (first start) and on the same dir again (warm
 * start), beside a bare Hono server on @hono/node-server measured the same way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchRow, defineBenchmark } from './benchmark.js';
import { residentBytes, type ServerProcess, startServer, stopServer } from './server-process.js';
import { sleep } from './stats.js';

const idleMs = 3_000;
const readyGoalSeconds = 4;
const rssGoalMb = 450;

/** The ceiling: the smallest useful server on the same stack, started with `node -e`. */
const bareHono = `
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
const app = new Hono();
app.get('/healthz', (c) => c.json({ status: 'ok' }));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
  console.log('listening on http://127.0.0.1:' + info.port));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** Settings that would change what is measured (PostgreSQL, another config or port) are removed. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1' };
  const strip = ['DATABASE_URL', 'REDIS_URL', 'PORT', 'WARDEN_CONFIG', 'WARDEN_DATA_DIR'];
  for (const name of [...strip, 'WARDEN_SIGNING_KEY']) delete env[name];
  return env;
}

interface Sample {
  readySeconds: number;
  rssMb: number;
}

/** Starts, idles, reads RSS, stops (verifying the exit). */
async function sample(
  args: string[],
  root: string,
  live: Set<ServerProcess>,
  log: (line: string) => void,
  label: string,
): Promise<Sample> {
  const server = await startServer({ args, cwd: root, env: childEnv() });
  live.add(server);
  try {
    await sleep(idleMs);
    const result = {
      readySeconds: server.readyMs / 1000,
      rssMb: (await residentBytes(server.pid)) / 1e6,
    };
    log(
      `  ${label}: ready in ${result.readySeconds.toFixed(2)} s, idle RSS ${result.rssMb.toFixed(0)} MB`,
    );
    return result;
  } finally {
    await stopServer(server);
    live.delete(server);
  }
}

function rows(phase: 'first' | 'warm', warden: Sample, ceiling: Sample, note: string): BenchRow[] {
  const label = 'bare Hono (node -e, @hono/node-server)';
  return [
    {
      name: `startup.${phase}.ready`,
      unit: 's',
      warden: warden.readySeconds,
      ceiling: ceiling.readySeconds,
      ceilingLabel: `${label} time to ready`,
      goal: { op: '<=', value: readyGoalSeconds },
      samples: { warden: [warden.readySeconds], ceiling: [ceiling.readySeconds] },
      note,
    },
    {
      name: `startup.${phase}.rss`,
      unit: 'MB',
      warden: warden.rssMb,
      ceiling: ceiling.rssMb,
      ceilingLabel: `${label} idle RSS`,
      goal: { op: '<=', value: rssGoalMb },
      samples: { warden: [warden.rssMb], ceiling: [ceiling.rssMb] },
      note,
    },
  ];
}

export const startupBenchmark = defineBenchmark({
  name: 'startup',
  description:
    'time from spawn to the first 200 from /healthz, and idle RSS, vs a bare Hono server',
  async run({ root, log }) {
    const live = new Set<ServerProcess>();
    const killAll = () => {
      for (const s of live) s.child.kill('SIGKILL');
    };
    process.once('exit', killAll); // never leave a server behind, even if the bench dies
    const dataDir = await mkdtemp(join(tmpdir(), 'warden-bench-startup-'));
    const warden = ['bin/warden.js', '--data-dir', dataDir, 'serve', '--port', '0'];
    try {
      log('startup: bare Hono, Warden first start, Warden warm start');
      const hono = await sample(['--input-type=module', '-e', bareHono], root, live, log, 'hono');
      const first = await sample(warden, root, live, log, 'warden first start');
      const warm = await sample(warden, root, live, log, 'warden warm start');
      const how = `node bin/warden.js serve, PGlite, one run, RSS after ${idleMs / 1000} s idle`;
      return [
        ...rows('first', first, hono, `fresh data dir (initdb, migrations, new key); ${how}`),
        ...rows('warm', warm, hono, `same data dir again; ${how}`),
      ];
    } finally {
      killAll();
      process.off('exit', killAll);
      await rm(dataDir, { recursive: true, force: true });
    }
  },
});
