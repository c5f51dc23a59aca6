/** Inline-queue: the embedded default — runs processed in this process by a p-queue. */
import PQueue from 'p-queue';
import { type RunHandler, type RunQueue, runConcurrency } from './run-queue.js';

export interface InlineQueueOptions {
  /** Runs processed at once. @defaultValue runConcurrency (16) */
  concurrency?: number;
  onError: (err: unknown, tenant: string, runId: string) => void;
}

/**
 * @example
 * const queue = createInlineQueue({ onError: (e) => log.error(e) });
 * await queue.start((tenant, runId) => engine.process(tenant, runId).then(() => {}));
 */
export function createInlineQueue(options: InlineQueueOptions): RunQueue {
  const queue = new PQueue({ concurrency: options.concurrency ?? runConcurrency });
  let handler: RunHandler | undefined;
  const waiting: Array<[string, string]> = [];
  /** Runs queued but not started: a second enqueue of one of them adds nothing (as on BullMQ). */
  const pending = new Set<string>();
  let stopped = false;

  const submit = (tenant: string, runId: string) => {
    const run = handler;
    if (!run) {
      waiting.push([tenant, runId]);
      return;
    }
    const key = `${tenant}\u0000${runId}`;
    if (pending.has(key)) return;
    pending.add(key);
    void queue.add(() => {
      pending.delete(key);
      return run(tenant, runId).catch((err) => options.onError(err, tenant, runId));
    });
  };

  return {
    async enqueue(tenant, runId) {
      if (!stopped) submit(tenant, runId);
    },
    async start(h) {
      handler = h;
      for (const [tenant, runId] of waiting.splice(0)) submit(tenant, runId);
    },
    idle: () => queue.onIdle(),
    async stop() {
      stopped = true;
      queue.clear();
      pending.clear();
      await queue.onIdle();
    },
  };
}
