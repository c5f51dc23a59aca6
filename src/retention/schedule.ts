/**
 * Retention schedule: the purge job `warden serve` runs — every few hours, each configured tenant's
 * content past its retention policy is purged with its signed manifest. A tenant with nothing past
 * its windows gets no receipt (a dry run decides). Replicas may all run it: purges of one tenant are
 * serialised by a lock, and a second finds nothing left.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/ledger.js';
import type { RetentionPolicy } from './policy.js';
import { purge } from './purge.js';

export interface RetentionJob {
  /** Purges every tenant once now; resolves to the tenants that had something purged. */
  runOnce(now?: Date): Promise<string[]>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

/**
 * @example
 * const job = createRetentionJob({ knex, ledger, logger, tenants: config.tenants });
 * job.start(6 * 3_600_000);
 */
export function createRetentionJob(deps: {
  knex: Knex;
  ledger: Ledger;
  logger: Logger;
  tenants: ReadonlyArray<{ id: string; retention: RetentionPolicy }>;
}): RetentionJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<string[]> | undefined;

  async function runOnce(now = new Date()): Promise<string[]> {
    const purged: string[] = [];
    for (const t of deps.tenants) {
      try {
        const plan = await purge(deps, { tenant: t.id, policy: t.retention, now, dryRun: true });
        if (plan.manifest.categories.every((c) => c.count === 0)) continue;
        const done = await purge(deps, { tenant: t.id, policy: t.retention, now });
        purged.push(t.id);
        deps.logger.info(
          { tenant: t.id, receipt: done.receipt?.payload.id, categories: done.manifest.categories },
          'retention purge',
        );
      } catch (err) {
        deps.logger.error({ err, tenant: t.id }, 'retention purge failed; retried next time');
      }
    }
    return purged;
  }

  return {
    runOnce,
    start(intervalMs) {
      timer ??= setInterval(() => {
        running ??= runOnce().finally(() => {
          running = undefined;
        });
      }, intervalMs).unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
