/**
 * Breakers (`autoDisable`): judge a playbook by its recent outcomes — consecutive failures, a failure
 * rate over a window, a spike of denied steps, or the alert it "mitigated" firing again soon after —
 * and say whether to disable it. Only runs created since the playbook was last enabled count, so a
 * re-enabled playbook starts clean. The caller disables (playbook-switch.ts).
 *
 * Time: every comparison of one check uses one instant — `now` when given (tests, replays), else the
 * database clock, which is the clock that stamped the runs' timestamps (see storage/breakers.ts).
 */
import type { Knex } from 'knex';
import type { JsonValue } from '../ledger/receipt.js';
import type { Playbook } from '../pipeline/playbook-schema.js';
import { deniedSteps, lastMitigation, lastSettledRuns, runOutcomes } from '../storage/breakers.js';

export type AutoDisable = Playbook['spec']['autoDisable'];

export interface BreakerTrip {
  rule: 'consecutiveFailures' | 'failureRate' | 'denials' | 'refire';
  /** One human sentence, e.g. "3 consecutive failed runs (limit 3)". */
  reason: string;
  /** The window's figures for the receipt: counts, rate, limit, window start/end, run ids. */
  figures: Record<string, JsonValue>;
}

interface Check {
  knex: Knex;
  tenant: string;
  playbook: string;
  rules: AutoDisable;
  at: Date | null;
}

type Breaker = (check: Check) => Promise<BreakerTrip | undefined>;

/** `consecutiveFailures: N` — the last N settled runs (succeeded, failed, denied) all failed. */
const consecutiveFailures: Breaker = async ({ knex, tenant, playbook, rules, at }) => {
  const limit = rules.consecutiveFailures;
  if (limit === undefined) return undefined;
  const runs = await lastSettledRuns(knex, tenant, playbook, limit, at);
  const [newest, oldest] = [runs[0], runs.at(-1)];
  if (!newest || !oldest || runs.length < limit || runs.some((r) => r.status !== 'failed')) {
    return undefined;
  }
  return {
    rule: 'consecutiveFailures',
    reason: `${limit} consecutive failed run${limit === 1 ? '' : 's'} (limit ${limit})`,
    figures: {
      count: runs.length,
      limit,
      windowStart: oldest.finishedAt.toISOString(),
      windowEnd: newest.finishedAt.toISOString(),
      runs: runs.map((r) => r.id),
    },
  };
};

/** `failureRate` — at least `minRuns` settled in the window, and failed / settled above `above`. */
const failureRate: Breaker = async ({ knex, tenant, playbook, rules, at }) => {
  const rule = rules.failureRate;
  if (!rule) return undefined;
  const w = await runOutcomes(knex, tenant, playbook, rule.window, at);
  const rate = w.total === 0 ? 0 : w.failed / w.total;
  if (w.total < rule.minRuns || rate <= rule.above) return undefined;
  return {
    rule: 'failureRate',
    reason: `${w.failed} of ${w.total} runs failed in the last ${formatDuration(rule.window)} (${percent(rate)} > ${percent(rule.above)}, at least ${rule.minRuns} runs)`,
    figures: {
      failed: w.failed,
      total: w.total,
      rate: Math.round(rate * 10_000) / 10_000,
      above: rule.above,
      minRuns: rule.minRuns,
      windowMs: rule.window,
      windowStart: w.start.toISOString(),
      windowEnd: w.end.toISOString(),
      runs: w.failedRuns,
    },
  };
};

/** `denials: { count, window }` — at least `count` steps of the playbook denied in the window. */
const denials: Breaker = async ({ knex, tenant, playbook, rules, at }) => {
  const rule = rules.denials;
  if (!rule) return undefined;
  const w = await deniedSteps(knex, tenant, playbook, rule.window, at);
  if (w.count < rule.count) return undefined;
  return {
    rule: 'denials',
    reason: `${w.count} denied step${w.count === 1 ? '' : 's'} in the last ${formatDuration(rule.window)} (limit ${rule.count})`,
    figures: {
      count: w.count,
      limit: rule.count,
      windowMs: rule.window,
      windowStart: w.start.toISOString(),
      windowEnd: w.end.toISOString(),
      runs: [...new Set(w.steps.map((s) => s.slice(0, s.lastIndexOf('/'))))],
      steps: w.steps,
    },
  };
};

/** The run-outcome breakers, in the order they are checked; the first that trips wins. */
const breakers: readonly Breaker[] = [consecutiveFailures, failureRate, denials];

/**
 * After a run of `playbook` settles (succeeded, failed, denied, cancelled): does a breaker trip?
 * Rules absent from `rules` are not checked; `refireWithin` is checked by checkRefire instead.
 * @example
 * const trip = await checkBreakers(knex, 'acme', 'restart-ingest', version.definition.spec.autoDisable);
 * if (trip) await disablePlaybook(deps, 'acme', 'restart-ingest', { actor: 'breaker', reason: trip.reason, trip });
 */
export async function checkBreakers(
  knex: Knex,
  tenant: string,
  playbook: string,
  rules: AutoDisable,
  now?: Date,
): Promise<BreakerTrip | undefined> {
  const check = { knex, tenant, playbook, rules, at: now ?? null };
  for (const breaker of breakers) {
    const trip = await breaker(check);
    if (trip) return trip;
  }
  return undefined;
}

/**
 * When a firing alert with `fingerprint` arrives: did a run of `playbook` for the same fingerprint
 * succeed ("mitigate") less than `refireWithinMs` ago? Then the mitigation did not hold.
 * @example
 * const trip = await checkRefire(knex, 'acme', 'restart-ingest', rules.refireWithin, event.fingerprint);
 */
export async function checkRefire(
  knex: Knex,
  tenant: string,
  playbook: string,
  refireWithinMs: number | undefined,
  fingerprint: string | null,
  now?: Date,
): Promise<BreakerTrip | undefined> {
  if (refireWithinMs === undefined || fingerprint === null) return undefined;
  const m = await lastMitigation(knex, tenant, playbook, fingerprint, refireWithinMs, now ?? null);
  if (!m) return undefined;
  const after = m.end.getTime() - m.finishedAt.getTime();
  return {
    rule: 'refire',
    reason: `alert ${fingerprint} fired again ${formatDuration(Math.round(after / 1000) * 1000)} after run ${m.run} mitigated it (limit ${formatDuration(refireWithinMs)})`,
    figures: {
      fingerprint,
      run: m.run,
      trigger: m.trigger,
      mitigatedAt: m.finishedAt.toISOString(),
      refiredAt: m.end.toISOString(),
      afterMs: after,
      limitMs: refireWithinMs,
      windowStart: m.start.toISOString(),
      windowEnd: m.end.toISOString(),
    },
  };
}

/** Milliseconds in the shortest exact form: 3600000 → "1h", 90000 → "90s". */
function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms / 1000}s`;
}

const percent = (x: number) => `${Math.round(x * 1000) / 10}%`;
