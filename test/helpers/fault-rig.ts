/**
 * Fault rig: what every load fault needs — an effect target, a Warden workspace, `warden serve` on
 * a fixed port against the given database and Redis, a steady alert load against it, and at the
 * end the tally: load settled, runs settled, server stopped (SIGTERM, exit 0), counts printed.
 */
import knexFactory, { type Knex } from 'knex';
import { type AlertLoad, faultRate, faultSeconds, startAlertLoad } from './fault-load.js';
import {
  createFaultWorkspace,
  type FaultWorkspace,
  killWarden,
  type ServerProcess,
  startWarden,
  stopWarden,
} from './fault-server.js';
import { freePort, waitFor } from './fault-services.js';
import {
  chainVerifies,
  type FaultCounts,
  printFault,
  runsSettled,
  tallyFault,
} from './fault-tally.js';
import { type EffectTarget, startEffectTarget } from './fault-target.js';

export interface FaultRigOptions {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** How long the target takes to answer each side effect. */
  delayMs: number;
}

export interface FaultRig {
  target: EffectTarget;
  workspace: FaultWorkspace;
  /** The test's own connection to the server's database. */
  knex: Knex;
  /** Alerts the load sends in all: rate × seconds. */
  total: number;
  rate: number;
  /** The running server (after `start`). */
  server(): ServerProcess;
  /** Starts `warden serve` (again), on the same port, database and Redis prefix. */
  start(): Promise<ServerProcess>;
  /** SIGKILLs the server. */
  kill(): Promise<void>;
  /** The steady load (after `startLoad`). */
  load(): AlertLoad;
  startLoad(name: string): AlertLoad;
  /** Waits until the whole load was sent, every alert acknowledged and every run settled. */
  finish(): Promise<{ settleMs: number }>;
  /** Stops the server, counts, prints `faults: <name> …` with `extra`, checks the chain. */
  tally(
    name: string,
    extra: Record<string, unknown>,
  ): Promise<FaultCounts & { chain: true | string[] }>;
  close(): Promise<void>;
}

export async function createFaultRig(opts: FaultRigOptions): Promise<FaultRig> {
  const target = await startEffectTarget({ delayMs: opts.delayMs });
  const workspace = await createFaultWorkspace(target.host);
  const knex = knexFactory({
    client: 'pg',
    connection: opts.databaseUrl,
    pool: { min: 0, max: 2 },
  });
  const port = await freePort();
  const rate = faultRate();
  const total = Math.round(rate * faultSeconds());
  let server: ServerProcess | undefined;
  let load: AlertLoad | undefined;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started`);
    return value;
  };

  return {
    target,
    workspace,
    knex,
    total,
    rate,
    server: () => need(server, 'the server'),
    async start() {
      server = await startWarden({ workspace, port, ...opts });
      return server;
    },
    async kill() {
      if (server) await killWarden(server);
    },
    load: () => need(load, 'the load'),
    startLoad(name) {
      load = startAlertLoad({
        url: need(server, 'the server').url,
        tenant: workspace.tenant,
        token: workspace.token,
        perSecond: rate,
        name,
        labels: workspace.labels,
      });
      return load;
    },
    async finish() {
      const running = need(load, 'the load');
      await waitFor('the whole load to be sent', () => running.alerts.size >= total, 180_000);
      await running.settle(120_000);
      // Runs a killed process held resume once BullMQ sees their lock lapse (30 s by default).
      return { settleMs: await runsSettled(knex, workspace.tenant, 180_000) };
    },
    async tally(name, extra) {
      const running = need(load, 'the load');
      await stopWarden(need(server, 'the server'));
      server = undefined;
      const counts = await tallyFault(knex, workspace.tenant, running, target);
      printFault(name, { ...counts, ...extra, answers: JSON.stringify(running.outcomes()) });
      return { ...counts, chain: await chainVerifies(knex, workspace.tenant) };
    },
    async close() {
      load?.abort();
      if (server) await killWarden(server);
      await knex.destroy();
      await target.close();
      await workspace.remove();
    },
  };
}
