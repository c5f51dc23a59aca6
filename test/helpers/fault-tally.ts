/**
 * What a fault cost, counted from the outside in: the alerts the load sent and saw acknowledged,
 * the triggers and runs the database holds, and the side effects the target saw. `lost` (an
 * acknowledged alert with no stored trigger) and `duplicates` (a step's side effect seen twice)
 * must be 0; `unknown` steps (interrupted mid-step, failed for a human to check) are allowed.
 */
import type { Knex } from 'knex';
import type { ExpectStatic } from 'vitest';
import { exportBundle } from '../../src/ledger/bundle.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import type { AlertLoad } from './fault-load.js';
import { waitFor } from './fault-services.js';
import type { EffectTarget } from './fault-target.js';

export interface FaultCounts {
  /** Alerts the load made. */
  sent: number;
  /** Alerts answered 2xx (after retries). */
  acknowledged: number;
  /** Alerts that needed more than one delivery. */
  retried: number;
  /** Acknowledged as `duplicate: true`: an earlier delivery was stored, its answer lost. */
  redelivered: number;
  /** Trigger rows in the database. */
  stored: number;
  /** Acknowledged alerts whose trigger is not stored. Must be 0. */
  lost: number;
  /** Alerts stored more than once. Must be 0. */
  storedTwice: number;
  runs: number;
  /** Stored triggers without their run. Must be 0. */
  runless: number;
  succeeded: number;
  failed: number;
  /** Runs still queued or running. Must be 0. */
  unfinished: number;
  /** Steps found claimed but unfinished after the fault: failed, honestly, for a human. */
  unknown: number;
  /** Requests the target received. */
  effects: number;
  /** Extra requests under an idempotency key already seen. Must be 0. */
  duplicates: number;
  /** Succeeded runs whose side effect never reached the target. Must be 0. */
  missing: number;
}

const open = ['queued', 'running'];

/** Waits until no run of the tenant is queued or running; returns how long that took. */
/**
 * What every fault must leave whole: each alert acknowledged, stored once and with its run, and
 * every run finished. (`expect` is the test's own: the scenarios run concurrently.)
 */
export function expectEveryAlertKept(expect: ExpectStatic, counts: FaultCounts): void {
  expect(counts.acknowledged).toBe(counts.sent);
  expect(counts.lost).toBe(0);
  expect(counts.storedTwice).toBe(0);
  expect(counts.stored).toBe(counts.sent);
  expect(counts.runs).toBe(counts.stored);
  expect(counts.runless).toBe(0);
  expect(counts.unfinished).toBe(0);
}

export async function runsSettled(knex: Knex, tenant: string, timeoutMs: number): Promise<number> {
  let left = 0;
  try {
    return await waitFor(
      'every run to settle',
      async () => {
        const row = await knex('runs')
          .where({ tenant_id: tenant })
          .whereIn('status', open)
          .first<{ n: string }>(knex.raw('count(*) as n'));
        left = Number(row?.n ?? 0);
        return left === 0;
      },
      timeoutMs,
      250,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message} (${left} run(s) still queued or running)`);
  }
}

export async function tallyFault(
  knex: Knex,
  tenant: string,
  load: AlertLoad,
  target: EffectTarget,
): Promise<FaultCounts> {
  const alerts = [...load.alerts.values()];
  const acked = alerts.filter((a) => a.accepted);
  const triggers: Array<{ id: string; fingerprint: string }> = await knex('triggers')
    .where({ tenant_id: tenant })
    .select('id', 'fingerprint');
  const runs: Array<{ id: string; trigger_id: string; status: string }> = await knex('runs')
    .where({ tenant_id: tenant })
    .select('id', 'trigger_id', 'status');
  const unknown = await knex('run_steps')
    .where({ tenant_id: tenant, status: 'unknown' })
    .first<{ n: string }>(knex.raw('count(*) as n'));
  const storedIds = new Set(triggers.map((t) => t.id));
  const perFingerprint = new Map<string, number>();
  for (const t of triggers)
    perFingerprint.set(t.fingerprint, (perFingerprint.get(t.fingerprint) ?? 0) + 1);
  const withRun = new Set(runs.map((r) => r.trigger_id));
  const status = (s: string) => runs.filter((r) => r.status === s).length;
  let effects = 0;
  for (const n of target.counts.values()) effects += n;
  return {
    sent: alerts.length,
    acknowledged: acked.length,
    retried: alerts.filter((a) => a.attempts.length > 1).length,
    redelivered: acked.filter((a) => a.accepted?.duplicate).length,
    stored: triggers.length,
    lost: acked.filter((a) => !storedIds.has(a.accepted?.triggerId ?? '')).length,
    storedTwice: [...perFingerprint.values()].filter((n) => n > 1).length,
    runs: runs.length,
    runless: triggers.filter((t) => !withRun.has(t.id)).length,
    succeeded: status('succeeded'),
    failed: status('failed'),
    unfinished: runs.filter((r) => open.includes(r.status)).length,
    unknown: Number(unknown?.n ?? 0),
    effects,
    duplicates: target.duplicates().extra,
    missing: runs.filter(
      (r) => r.status === 'succeeded' && !target.counts.has(`${tenant}:${r.id}:effect`),
    ).length,
  };
}

/** Whether the tenant's receipts still verify as one unbroken, signed, anchored chain. */
export async function chainVerifies(knex: Knex, tenant: string): Promise<true | string[]> {
  const report = verifyBundle(await exportBundle(knex, tenant));
  return report.ok || report.checks.filter((c) => !c.ok).map((c) => JSON.stringify(c));
}

/** Prints one line: `faults: <name> key=value …`. */
export function printFault(name: string, counts: object): void {
  const fields = Object.entries(counts).map(([k, v]) => `${k}=${v}`);
  console.log(`faults: ${name} ${fields.join(' ')}`);
}
