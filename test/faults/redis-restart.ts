/**
 * Fault: Redis restarts under a steady alert load. The server runs on PostgreSQL and a private
 * Redis without persistence. Mid-load, while the target holds the steps in flight so that runs pile
 * up waiting in Redis, Redis is SIGKILLed — every job it held is gone — and started again empty.
 * Redis only dispatches; the database is the truth: alerts are still acknowledged while it is down,
 * and every run completes afterwards, each side effect exactly once.
 */
import { it } from 'vitest';
import { createFaultRig } from '../helpers/fault-rig.js';
import { startPrivateRedis, waitFor } from '../helpers/fault-services.js';
import { expectEveryAlertKept } from '../helpers/fault-tally.js';
import { createFreshDatabase, uniqueRedisPrefix } from '../helpers/services.js';

export function redisRestart(): void {
  it.concurrent('redis-restart: acknowledges alerts while Redis is down and completes every run after', async ({
    expect,
    onTestFinished,
  }) => {
    const redis = await startPrivateRedis();
    const fresh = await createFreshDatabase();
    const rig = await createFaultRig({
      databaseUrl: fresh.url,
      redisUrl: redis.url,
      redisPrefix: uniqueRedisPrefix(),
      delayMs: 50,
    });
    onTestFinished(async () => {
      await rig.close();
      await fresh.drop();
      await redis.close();
    });
    const queuedRuns = async () => {
      const row = await rig
        .knex('runs')
        .where({ tenant_id: rig.workspace.tenant, status: 'queued' })
        .first<{ n: string }>(rig.knex.raw('count(*) as n'));
      return Number(row?.n ?? 0);
    };

    await rig.start();
    const load = rig.startLoad('redis');
    await waitFor(
      'a third of the load acknowledged',
      () => load.acknowledged() >= rig.total / 3,
      120_000,
    );
    // Steps hang at the target, so new runs wait in Redis: those jobs die with it.
    rig.target.hold();
    await waitFor('runs waiting in Redis', async () => (await queuedRuns()) >= 10, 60_000);
    const queuedAtKill = await queuedRuns();
    await redis.kill();
    const ackedBefore = load.acknowledged();
    const outage = Math.max(rig.rate / 2, rig.total / 10);
    await waitFor(
      'alerts acknowledged while Redis is down',
      () => load.acknowledged() >= ackedBefore + outage,
      60_000,
    );
    const ackedWhileDown = load.acknowledged() - ackedBefore;
    await redis.start();
    rig.target.release();
    const { settleMs } = await rig.finish();
    const counts = await rig.tally('redis-restart', { queuedAtKill, ackedWhileDown, settleMs });

    expect(ackedWhileDown).toBeGreaterThan(0);
    expectEveryAlertKept(expect, counts);
    // Nothing was cut off mid-step: every run succeeds, each side effect exactly once.
    expect(counts.succeeded).toBe(counts.runs);
    expect(counts.unknown).toBe(0);
    expect(counts.duplicates).toBe(0);
    expect(counts.missing).toBe(0);
    expect(counts.effects).toBe(counts.runs);
    expect(counts.chain).toBe(true);
  }, 600_000);
}
