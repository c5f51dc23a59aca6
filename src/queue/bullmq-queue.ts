/** The RunQueue port on BullMQ: runs dispatched through Redis to workers in any process. */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';

import { toWardenError, WardenError } from '../errors.js';
import { adapterClient, type RedisConnection } from './redis-connection.js';
import { type RunHandler, type RunQueue, runConcurrency } from './run-queue.js';

/** What a job carries: the run to process, nothing else (the database holds the rest). */
interface RunJob {
  tenant: string;
  runId: string;
}

export interface RunQueueFailure {
  error: WardenError;
  /** Absent for Redis errors, which belong to no run. */
  tenant?: string;
  runId?: string;
  /** 1 for the first attempt. */
  attempt?: number;
  /** Whether BullMQ will hand the run to a handler again (after a backoff). */
  willRetry: boolean;
}

export interface BullmqQueueOptions {
  /**
   * A URL (the queue opens and closes its connections) or a client the caller owns and closes;
   * a client needs `maxRetriesPerRequest: null`, as BullMQ workers require.
   */
  connection: RedisConnection;
  /** @defaultValue 'warden' */
  prefix?: string;
  /** @defaultValue 'runs' */
  queueName?: string;
  /** Runs this process handles at once. @defaultValue runConcurrency (16) */
  concurrency?: number;
  onError: (failure: RunQueueFailure) => void;
  /** Attempts for a handler failing with a retryable WardenError. @defaultValue 5 */
  attempts?: number;
  /** First retry delay; later ones double (BullMQ 'exponential'). @defaultValue 1000 */
  retryDelayMs?: number;
  /**
   * How long a worker's hold on a job lasts unless renewed (every half of it); a job whose
   * worker died is handed to another worker after about this long. Short, because a run found
   * twice is safe (the run lock and step claims) and a dead worker's runs should not wait.
   * @defaultValue 10000
   */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died. @defaultValue 10000 */
  stalledIntervalMs?: number;
  /** How long `idle()` waits before it gives up with `not_ready`. @defaultValue 60000 */
  idleTimeoutMs?: number;
}

/** Job options shared by every add, apart from the deduplication id. */
const keepJobs = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
} satisfies JobsOptions;
const idlePollMs = 25;

/**
 * The deduplication id of a run. No custom job id is used: BullMQ 6.7 refuses one holding ':'
 * (Job.validateOptions, unless in exactly three parts), and a custom id would also swallow a later
 * enqueue of the run while its finished job is kept. Tenant ids hold no '_', so `__` is unambiguous.
 */
const runDedupId = (tenant: string, runId: string) => `${tenant}__${runId}`;

/**
 * Every process (ingress and workers) creates one on the same queue; workers call `start`. A run
 * enqueued again while its job waits is one job; enqueued while its job is being handled, it is
 * handled once more afterwards, never twice at once (BullMQ deduplication with
 * `keepLastIfActive`). The database stays the truth: the engine claims each step there.
 * @example
 * const queue = createBullmqQueue({ connection: { url: config.redisUrl }, onError: log });
 * await queue.start((tenant, runId) => engine.process(tenant, runId).then(() => {}));
 * await queue.enqueue('acme', runId);
 * // on SIGTERM: finishes the runs in hand, leaves the rest in Redis for other workers
 * await queue.stop();
 */
export function createBullmqQueue(options: BullmqQueueOptions): RunQueue {
  const { onError, prefix = 'warden', queueName = 'runs', attempts = 5 } = options;
  const { connection } = options;
  const { client, release } = adapterClient(connection, `${prefix}:${queueName}`);
  const reportInfra = (error: Error) => onError({ error: toWardenError(error), willRetry: true });
  const jobOpts: JobsOptions = {
    ...keepJobs,
    attempts,
    backoff: { type: 'exponential', delay: options.retryDelayMs ?? 1000 },
  };
  const queue = new Queue<RunJob>(queueName, { connection: client, prefix });
  queue.on('error', reportInfra);

  let worker: Worker<RunJob> | undefined;
  let stopped: Promise<void> | undefined;
  /** Jobs this process took and has not seen leave `active` yet (for `idle`). */
  const taken = new Set<string>();
  /** Errors our processor reported already; others reaching 'failed' come from BullMQ itself. */
  const reported = new WeakSet<Error>();

  const processorFor = (handler: RunHandler) => async (job: Job<RunJob>) => {
    const { tenant, runId } = runOf(job);
    if (job.id) taken.add(job.id);
    try {
      await handler(tenant, runId);
    } catch (thrown) {
      const error = toWardenError(thrown);
      const attempt = job.attemptsMade + 1;
      onError({ error, tenant, runId, attempt, willRetry: error.retryable && attempt < attempts });
      const rethrown = error.retryable
        ? error
        : new UnrecoverableError(`${error.code}: ${error.message}`);
      reported.add(rethrown);
      throw rethrown;
    }
  };

  /** Drops taken jobs that left `active` (finished, retried, or moved on after a lost lock). */
  const settle = async () => {
    for (const id of taken) {
      if ((await queue.getJobState(id)) !== 'active') taken.delete(id);
    }
  };

  return {
    async enqueue(tenant, runId) {
      // After stop the run stays queued in the database; the next worker's start resumes it.
      if (stopped) return;
      const deduplication = { id: runDedupId(tenant, runId), keepLastIfActive: true };
      await queue.add('run', { tenant, runId }, { ...jobOpts, deduplication });
    },
    async start(handler) {
      if (stopped) throw new WardenError('not_ready', 'The run queue is stopped.');
      if (worker) throw new WardenError('conflict', 'The run queue is started already.');
      const started = new Worker<RunJob>(queueName, processorFor(handler), {
        connection: client,
        prefix,
        concurrency: options.concurrency ?? runConcurrency,
        lockDuration: options.lockDurationMs ?? 10_000,
        stalledInterval: options.stalledIntervalMs ?? 10_000,
        maxStalledCount: 1,
      });
      started.on('error', reportInfra);
      started.on('completed', (job) => taken.delete(job.id ?? ''));
      started.on('failed', (job, error) => {
        if (job?.id) taken.delete(job.id);
        if (reported.has(error)) return;
        // Not thrown by a handler: e.g. the job stalled (its worker died) more often than allowed.
        const { tenant, runId } = job?.data ?? {};
        const failure = new WardenError('internal', `BullMQ failed the run: ${error.message}`, {
          cause: error,
        });
        onError({ error: failure, tenant, runId, willRetry: false });
      });
      worker = started;
    },
    async idle() {
      const timeoutMs = options.idleTimeoutMs ?? 60_000;
      const deadline = Date.now() + timeoutMs;
      // Quiet twice in a row: a job BullMQ just moved to active may not have reached us yet. Active
      // counts too: a failed job stays active in Redis until BullMQ moves it to delayed for its
      // retry, which can be after our handler has returned.
      for (let quiet = 0; quiet < 2; ) {
        if (stopped) return;
        await settle();
        const counts = await queue.getJobCounts('active', 'wait', 'delayed', 'prioritized');
        const queued = Object.values(counts).reduce((sum, n) => sum + n, 0);
        quiet = taken.size === 0 && queued === 0 ? quiet + 1 : 0;
        if (quiet < 2 && Date.now() > deadline) {
          throw new WardenError(
            'not_ready',
            `The run queue is not idle after ${timeoutMs} ms: ${taken.size} run(s) in hand, ` +
              `${queued} queued (is a worker running?).`,
          );
        }
        if (quiet < 2) await sleep(idlePollMs);
      }
    },
    stop() {
      stopped ??= (async () => {
        await worker?.close();
        taken.clear();
        await queue.close();
        await release();
      })();
      return stopped;
    },
  };
}

function runOf(job: Job<RunJob>): RunJob {
  const { tenant, runId } = job.data ?? {};
  if (typeof tenant === 'string' && typeof runId === 'string') return { tenant, runId };
  throw new UnrecoverableError(`Job ${job.id} carries no run.`);
}
