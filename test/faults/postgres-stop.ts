/**
 * Fault: PostgreSQL stops under a steady alert load. The server runs on a private PostgreSQL
 * cluster and Redis. While the database is down, `/readyz` answers 503 and the hooks answer 503
 * `not_ready` — never 202 — so Alertmanager keeps the alerts and retries them. Once the database is
 * back the retries are stored, every run completes, and nothing acknowledged is lost. A step whose
 * outcome could not be recorded while the database was down ends `unknown` (its run failed for a
 * human to check) — counted and printed, never silently run again.
 */
import { it } from 'vitest';
import { runConcurrency } from '../../src/queue/run-queue.js';
import { createFaultRig } from '../helpers/fault-rig.js';
import { clearRedisPrefix, startPrivatePostgres, waitFor } from '../helpers/fault-services.js';
import { expectEveryAlertKept } from '../helpers/fault-tally.js';
import { redisUrl, uniqueRedisPrefix } from '../helpers/services.js';

interface Answer {
  status: number;
  code: string | undefined;
}

/** Status and error code of a request (status 0 when the server cannot be reached). */
async function answer(url: string, init?: RequestInit): Promise<Answer> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
    return { status: res.status, code: body.error?.code };
  } catch {
    return { status: 0, code: undefined };
  }
}

export function postgresStop(): void {
  it.concurrent('postgres-stop: answers 503 while the database is down, then stores every retry and completes every run', async ({
    expect,
    onTestFinished,
  }) => {
    const redis = redisUrl as string;
    const prefix = uniqueRedisPrefix();
    const pg = await startPrivatePostgres();
    const rig = await createFaultRig({
      databaseUrl: pg.url,
      redisUrl: redis,
      redisPrefix: prefix,
      delayMs: 50,
    });
    onTestFinished(async () => {
      await rig.close();
      await pg.destroy();
      await clearRedisPrefix(redis, prefix);
    });

    const { url } = await rig.start();
    const load = rig.startLoad('pgstop');
    await waitFor(
      'a third of the load acknowledged',
      () => load.acknowledged() >= rig.total / 3,
      120_000,
    );
    const stoppedAt = Date.now();
    await pg.stop('fast');
    const downFrom = Date.now();
    const readyz = await answer(`${url}/readyz`);
    const hook = await answer(`${url}/hooks/${rig.workspace.tenant}/alertmanager`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${rig.workspace.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        version: '4',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'FaultProbe' },
            startsAt: new Date().toISOString(),
            fingerprint: 'pg-down-probe',
          },
        ],
      }),
    });
    // Down for a while: until the load was refused at least a second's worth of alerts.
    const refused = () => load.outcomes()['503'] ?? 0;
    await waitFor(
      'the load refused with 503',
      () => refused() >= Math.max(rig.rate, rig.total / 4),
      120_000,
    );
    const whileDown = load.outcomes({ from: downFrom, to: Date.now() });
    await pg.start();
    const recoveredMs = await waitFor(
      '/readyz to answer 200 again',
      async () => (await answer(`${url}/readyz`)).status === 200,
      60_000,
      100,
    );
    const downMs = Date.now() - stoppedAt;
    const { settleMs } = await rig.finish();
    const answers = load.outcomes();
    const counts = await rig.tally('postgres-stop', {
      readyzWhileDown: readyz.status,
      hookWhileDown: hook.status,
      refusedWhileDown: whileDown['503'] ?? 0,
      downMs,
      recoveredMs,
      settleMs,
    });

    expect(readyz).toEqual({ status: 503, code: 'not_ready' });
    expect(hook).toEqual({ status: 503, code: 'not_ready' });
    // While down, every delivery was answered 503: none acknowledged, none a 500.
    expect(whileDown).toEqual({ '503': whileDown['503'] });
    expect(Object.keys(answers).sort()).toEqual(['202', '503']);
    expectEveryAlertKept(expect, counts);
    expect(counts.duplicates).toBe(0);
    expect(counts.missing).toBe(0);
    expect(counts.unknown).toBeLessThanOrEqual(runConcurrency);
    expect(counts.failed).toBe(counts.unknown);
    expect(counts.succeeded + counts.failed).toBe(counts.runs);
    expect(counts.chain).toBe(true);
  }, 600_000);
}
