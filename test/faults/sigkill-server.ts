/**
 * Fault: the server is SIGKILLed under a steady alert load. `warden serve` runs in its own process
 * on PostgreSQL and Redis; the load posts alerts at a steady rate and, like Alertmanager, re-sends
 * what was not acknowledged. Mid-load, with a step's request in flight at the target, the server
 * is killed and started again on the same database, Redis prefix and port. Afterwards every
 * acknowledged alert is stored (lost = 0), none twice, every run settles, and no step's side
 * effect reached the target twice (duplicates = 0). A step cut off mid-way may end `unknown` (its
 * run failed for a human to check) — counted and printed, never silently run again.
 */
import { it } from 'vitest';
import { runConcurrency } from '../../src/queue/run-queue.js';
import { createFaultRig } from '../helpers/fault-rig.js';
import { clearRedisPrefix, waitFor } from '../helpers/fault-services.js';
import { expectEveryAlertKept } from '../helpers/fault-tally.js';
import { createFreshDatabase, redisUrl, uniqueRedisPrefix } from '../helpers/services.js';

export function sigkillServer(): void {
  it.concurrent('sigkill-server: loses no acknowledged alert and runs no step twice across a SIGKILL', async ({
    expect,
    onTestFinished,
  }) => {
    const redis = redisUrl as string;
    const prefix = uniqueRedisPrefix();
    const fresh = await createFreshDatabase();
    // Each side effect takes a moment, so that the kill finds steps in flight.
    const rig = await createFaultRig({
      databaseUrl: fresh.url,
      redisUrl: redis,
      redisPrefix: prefix,
      delayMs: 150,
    });
    onTestFinished(async () => {
      await rig.close();
      await fresh.drop();
      await clearRedisPrefix(redis, prefix);
    });

    await rig.start();
    const load = rig.startLoad('sigkill');
    await waitFor(
      'half the load acknowledged',
      () => load.acknowledged() >= rig.total / 2,
      120_000,
    );
    await waitFor('a step in flight at the target', () => rig.target.inFlight() > 0, 30_000, 5);
    const inFlightAtKill = rig.target.inFlight();
    const killedAt = Date.now();
    await rig.kill();
    await rig.start();
    const downMs = Date.now() - killedAt;
    const { settleMs } = await rig.finish();
    const counts = await rig.tally('sigkill-server', { inFlightAtKill, downMs, settleMs });

    expectEveryAlertKept(expect, counts);
    expect(counts.duplicates).toBe(0);
    expect(counts.missing).toBe(0);
    // Only a step cut off by the kill (claimed, maybe sent) may end unknown — at most the runs
    // the process had in hand — and its run fails for a human to check.
    expect(counts.unknown).toBeLessThanOrEqual(runConcurrency);
    expect(counts.failed).toBe(counts.unknown);
    expect(counts.succeeded + counts.failed).toBe(counts.runs);
    expect(counts.chain).toBe(true);
  }, 600_000);
}
