/** Schedules: the cron port (which playbook fires when) and its in-process adapter on croner. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Cron } from 'croner';
import { toWardenError, WardenError } from '../errors.js';

/** One playbook's cron of one tenant. Its id is `${tenant}/${playbook}/${cron}`. */
export interface Schedule {
  tenant: string;
  playbook: string;
  /** 5 fields, or 6 with seconds first. */
  cron: string;
  /** IANA zone the pattern is read in. @defaultValue the process's zone */
  timezone?: string;
}

/** Called once per tick; `scheduledAt` is the tick's own time (whole seconds), not the call time. */
export type FireHandler = (schedule: Schedule, scheduledAt: Date) => Promise<void>;

/** A failed tick (with its schedule), or a failure of the scheduler itself (without). */
export interface ScheduleFailure {
  error: WardenError;
  schedule?: Schedule;
  scheduledAt?: Date;
  /** 1 for the first try of a tick. */
  attempt?: number;
  /** True when the tick will be tried again after a backoff. */
  willRetry: boolean;
}

export type ScheduleErrorHandler = (failure: ScheduleFailure) => void;

/**
 * Runs the schedules it was last given. Every adapter honours the same contract
 * (test/integration/scheduler.test.ts).
 */
export interface Scheduler {
  /** Makes the running set equal to `schedules`: adds new ones, removes gone ones, keeps the rest. */
  sync(schedules: Schedule[]): Promise<void>;
  /** Stops firing, waits for ticks in progress, releases timers and connections. */
  stop(): Promise<void>;
}

/** Tries per tick, when fire throws a retryable WardenError; backoff doubles from the base delay. */
export const fireAttempts = 5;

/** 5 or 6 fields (seconds first), as BullMQ's cron-parser reads them; croner alone takes 7. */
const cronMode = '5-or-6-parts';

/**
 * @example
 * scheduleId({ tenant: 'acme', playbook: 'restart-ingest', cron: '0 * * * *' });
 * // 'acme/restart-ingest/0 * * * *'
 */
export function scheduleId(schedule: Schedule): string {
  return `${schedule.tenant}/${schedule.playbook}/${schedule.cron}`;
}

/**
 * An error message when `expr` (read in `timezone`) is not a cron both adapters run, else undefined.
 * @example
 * validateCron('0 9 * * 1-5'); // undefined
 * validateCron('61 * * * *'); // 'CronPattern: Invalid value for minute: 61'
 */
export function validateCron(expr: string, timezone?: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  const dayOfMonth = fields[fields.length === 6 ? 3 : 2] ?? '';
  // croner extensions that BullMQ's cron-parser 5 rejects (compared side by side).
  if (expr.includes('+')) return 'The "+" day-of-week modifier is not supported by BullMQ.';
  if (/w/i.test(dayOfMonth)) return 'The "W" (nearest weekday) day is not supported by BullMQ.';
  try {
    const cron = new Cron(expr, { mode: cronMode, timezone });
    cron.nextRun();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The trigger dedup key of one tick: two processes firing the same tick store one trigger.
 * @example
 * cronDedupKey({ tenant: 'acme', playbook: 'rotate', cron: '0 9 * * 1-5' }, tick);
 * // 'cron:rotate:0 9 * * 1-5:2026-05-04T09:00:00Z'
 */
export function cronDedupKey(schedule: Schedule, scheduledAt: Date): string {
  return `cron:${schedule.playbook}:${schedule.cron}:${scheduledAt.toISOString().slice(0, 19)}Z`;
}

/**
 * Validates and de-duplicates a schedule list by id; throws `invalid` listing every bad entry.
 * @example
 * for (const [id, schedule] of indexSchedules(schedules)) start(id, schedule);
 */
export function indexSchedules(schedules: Schedule[]): Map<string, Schedule> {
  const byId = new Map<string, Schedule>();
  const problems: string[] = [];
  for (const schedule of schedules) {
    const id = scheduleId(schedule);
    const problem = validateCron(schedule.cron, schedule.timezone);
    const seen = byId.get(id);
    if (problem) problems.push(`${id}: ${problem}`);
    else if (seen && seen.timezone !== schedule.timezone) problems.push(`${id}: two timezones`);
    else byId.set(id, schedule);
  }
  if (problems.length > 0) {
    throw new WardenError('invalid', `Invalid schedules: ${problems.join('; ')}`, {
      details: problems,
    });
  }
  return byId;
}

export interface InlineSchedulerOptions {
  fire: FireHandler;
  onError: ScheduleErrorHandler;
  /** First retry delay; later ones double. @defaultValue 1000 */
  retryDelayMs?: number;
}

/**
 * The embedded scheduler: one croner job per schedule in this process. Ticks missed while the
 * process is down are not caught up.
 * @example
 * const scheduler = createInlineScheduler({ fire: ingestTick, onError: (f) => log.error(f) });
 * await scheduler.sync([{ tenant: 'acme', playbook: 'rotate', cron: '0 9 * * 1-5' }]);
 */
export function createInlineScheduler(options: InlineSchedulerOptions): Scheduler {
  const { fire, onError, retryDelayMs = 1000 } = options;
  const jobs = new Map<string, { schedule: Schedule; cron: Cron }>();
  const inFlight = new Set<Promise<void>>();
  const stopping = new AbortController();

  async function fireWithRetries(schedule: Schedule, scheduledAt: Date): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fire(schedule, scheduledAt);
      } catch (thrown) {
        const error = toWardenError(thrown);
        const willRetry = error.retryable && attempt < fireAttempts && !stopping.signal.aborted;
        onError({ error, schedule, scheduledAt, attempt, willRetry });
        if (!willRetry) return;
        // Same curve as BullMQ's 'exponential' backoff: base, 2×, 4×, 8×.
        const aborted = await sleep(retryDelayMs * 2 ** (attempt - 1), false, {
          signal: stopping.signal,
        }).catch(() => true);
        if (aborted) return;
      }
    }
  }

  function start(schedule: Schedule): Cron {
    const opts = { mode: cronMode, timezone: schedule.timezone, protect: true } as const;
    return new Cron(schedule.cron, opts, (self) => {
      // Only a throwing onError can reject it, and then there is nowhere left to report to.
      const tick = fireWithRetries(schedule, tickOf(self)).catch(() => {});
      inFlight.add(tick);
      return tick.finally(() => inFlight.delete(tick));
    });
  }

  return {
    async sync(schedules) {
      if (stopping.signal.aborted) throw new WardenError('not_ready', 'The scheduler is stopped.');
      const wanted = indexSchedules(schedules);
      for (const [id, job] of jobs) {
        const next = wanted.get(id);
        if (next && next.timezone === job.schedule.timezone) continue;
        job.cron.stop();
        jobs.delete(id);
      }
      for (const [id, schedule] of wanted) {
        if (!jobs.has(id)) jobs.set(id, { schedule, cron: start(schedule) });
      }
    },
    async stop() {
      stopping.abort();
      for (const job of jobs.values()) job.cron.stop();
      jobs.clear();
      await Promise.allSettled(inFlight);
    },
  };
}

/**
 * The tick a croner callback runs for. croner 11's `currentRun()` is the instant its timer fired
 * (`_checkTrigger` passes `new Date()` to `_trigger`), with milliseconds and possibly late under a
 * busy event loop; the tick is the latest pattern match at or before it.
 */
function tickOf(cron: Cron): Date {
  const ranAt = cron.currentRun() ?? new Date();
  const [tick] = cron.previousRuns(1, new Date(ranAt.getTime() + 1));
  return tick ?? new Date(Math.floor(ranAt.getTime() / 1000) * 1000);
}
