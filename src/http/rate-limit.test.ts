import { describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimiterOptions } from './rate-limit.js';

/** A limiter on a hand-driven clock (milliseconds). */
function limiter(options: Omit<RateLimiterOptions, 'now'>) {
  const clock = { ms: 0 };
  return { clock, limit: createRateLimiter({ ...options, now: () => clock.ms }) };
}

function drain(limit: { take(key: string): { ok: boolean } }, key: string, times: number) {
  for (let i = 0; i < times; i++) expect(limit.take(key).ok).toBe(true);
}

describe('createRateLimiter', () => {
  it('grants up to burst at once, then refuses', () => {
    const { limit } = limiter({ perSecond: 1, burst: 3 });
    drain(limit, 'acme', 3);
    expect(limit.take('acme')).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('refills continuously at perSecond', () => {
    const { clock, limit } = limiter({ perSecond: 2, burst: 2 });
    drain(limit, 'acme', 2);
    clock.ms = 499;
    expect(limit.take('acme').ok).toBe(false);
    clock.ms = 500;
    expect(limit.take('acme').ok).toBe(true);
    expect(limit.take('acme').ok).toBe(false);
  });

  it('never holds more than burst, however long a key was idle', () => {
    const { clock, limit } = limiter({ perSecond: 10, burst: 3 });
    drain(limit, 'acme', 3);
    clock.ms = 3_600_000;
    drain(limit, 'acme', 3);
    expect(limit.take('acme').ok).toBe(false);
  });

  it('keeps each key in its own bucket', () => {
    const { limit } = limiter({ perSecond: 1, burst: 2 });
    drain(limit, 'acme', 2);
    expect(limit.take('acme').ok).toBe(false);
    drain(limit, 'globex', 2);
  });

  it('spends nothing on a refusal', () => {
    const { clock, limit } = limiter({ perSecond: 1, burst: 1 });
    drain(limit, 'acme', 1);
    for (clock.ms = 100; clock.ms < 1000; clock.ms += 100) {
      expect(limit.take('acme').ok).toBe(false);
    }
    clock.ms = 1000;
    expect(limit.take('acme').ok).toBe(true);
  });

  it('answers retryAfterSeconds as whole seconds, rounded up, until enough tokens exist', () => {
    const { clock, limit } = limiter({ perSecond: 0.25, burst: 1 });
    drain(limit, 'acme', 1);
    expect(limit.take('acme')).toEqual({ ok: false, retryAfterSeconds: 4 });
    clock.ms = 1_500;
    expect(limit.take('acme')).toEqual({ ok: false, retryAfterSeconds: 3 });
    clock.ms = 2_800;
    expect(limit.take('acme')).toEqual({ ok: false, retryAfterSeconds: 2 });
    clock.ms = 3_999;
    expect(limit.take('acme')).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('answers at least one second when the wait is shorter', () => {
    const { clock, limit } = limiter({ perSecond: 1000, burst: 1 });
    drain(limit, 'acme', 1);
    expect(limit.take('acme')).toEqual({ ok: false, retryAfterSeconds: 1 });
    clock.ms = 1 - 1e-8;
    expect(limit.take('acme')).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('spends cost tokens at once and waits for all of them when short', () => {
    const { clock, limit } = limiter({ perSecond: 1, burst: 5 });
    expect(limit.take('acme', 3).ok).toBe(true);
    expect(limit.take('acme', 3)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limit.take('acme', 2).ok).toBe(true);
    expect(limit.take('acme', 5)).toEqual({ ok: false, retryAfterSeconds: 5 });
    clock.ms = 5_000;
    expect(limit.take('acme', 5).ok).toBe(true);
  });

  it('grants a token at the moment it is due despite floating-point steps on the way', () => {
    const { clock, limit } = limiter({ perSecond: 10, burst: 1 });
    drain(limit, 'acme', 1);
    // Refusals every 8 ms add up to 0.9999999999999999 tokens by 100 ms without a tolerance.
    for (clock.ms = 8; clock.ms < 100; clock.ms += 8) expect(limit.take('acme').ok).toBe(false);
    clock.ms = 100;
    expect(limit.take('acme').ok).toBe(true);
  });

  it('refills nothing while the clock steps back, nor again once it returns', () => {
    const { clock, limit } = limiter({ perSecond: 1, burst: 1 });
    clock.ms = 10_000;
    drain(limit, 'acme', 1);
    clock.ms = 5_000;
    expect(limit.take('acme').ok).toBe(false);
    clock.ms = 10_500;
    expect(limit.take('acme').ok).toBe(false);
    clock.ms = 11_000;
    expect(limit.take('acme').ok).toBe(true);
  });

  it('throws a RangeError for a cost it could never grant or a negative one', () => {
    const { limit } = limiter({ perSecond: 1, burst: 2 });
    expect(() => limit.take('acme', 3)).toThrow(RangeError);
    expect(() => limit.take('acme', -1)).toThrow(RangeError);
    expect(() => limit.take('acme', Number.NaN)).toThrow(RangeError);
    expect(limit.take('acme', 2).ok).toBe(true);
  });

  it.each([
    { perSecond: 0, burst: 1 },
    { perSecond: -1, burst: 1 },
    { perSecond: 1, burst: 0 },
    { perSecond: Number.POSITIVE_INFINITY, burst: 1 },
    { perSecond: 1, burst: 1, maxKeys: 0 },
    { perSecond: 1, burst: 1, maxKeys: 1.5 },
  ])('refuses the options %o', (options) => {
    expect(() => createRateLimiter(options)).toThrow(RangeError);
  });

  describe('memory', () => {
    it('holds at most maxKeys buckets however many keys arrive', () => {
      const { clock, limit } = limiter({ perSecond: 1, burst: 5, maxKeys: 100 });
      for (let i = 0; i < 10_000; i++) {
        clock.ms = i;
        limit.take(`tenant-${i}`);
        expect(limit.size).toBeLessThanOrEqual(100);
      }
      expect(limit.size).toBe(100);
    });

    it('evicts full buckets first, keeping a drained bucket that was used longer ago', () => {
      const { clock, limit } = limiter({ perSecond: 1, burst: 2, maxKeys: 2 });
      drain(limit, 'drained', 2);
      clock.ms = 10;
      drain(limit, 'refilled', 1);
      // At 1.01 s "refilled" is full again; "drained" holds 1.01 tokens and is least recent.
      clock.ms = 1_010;
      expect(limit.take('newcomer').ok).toBe(true);
      expect(limit.size).toBe(2);
      expect(limit.take('drained').ok).toBe(true);
      expect(limit.take('drained').ok).toBe(false);
    });

    it('evicts the least recently used bucket when none is full', () => {
      const { limit } = limiter({ perSecond: 1, burst: 1, maxKeys: 2 });
      drain(limit, 'old', 1);
      drain(limit, 'recent', 1);
      expect(limit.take('old').ok).toBe(false);
      // "old" was touched last; "recent" is now the least recently used.
      expect(limit.take('newcomer').ok).toBe(true);
      expect(limit.take('old').ok).toBe(false);
      expect(limit.take('recent').ok).toBe(true);
      expect(limit.size).toBe(2);
    });
  });
});
