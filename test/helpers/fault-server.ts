/**
 * Warden as the fault tests run it: `node bin/warden.js serve` in a process of its own (so it can
 * be SIGKILLed), on a fixed port (so a restart comes back at the same address), with a workspace
 * holding its config, data directory and one playbook — `fault-effect`: every alert labelled
 * `fault: load` runs one `http.request` step that POSTs to the test's effect target.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ServerProcess, startServer, stopServer } from '../../bench/server-process.js';

const root = resolve(import.meta.dirname, '../..');
const tenant = 'acme';
/** Variables of the test process that would change what the server reads: it gets only ours. */
const inherited = /^(WARDEN_|SLACK_|TEAMS_|DATABASE_URL$|REDIS_URL$|PORT$|HOST$|LOG_LEVEL$)/;

export interface FaultWorkspace {
  dir: string;
  tenant: string;
  /** The tenant's ingest token (Alertmanager's bearer token). */
  token: string;
  /** Labels that make an alert run the `fault-effect` playbook. */
  labels: Record<string, string>;
  remove(): Promise<void>;
}

/** A config with one enterprise tenant allowed to call `targetHost`, and the playbook. */
export async function createFaultWorkspace(targetHost: string): Promise<FaultWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-fault-'));
  await mkdir(join(dir, 'playbooks'));
  await writeFile(
    join(dir, 'playbooks', 'fault-effect.yaml'),
    `apiVersion: warden/v1
kind: Playbook
metadata: { name: fault-effect, owner: team-faults, description: "One side effect per alert" }
spec:
  on:
    - alert: { source: alertmanager, match: { alertname: FaultLoad, fault: load } }
  steps:
    - id: effect
      uses: http.request
      with:
        method: POST
        url: "http://${targetHost}/effect"
        body: { instance: "{{ alert.labels.instance }}" }
`,
  );
  await writeFile(
    join(dir, 'warden.yaml'),
    `tenants:
  - id: ${tenant}
    tier: enterprise
    playbooks: ./playbooks
    tokens:
      - { name: alertmanager, scope: ingest, value: env:FAULT_INGEST_TOKEN }
    plugins:
      http: { allowedHosts: ["${targetHost}"] }
`,
  );
  return {
    dir,
    tenant,
    token: `wdn_fault_${randomBytes(16).toString('hex')}`,
    labels: { alertname: 'FaultLoad', fault: 'load', severity: 'page' },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface WardenOptions {
  workspace: FaultWorkspace;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
}

/** Starts `warden serve` and resolves once `/healthz` answers 200. */
export function startWarden(opts: WardenOptions): Promise<ServerProcess> {
  const { workspace } = opts;
  return startServer({
    args: [join(root, 'bin/warden.js'), 'serve'],
    cwd: workspace.dir,
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !inherited.test(k))),
      HOST: '127.0.0.1',
      PORT: String(opts.port),
      DATABASE_URL: opts.databaseUrl,
      REDIS_URL: opts.redisUrl,
      WARDEN_REDIS_PREFIX: opts.redisPrefix,
      WARDEN_CONFIG: join(workspace.dir, 'warden.yaml'),
      WARDEN_DATA_DIR: join(workspace.dir, 'data'),
      FAULT_INGEST_TOKEN: workspace.token,
      LOG_LEVEL: 'warn',
    },
    // Start-up migrates, loads Cedar and connects; the machine may be busy with other suites.
    timeoutMs: 90_000,
  });
}

/** SIGKILL: no shutdown, no drain — as an OOM kill or a pulled plug would end it. */
export async function killWarden(server: ServerProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGKILL');
  await gone;
}

/** SIGTERM, and checks the process drained and exited 0. */
export const stopWarden = (server: ServerProcess) => stopServer(server, 30_000);

export type { ServerProcess };
