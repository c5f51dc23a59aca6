/**
 * The RunQueue contract, run against every adapter: the inline p-queue always, BullMQ when
 * REDIS_URL is set (with WARDEN_REQUIRE_SERVICES=1 a missing REDIS_URL fails the file). Where the
 * inline adapter falls short of the contract, the gap is declared below and the test is expected
 * to fail for it (`it.fails`), so that closing the gap shows up.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { WardenError } from '../../src/errors.js';
import { createBullmqQueue } from '../../src/queue/bullmq-queue.js';
import { createInlineQueue } from '../../src/queue/inline-queue.js';
import type { RunHandler, RunQueue } from '../../src/queue/run-queue.js';
import { redisUrl, serviceAvailable, uniqueRedisPrefix } from '../helpers/services.js';

// At module level, so that WARDEN_REQUIRE_SERVICES=1 without REDIS_URL fails the file loudly.
const withRedis = serviceAvailable('REDIS_URL');
const prefix = uniqueRedisPrefix();
const queuesUsed = new Set<string>();
const stoppers: RunQueue[] = [];

interface Failure {
  code: string;
  run: string | undefined;
  willRetry: boolean;
}

interface Harness {
  queue: RunQueue;
  failures: Failure[];
}

interface MakeOptions {
  /** @defaultValue 4 */
  concurrency?: number;
  /** BullMQ: instances given the same name share one Redis queue, like processes. */
  shared?: string;
  /** BullMQ attempts for retryable errors. @defaultValue 5 */
  attempts?: number;
}

/** Ways the inline adapter knowingly differs from the contract (see its module). */
type Gap = 'runs-duplicates' | 'overlaps-a-run' | 'no-retries';

interface Adapter {
  name: string;
  make(options?: MakeOptions): Harness;
  gaps: ReadonlySet<Gap>;
}

const track = (queue: RunQueue, failures: Failure[]): Harness => {
  stoppers.push(queue);
  return { queue, failures };
};

const inline: Adapter = {
  name: 'inline',
  // p-queue keeps no index of what it holds: a run enqueued twice is handled twice, the second
  // time possibly while the first is still in progress; a failed run waits for the next start.
  gaps: new Set<Gap>(['runs-duplicates', 'overlaps-a-run', 'no-retries']),
  make(options = {}) {
    const failures: Failure[] = [];
    const queue = createInlineQueue({
      concurrency: options.concurrency ?? 4,
      onError: (err, _tenant, runId) => {
        const code = err instanceof WardenError ? err.code : 'internal';
        failures.push({ code, run: runId, willRetry: false });
      },
    });
    return track(queue, failures);
  },
};

const bullmq: Adapter = {
  name: 'bullmq',
  gaps: new Set(),
  make(options = {}) {
    const queueName = options.shared ?? `runs-${randomBytes(4).toString('hex')}`;
    queuesUsed.add(queueName);
    const failures: Failure[] = [];
    const queue = createBullmqQueue({
      connection: { url: redisUrl ?? '' },
      prefix,
      queueName,
      concurrency: options.concurrency ?? 4,
      attempts: options.attempts ?? 5,
      retryDelayMs: 20,
      idleTimeoutMs: 20_000,
      onError: (f) => failures.push({ code: f.error.code, run: f.runId, willRetry: f.willRetry }),
    });
    return track(queue, failures);
  },
};

const adapters = withRedis ? [inline, bullmq] : [inline];

afterAll(async () => {
  await Promise.all(stoppers.map((q) => q.stop()));
  if (!withRedis) return;
  const client = new Redis(redisUrl ?? '', { maxRetriesPerRequest: null });
  for (const name of queuesUsed) {
    const queue = new Queue(name, { connection: client, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  const left = await client.keys(`${prefix}:*`);
  await client.quit();
  if (left.length > 0) throw new Error(`obliterate left keys behind: ${left.join(', ')}`);
});

/** Polls until `check` holds, or fails naming what it waited for. */
async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

/** A handler that counts calls per run and how many ran at once, overall and per run. */
function recorder(work: (runId: string, call: number) => Promise<void> = async () => {}) {
  const calls = new Map<string, number>();
  const running = new Map<string, number>();
  const done: string[] = [];
  let active = 0;
  let maxActive = 0;
  let maxPerRun = 0;
  const handler: RunHandler = async (_tenant, runId) => {
    const call = (calls.get(runId) ?? 0) + 1;
    calls.set(runId, call);
    active++;
    running.set(runId, (running.get(runId) ?? 0) + 1);
    maxActive = Math.max(maxActive, active);
    maxPerRun = Math.max(maxPerRun, running.get(runId) ?? 0);
    try {
      await work(runId, call);
      done.push(runId);
    } finally {
      active--;
      running.set(runId, (running.get(runId) ?? 1) - 1);
    }
  };
  return {
    handler,
    calls,
    done,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    maxActive: () => maxActive,
    maxPerRun: () => maxPerRun,
  };
}

function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const ids = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

for (const adapter of adapters) {
  /** The contract; `it.fails` where this adapter has a declared gap. */
  const itUnless = (gap: Gap) => (adapter.gaps.has(gap) ? it.fails : it);

  describe.concurrent(`run queue [${adapter.name}]`, () => {
    it('processes runs enqueued before start once start is called', async () => {
      const { queue, failures } = adapter.make();
      const r = recorder();
      for (const id of ids(3, 'early')) await queue.enqueue('acme', id);
      await sleep(100);
      await queue.start(r.handler);
      await queue.idle();
      expect(Object.fromEntries(r.calls)).toEqual({ 'early-0': 1, 'early-1': 1, 'early-2': 1 });
      expect(failures).toEqual([]);
    });

    it('hands each of 200 runs to the handler exactly once, several at a time', async () => {
      const { queue, failures } = adapter.make({ concurrency: 8 });
      const r = recorder(() => sleep(Math.random() * 4));
      await queue.start(r.handler);
      const runs = ids(200, 'many');
      await Promise.all(runs.map((id) => queue.enqueue('acme', id)));
      await queue.idle();
      expect(r.calls.size).toBe(200);
      expect([...r.calls.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      expect(r.done.length).toBe(200);
      expect(r.maxActive()).toBeGreaterThan(1);
      expect(r.maxActive()).toBeLessThanOrEqual(8);
      expect(failures).toEqual([]);
    });

    it('has a run enqueued twice while it waits take effect once', async () => {
      const { queue } = adapter.make();
      // Guarded like the engine: the first caller claims the run, later callers find it claimed.
      const claimed = new Set<string>();
      let effects = 0;
      const r = recorder(async (runId) => {
        if (claimed.has(runId)) return;
        claimed.add(runId);
        effects++;
      });
      await queue.enqueue('acme', 'twice');
      await queue.enqueue('acme', 'twice');
      await queue.start(r.handler);
      await queue.idle();
      expect(effects).toBe(1);
      // BullMQ deduplicates the waiting job; the inline adapter hands the run over twice.
      expect(r.calls.get('twice')).toBe(adapter.gaps.has('runs-duplicates') ? 2 : 1);
    });

    itUnless('overlaps-a-run')(
      'never hands one run to two handlers at once, and runs it once more if enqueued meanwhile',
      async () => {
        const { queue } = adapter.make();
        const first = gate();
        const r = recorder(async (_runId, call) => {
          if (call === 1) await first.opened;
        });
        await queue.start(r.handler);
        await queue.enqueue('acme', 'busy');
        try {
          await until('the first call to start', () => r.calls.get('busy') === 1);
          await queue.enqueue('acme', 'busy');
          await queue.enqueue('acme', 'busy');
          await sleep(200);
          expect(r.maxPerRun()).toBe(1);
        } finally {
          first.open();
        }
        await queue.idle();
        expect(r.calls.get('busy')).toBe(2);
        expect(r.maxPerRun()).toBe(1);
      },
    );

    it('resolves idle() only once queued and running work has finished', async () => {
      const { queue } = adapter.make({ concurrency: 2 });
      const r = recorder(() => sleep(60));
      await queue.start(r.handler);
      for (const id of ids(6, 'idle')) await queue.enqueue('acme', id);
      await queue.idle();
      expect(r.done.length).toBe(6);
      const started = performance.now();
      await queue.idle();
      expect(performance.now() - started).toBeLessThan(1000);
    });

    it('finishes the run in hand on stop() and takes no more work', async () => {
      const { queue } = adapter.make({ concurrency: 1 });
      const first = gate();
      const r = recorder(async (_runId, call) => {
        if (call === 1) await first.opened;
      });
      await queue.start(r.handler);
      for (const id of ids(3, 'stop')) await queue.enqueue('acme', id);
      await until('the first run to start', () => r.total() === 1);
      const stopping = queue.stop();
      await sleep(50);
      first.open();
      await stopping;
      await queue.stop();
      expect(r.done).toEqual(['stop-0']);
      await queue.enqueue('acme', 'after-stop');
      await sleep(200);
      expect([...r.calls.keys()]).toEqual(['stop-0']);
      await queue.idle();
    });

    itUnless('no-retries')('retries a run whose handler fails with a retryable error', async () => {
      const { queue, failures } = adapter.make();
      const r = recorder(async (_runId, call) => {
        if (call === 1) throw new WardenError('not_ready', 'database busy', { retryable: true });
      });
      await queue.start(r.handler);
      await queue.enqueue('acme', 'flaky');
      await until('a second call', () => r.total() === 2, 3000);
      await queue.idle();
      expect(r.done).toEqual(['flaky']);
      expect(failures).toEqual([{ code: 'not_ready', run: 'flaky', willRetry: true }]);
    });

    it('does not retry a run whose handler fails with a plain or non-retryable error', async () => {
      const { queue, failures } = adapter.make();
      const r = recorder(async (runId) => {
        if (runId === 'plain') throw new Error('engine exploded');
        throw new WardenError('invalid', 'bad run');
      });
      await queue.start(r.handler);
      await queue.enqueue('acme', 'plain');
      await queue.enqueue('acme', 'refused');
      await queue.idle();
      await sleep(150);
      expect(Object.fromEntries(r.calls)).toEqual({ plain: 1, refused: 1 });
      expect(failures).toHaveLength(2);
      expect(failures).toContainEqual({ code: 'internal', run: 'plain', willRetry: false });
      expect(failures).toContainEqual({ code: 'invalid', run: 'refused', willRetry: false });
    });
  });
}

describe.runIf(withRedis)('run queue [bullmq] across processes', () => {
  it('shares the work of two workers so that every run is handled exactly once overall', async () => {
    const shared = `shared-${randomBytes(4).toString('hex')}`;
    const ingress = bullmq.make({ shared });
    const a = bullmq.make({ shared, concurrency: 4 });
    const b = bullmq.make({ shared, concurrency: 4 });
    const ra = recorder(() => sleep(Math.random() * 4));
    const rb = recorder(() => sleep(Math.random() * 4));
    await Promise.all([a.queue.start(ra.handler), b.queue.start(rb.handler)]);
    const runs = ids(200, 'spread');
    await Promise.all(runs.map((id) => ingress.queue.enqueue('acme', id)));
    await Promise.all([ingress.queue.idle(), a.queue.idle(), b.queue.idle()]);
    const overall = new Map<string, number>();
    for (const r of [ra, rb]) {
      for (const [id, n] of r.calls) overall.set(id, (overall.get(id) ?? 0) + n);
    }
    expect(overall.size).toBe(200);
    expect([...overall.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(ra.total()).toBeGreaterThan(0);
    expect(rb.total()).toBeGreaterThan(0);
  });

  it('leaves the runs a stopped worker did not take to the next worker', async () => {
    const shared = `handover-${randomBytes(4).toString('hex')}`;
    const first = bullmq.make({ shared, concurrency: 1 });
    const hold = gate();
    const r1 = recorder(async () => hold.opened);
    await first.queue.start(r1.handler);
    for (const id of ids(3, 'handover')) await first.queue.enqueue('acme', id);
    await until('the first run to start', () => r1.total() === 1);
    const stopping = first.queue.stop();
    hold.open();
    await stopping;
    const second = bullmq.make({ shared });
    const r2 = recorder();
    await second.queue.start(r2.handler);
    await second.queue.idle();
    expect(r1.done).toEqual(['handover-0']);
    expect([...r2.calls.keys()].sort()).toEqual(['handover-1', 'handover-2']);
  });

  it('gives up on a run after its attempts, reporting the last one as final', async () => {
    const { queue, failures } = bullmq.make({ attempts: 3 });
    const r = recorder(async () => {
      throw new WardenError('not_ready', 'still busy', { retryable: true });
    });
    await queue.start(r.handler);
    await queue.enqueue('acme', 'hopeless');
    await queue.idle();
    expect(r.calls.get('hopeless')).toBe(3);
    expect(failures.map((f) => f.willRetry)).toEqual([true, true, false]);
  });

  it('closes the connections it opened when stop() resolves', async () => {
    // A prefix of its own, so that only this queue's connections are counted.
    const own = `${prefix}-conn`;
    const queue = createBullmqQueue({
      connection: { url: redisUrl ?? '' },
      prefix: own,
      queueName: 'closing',
      onError: () => {},
    });
    const admin = new Redis(redisUrl ?? '', { maxRetriesPerRequest: null });
    const ours = async () =>
      String(await admin.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(`name=${own}:`)).length;
    try {
      await queue.start(async () => {});
      await queue.enqueue('acme', 'one');
      await queue.idle();
      expect(await ours()).toBe(2); // commands, and the worker's blocking reads
      await queue.stop();
      const deadline = Date.now() + 1000;
      while ((await ours()) > 0 && Date.now() < deadline) await sleep(20);
      expect(await ours()).toBe(0);
    } finally {
      await queue.stop();
      const leftover = new Queue('closing', { connection: admin, prefix: own });
      await leftover.obliterate({ force: true });
      await leftover.close();
      await admin.quit();
    }
  });

  it('rejects a second start', async () => {
    const { queue } = bullmq.make();
    await queue.start(async () => {});
    await expect(queue.start(async () => {})).rejects.toMatchObject({ code: 'conflict' });
  });
});
