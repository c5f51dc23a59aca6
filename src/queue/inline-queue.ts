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
  let stopped = false;

  const submit = (tenant: string, runId: string) => {
    const run = handler;
    if (!run) {
      waiting.push([tenant, runId]);
      return;
    }
    void queue.add(() => run(tenant, runId).catch((err) => options.onError(err, tenant, runId)));
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
      await queue.onIdle();
    },
  };
}
