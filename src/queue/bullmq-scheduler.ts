/** The Scheduler port on BullMQ job schedulers: each tick becomes one job across every replica. */
import { type Job, type JobSchedulerJson, Queue, UnrecoverableError, Worker } from 'bullmq';

import { toWardenError, WardenError } from '../errors.js';
import {
  type FireHandler,
  fireAttempts,
  indexSchedules,
  type Schedule,
  type ScheduleErrorHandler,
  type Scheduler,
} from '../triggers/schedules.js';
import { adapterClient, type RedisConnection } from './redis-connection.js';

export interface BullmqSchedulerOptions {
  /**
   * A URL (the scheduler opens and closes its connections) or a client the caller owns and closes;
   * a client needs `maxRetriesPerRequest: null`, as BullMQ workers require.
   */
  connection: RedisConnection;
  /** @defaultValue 'warden' */
  prefix?: string;
  /** @defaultValue 'schedules' */
  queueName?: string;
  fire: FireHandler;
  onError: ScheduleErrorHandler;
  /** First retry delay; later ones double (BullMQ 'exponential'). @defaultValue 1000 */
  retryDelayMs?: number;
  /** Ticks this process fires at once. @defaultValue 4 */
  concurrency?: number;
}

/**
 * Every replica runs one of these on the same queue; `sync()` writes job schedulers (idempotent by
 * id) and each tick is one job, taken by one worker. Redis only dispatches: a tick fired twice
 * after a failover is absorbed by the trigger's `cronDedupKey`.
 * @example
 * const scheduler = createBullmqScheduler({ connection: { url: config.redisUrl }, fire, onError });
 * await scheduler.sync(schedulesOf(playbooks));
 * // on SIGTERM
 * await scheduler.stop();
 */
export function createBullmqScheduler(options: BullmqSchedulerOptions): Scheduler {
  const { fire, onError, prefix = 'warden', queueName = 'schedules' } = options;
  const { connection } = options;
  const { client, release } = adapterClient(connection, `${prefix}:${queueName}`);
  const reportInfra = (error: Error) => onError({ error: toWardenError(error), willRetry: true });
  const templateOpts = {
    attempts: fireAttempts,
    backoff: { type: 'exponential', delay: options.retryDelayMs ?? 1000 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };

  // The queue shares `client`; the worker duplicates it for its blocking reads and closes those.
  const queue = new Queue<Schedule>(queueName, { connection: client, prefix });
  queue.on('error', reportInfra);
  const worker = new Worker<Schedule>(
    queueName,
    async (job) => {
      const schedule = scheduleOf(job);
      const scheduledAt = scheduledAtOf(job);
      try {
        await fire(schedule, scheduledAt);
      } catch (thrown) {
        const error = toWardenError(thrown);
        const attempt = job.attemptsMade + 1;
        const willRetry = error.retryable && attempt < fireAttempts;
        onError({ error, schedule, scheduledAt, attempt, willRetry });
        if (error.retryable) throw error;
        throw new UnrecoverableError(`${error.code}: ${error.message}`);
      }
    },
    { connection: client, prefix, concurrency: options.concurrency ?? 4 },
  );
  worker.on('error', reportInfra);

  let stopped: Promise<void> | undefined;
  return {
    async sync(schedules) {
      if (stopped) throw new WardenError('not_ready', 'The scheduler is stopped.');
      const wanted = indexSchedules(schedules);
      const existing = new Map((await queue.getJobSchedulers()).map((s) => [s.key, s]));
      for (const id of existing.keys()) {
        if (!wanted.has(id)) await queue.removeJobScheduler(id);
      }
      for (const [id, schedule] of wanted) {
        const current = existing.get(id);
        if (current && isSameScheduler(current, schedule, templateOpts.backoff.delay)) continue;
        await queue.upsertJobScheduler(
          id,
          { pattern: schedule.cron, ...(schedule.timezone ? { tz: schedule.timezone } : {}) },
          { name: 'fire', data: dataOf(schedule), opts: templateOpts },
        );
      }
    },
    stop() {
      stopped ??= (async () => {
        await worker.close();
        await queue.close();
        await release();
      })();
      return stopped;
    },
  };
}

/** The schedule as stored in the job: no `timezone: undefined` key, so it compares after JSON. */
function dataOf(schedule: Schedule): Schedule {
  const { tenant, playbook, cron, timezone } = schedule;
  return timezone ? { tenant, playbook, cron, timezone } : { tenant, playbook, cron };
}

/** Unchanged schedulers are left alone: re-upserting would replace the pending tick's job. */
function isSameScheduler(current: JobSchedulerJson<Schedule>, schedule: Schedule, delay: number) {
  const opts = current.template?.opts;
  return (
    current.pattern === schedule.cron &&
    current.tz === schedule.timezone &&
    JSON.stringify(current.template?.data) === JSON.stringify(dataOf(schedule)) &&
    opts?.attempts === fireAttempts &&
    typeof opts.backoff === 'object' &&
    opts.backoff.delay === delay
  );
}

function scheduleOf(job: Job<Schedule>): Schedule {
  const { tenant, playbook, cron } = job.data ?? {};
  if (typeof tenant === 'string' && typeof playbook === 'string' && typeof cron === 'string') {
    return dataOf(job.data);
  }
  throw new UnrecoverableError(`Job ${job.id} carries no schedule.`);
}

/**
 * The tick a job stands for. BullMQ 6.7 `JobScheduler.getNextJobOpts()` (dist/esm/classes/
 * job-scheduler.js) adds each iteration with `jobId: repeat:<schedulerId>:<nextMillis>`,
 * `prevMillis: nextMillis`, `delay: max(0, nextMillis - now)` and `timestamp: now` — so
 * `job.timestamp` is when the iteration was created (about the previous tick) and `delay` is
 * clamped, while `opts.prevMillis` is the tick itself and survives retries. The Lua scripts
 * (addJobScheduler-11.lua, updateJobScheduler-12.lua) build the same id, our fallback.
 */
function scheduledAtOf(job: Job<Schedule>): Date {
  const fromId = Number(job.id?.slice(job.id.lastIndexOf(':') + 1));
  const millis = job.opts.prevMillis ?? fromId;
  if (!Number.isFinite(millis)) throw new UnrecoverableError(`Job ${job.id} carries no tick time.`);
  return new Date(millis);
}
