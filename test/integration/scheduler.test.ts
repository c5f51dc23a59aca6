/**
 * The Scheduler contract, run against every adapter: in-process croner always, BullMQ job
 * schedulers when REDIS_URL is set (with WARDEN_REQUIRE_SERVICES=1 a missing REDIS_URL fails).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { WardenError } from '../../src/errors.js';
import { createBullmqScheduler } from '../../src/queue/bullmq-scheduler.js';
import {
  createInlineScheduler,
  cronDedupKey,
  type FireHandler,
  type Schedule,
  type ScheduleFailure,
  type Scheduler,
  validateCron,
} from '../../src/triggers/schedules.js';

const redisUrl = process.env.REDIS_URL || undefined;
// At module level, so that WARDEN_REQUIRE_SERVICES=1 without REDIS_URL fails the file loudly.
if (!redisUrl && process.env.WARDEN_REQUIRE_SERVICES === '1') {
  throw new Error('WARDEN_REQUIRE_SERVICES=1 but REDIS_URL is not set: BullMQ tests cannot run.');
}

const everySecond = '* * * * * *';
const runPrefix = `warden-test-${randomBytes(4).toString('hex')}`;
const queuesUsed = new Set<string>();

interface Fired {
  schedule: Schedule;
  scheduledAt: Date;
  firedAt: number;
}

interface Harness {
  scheduler: Scheduler;
  fired: Fired[];
  failures: ScheduleFailure[];
}

interface HarnessOptions {
  /** Runs before a fire is recorded; throw to fail it. */
  before?: FireHandler;
  /** Keeps replicas of one test on one queue. @defaultValue a fresh queue */
  queueName?: string;
  connection?: { url: string } | Redis;
}

type MakeScheduler = (options?: HarnessOptions) => Harness;

const stoppers: Scheduler[] = [];

/** Starts a scheduler through `create`, recording fires and failures; all are stopped at the end. */
function record(
  options: HarnessOptions,
  create: (fire: FireHandler, onError: (failure: ScheduleFailure) => void) => Scheduler,
): Harness {
  const fired: Fired[] = [];
  const failures: ScheduleFailure[] = [];
  const scheduler = create(
    async (schedule, scheduledAt) => {
      await options.before?.(schedule, scheduledAt);
      fired.push({ schedule, scheduledAt, firedAt: Date.now() });
    },
    (failure) => failures.push(failure),
  );
  stoppers.push(scheduler);
  return { scheduler, fired, failures };
}

const makeInline: MakeScheduler = (options = {}) =>
  record(options, (fire, onError) => createInlineScheduler({ fire, onError, retryDelayMs: 100 }));

/** Each call is one replica; without `queueName` it gets a queue of its own. */
const makeBullmq: MakeScheduler = (options = {}) => {
  const queueName = options.queueName ?? `q${randomBytes(4).toString('hex')}`;
  queuesUsed.add(queueName);
  const connection = options.connection ?? { url: redisUrl ?? '' };
  return record(options, (fire, onError) =>
    createBullmqScheduler({
      connection,
      prefix: runPrefix,
      queueName,
      fire,
      onError,
      retryDelayMs: 100,
    }),
  );
};

const adapters: Array<[string, MakeScheduler]> = [['inline', makeInline]];
if (redisUrl) adapters.push(['bullmq', makeBullmq]);

afterAll(async () => {
  await Promise.all(stoppers.map((s) => s.stop()));
  if (!redisUrl) return;
  const client = new Redis(redisUrl, { maxRetriesPerRequest: null });
  for (const name of queuesUsed) {
    const queue = new Queue(name, { connection: client, prefix: runPrefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  const left = await client.keys(`${runPrefix}:*`);
  await client.quit();
  if (left.length > 0) throw new Error(`obliterate left keys behind: ${left.join(', ')}`);
});

/** Polls until `check` holds, or fails naming what it waited for. */
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 4000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(20);
  }
}

const schedule = (playbook: string, extra: Partial<Schedule> = {}): Schedule => ({
  tenant: 'alpha',
  playbook,
  cron: everySecond,
  ...extra,
});

const ticksOf = (fired: Fired[], playbook: string) =>
  fired.filter((f) => f.schedule.playbook === playbook).map((f) => f.scheduledAt.getTime());

for (const [adapter, make] of adapters) {
  describe.concurrent(`scheduler [${adapter}]`, () => {
    it('fires each tick once with scheduledAt on the whole second of the tick', async ({
      expect,
    }) => {
      const { scheduler, fired, failures } = make();
      const zoned = schedule('zoned', { timezone: 'Europe/Stockholm' });
      await scheduler.sync([schedule('tick'), zoned]);
      await until('three fires of each', () =>
        ['tick', 'zoned'].every((p) => ticksOf(fired, p).length >= 3),
      );
      await scheduler.stop();
      expect(failures).toEqual([]);
      expect(fired.find((f) => f.schedule.playbook === 'zoned')?.schedule).toEqual(zoned);
      for (const f of fired) {
        expect(f.scheduledAt.getMilliseconds()).toBe(0);
        // The tick's own time, not the time of the call: at most a fraction of a second before it.
        expect(f.firedAt - f.scheduledAt.getTime()).toBeGreaterThanOrEqual(0);
        expect(f.firedAt - f.scheduledAt.getTime()).toBeLessThan(900);
      }
      for (const playbook of ['tick', 'zoned']) {
        const ticks = ticksOf(fired, playbook);
        for (const [i, t] of ticks.entries()) if (i > 0) expect(t - (ticks[i - 1] ?? 0)).toBe(1000);
      }
    });

    it('adds new, removes gone and keeps changed schedules firing when sync() gets a new list', async ({
      expect,
    }) => {
      const { scheduler, fired, failures } = make();
      await scheduler.sync([schedule('kept'), schedule('gone')]);
      await until('kept and gone to fire', () =>
        ['kept', 'gone'].every((p) => ticksOf(fired, p).length > 0),
      );
      await scheduler.sync([schedule('kept', { timezone: 'UTC' }), schedule('added')]);
      const syncedAt = Date.now();
      // The same list again, reordered: nothing to do.
      await scheduler.sync([schedule('added'), schedule('kept', { timezone: 'UTC' })]);
      await until('added to fire', () => ticksOf(fired, 'added').length > 0);
      await sleep(2200 - (Date.now() - syncedAt));
      await scheduler.stop();
      expect(failures).toEqual([]);
      // A tick already being fired when sync() ran may still land; none after it.
      expect(ticksOf(fired, 'gone').filter((t) => t > syncedAt + 1000)).toEqual([]);
      const kept = ticksOf(fired, 'kept');
      expect(new Set(kept).size).toBe(kept.length);
      expect(kept.filter((t) => t > syncedAt).length).toBeGreaterThanOrEqual(1);
      const keptAfter = fired.filter((f) => f.schedule.playbook === 'kept').at(-1);
      expect(keptAfter?.schedule.timezone).toBe('UTC');
      expect(ticksOf(fired, 'added').length).toBeGreaterThanOrEqual(1);
    });

    it('stops firing when stop() resolves', async ({ expect }) => {
      const { scheduler, fired } = make();
      await scheduler.sync([schedule('stopper')]);
      await until('a fire', () => fired.length > 0);
      await scheduler.stop();
      const count = fired.length;
      await sleep(1500);
      expect(fired.length).toBe(count);
      await expect(scheduler.sync([schedule('stopper')])).rejects.toMatchObject({
        code: 'not_ready',
      });
    });

    it('retries a tick with the same scheduledAt when fire throws a retryable error', async ({
      expect,
    }) => {
      const attempts = new Map<number, number>();
      const { scheduler, fired, failures } = make({
        before: async (_s, scheduledAt) => {
          const n = (attempts.get(scheduledAt.getTime()) ?? 0) + 1;
          attempts.set(scheduledAt.getTime(), n);
          if (attempts.size === 1 && n < 3) {
            throw new WardenError('not_ready', 'database busy', { retryable: true });
          }
        },
      });
      await scheduler.sync([schedule('flaky')]);
      await until('the first tick to succeed on its third try', () => fired.length > 0);
      await scheduler.stop();
      const [first] = [...attempts.keys()];
      expect(attempts.get(first ?? 0)).toBe(3);
      expect(fired[0]?.scheduledAt.getTime()).toBe(first);
      expect(failures.map((f) => [f.error.code, f.attempt, f.willRetry])).toEqual([
        ['not_ready', 1, true],
        ['not_ready', 2, true],
      ]);
      expect(failures[0]?.scheduledAt?.getTime()).toBe(first);
    });

    it('fails a tick for good when fire throws a non-retryable error', async ({ expect }) => {
      const attempts = new Map<number, number>();
      const { scheduler, failures } = make({
        before: async (_s, scheduledAt) => {
          attempts.set(scheduledAt.getTime(), (attempts.get(scheduledAt.getTime()) ?? 0) + 1);
          throw new Error('playbook exploded');
        },
      });
      await scheduler.sync([schedule('broken')]);
      await until('two ticks', () => attempts.size >= 2);
      await sleep(400);
      await scheduler.stop();
      expect([...attempts.values()].every((n) => n === 1)).toBe(true);
      expect(failures[0]).toMatchObject({ attempt: 1, willRetry: false });
      expect(failures[0]?.error.code).toBe('internal');
      expect(failures[0]?.schedule?.playbook).toBe('broken');
    });

    it('rejects an invalid schedule list without touching the running set', async ({ expect }) => {
      const { scheduler, fired } = make();
      await scheduler.sync([schedule('valid')]);
      await expect(
        scheduler.sync([schedule('valid'), schedule('bad', { cron: '61 * * * *' })]),
      ).rejects.toMatchObject({ code: 'invalid' });
      await until('valid to keep firing', () => fired.length > 0);
      await scheduler.stop();
    });
  });
}

describe.runIf(redisUrl)('scheduler [bullmq] across replicas', () => {
  it('fires each tick once in total when two replicas sync the same schedule', async () => {
    const queueName = `replicas${randomBytes(4).toString('hex')}`;
    const injected = new Redis(redisUrl ?? '', { maxRetriesPerRequest: null });
    const a = makeBullmq({ queueName });
    const b = makeBullmq({ queueName, connection: injected });
    const list = [schedule('shared'), schedule('other', { cron: '*/2 * * * * *' })];
    await Promise.all([a.scheduler.sync(list), b.scheduler.sync(list)]);
    const startedAt = Date.now();
    await sleep(4200);
    await b.scheduler.sync(list); // a later re-sync of an unchanged list must not add a tick
    await sleep(800);
    await Promise.all([a.scheduler.stop(), b.scheduler.stop()]);
    const all = [...a.fired, ...b.fired];
    const shared = ticksOf(all, 'shared').sort((x, y) => x - y);
    expect(shared.length).toBeGreaterThanOrEqual(4);
    expect(new Set(shared).size).toBe(shared.length);
    for (const [i, t] of shared.entries()) if (i > 0) expect(t - (shared[i - 1] ?? 0)).toBe(1000);
    expect(shared[0]).toBeLessThanOrEqual(startedAt + 1000);
    const other = ticksOf(all, 'other');
    expect(new Set(other).size).toBe(other.length);
    expect(other.every((t) => new Date(t).getSeconds() % 2 === 0)).toBe(true);
    // Both replicas took part, and the dedup keys a trigger store would see are all distinct.
    expect(a.fired.length).toBeGreaterThan(0);
    expect(b.fired.length).toBeGreaterThan(0);
    const keys = all.map((f) => cronDedupKey(f.schedule, f.scheduledAt));
    expect(new Set(keys).size).toBe(keys.length);
    // stop() left the injected connection to its owner.
    expect(injected.status).toBe('ready');
    await injected.quit();
  });

  it('closes the connections it opened when stop() resolves', async () => {
    const prefix = `${runPrefix}-conn`;
    const queueName = 'closing';
    const scheduler = createBullmqScheduler({
      connection: { url: redisUrl ?? '' },
      prefix,
      queueName,
      fire: async () => {},
      onError: () => {},
    });
    const admin = new Redis(redisUrl ?? '', { maxRetriesPerRequest: null });
    const ours = async () =>
      String(await admin.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(`name=${prefix}`));
    try {
      await scheduler.sync([schedule('noop', { cron: '0 0 1 1 *' })]);
      await until('its connections to show', async () => (await ours()).length >= 2);
      await scheduler.stop();
      await until('its connections to close', async () => (await ours()).length === 0, 1000);
    } finally {
      await scheduler.stop();
      const queue = new Queue(queueName, { connection: admin, prefix });
      await queue.obliterate({ force: true });
      await queue.close();
      await admin.quit();
    }
  });
});

describe('validateCron', () => {
  it('rejects a minute out of range', () => {
    expect(validateCron('61 * * * *')).toMatch(/minute/);
  });

  it('accepts a step pattern and a 6-field pattern with seconds', () => {
    expect(validateCron('*/15 * * * *')).toBeUndefined();
    expect(validateCron(everySecond)).toBeUndefined();
  });

  it('rejects croner extensions BullMQ cannot run, and unknown timezones', () => {
    expect(validateCron('0 0 15W * *')).toMatch(/W/);
    expect(validateCron('0 0 * * +1')).toMatch(/\+/);
    expect(validateCron('0 0 0 1 1 * 2030')).toMatch(/parts/);
    expect(validateCron('0 9 * * MON-FRI')).toBeUndefined();
    expect(validateCron('0 9 * * 1', 'Mars/Olympus')).toMatch(/timezone/);
  });
});

describe('cronDedupKey', () => {
  it('names playbook, cron and the tick to the second', () => {
    const tick = new Date('2026-05-04T09:15:00.000Z');
    expect(cronDedupKey(schedule('rotate', { cron: '*/15 * * * *' }), tick)).toBe(
      'cron:rotate:*/15 * * * *:2026-05-04T09:15:00Z',
    );
  });
});
