/**
 * Resume-sweep: a queue only dispatches, so a dispatch can be lost — Redis restarted empty and took
 * its waiting jobs along, an enqueue failed while Redis was down, or a run's processing failed
 * while the database was down. A worker therefore re-enqueues, every so often, the runs the
 * database still has `queued` or `running` but whose status has not changed for a while. The queue
 * deduplicates, and the run lock and step claims make a second dispatch of a live run a no-op.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { unfinishedRuns } from '../storage/runs.js';
import type { RunQueue } from './run-queue.js';

export interface ResumeSweepOptions {
  knex: Knex;
  queue: Pick<RunQueue, 'enqueue'>;
  logger: Logger;
  /** How often to sweep; also how long a run must be idle to be dispatched again. */
  everyMs: number;
  /** Most runs re-enqueued per sweep (oldest first). @defaultValue 500 */
  batch?: number;
}

/**
 * Starts the sweep; returns its timer (unref'd) for the caller to clear on shutdown.
 * @example
 * runtime.timers.add(startResumeSweep({ knex, queue, logger, everyMs: 5_000 }));
 */
export function startResumeSweep(options: ResumeSweepOptions): NodeJS.Timeout {
  const { knex, queue, logger, everyMs } = options;
  let sweeping = false;
  const sweep = async () => {
    const stale = await unfinishedRuns(knex, { idleMs: everyMs, limit: options.batch ?? 500 });
    for (const run of stale) await queue.enqueue(run.tenant, run.id);
    // Debug: most are just waiting their turn in a backlog, and the queue took them as one job.
    if (stale.length > 0)
      logger.debug({ runs: stale.length }, 're-dispatched idle unfinished runs');
  };
  return setInterval(() => {
    // While Redis is down an enqueue waits for it: one sweep at a time.
    if (sweeping) return;
    sweeping = true;
    sweep()
      .catch((err: unknown) => logger.warn({ err }, 'resume sweep failed; retried next sweep'))
      .finally(() => {
        sweeping = false;
      });
  }, everyMs).unref();
}
