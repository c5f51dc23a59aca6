/**
 * Run-queue: the port through which runs reach a worker. The database is the truth (a run is
 * `queued` or `running` there); a queue only dispatches, so a lost message costs a delay, never a
 * run: every adapter resumes the unfinished runs it finds at start.
 */
/**
 * Runs one process advances at once, inline or on BullMQ. Each run in flight holds one database
 * connection for its run lock, so the pool (see `openDatabase`) must be larger than this.
 */
export const runConcurrency = 16;

export type RunHandler = (tenant: string, runId: string) => Promise<void>;

export interface RunQueue {
  /** Asks for the run to be processed (after the transaction that created it committed). */
  enqueue(tenant: string, runId: string): Promise<void>;
  /** Starts processing with `handler` (workers); ingress-only processes never call it. */
  start(handler: RunHandler): Promise<void>;
  /** Resolves when nothing is queued or in progress in this process (tests, shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}
