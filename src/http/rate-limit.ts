/** Rate limit: a token bucket per key (tenant), in memory, with a bounded number of buckets. */

export interface RateLimiterOptions {
  /** Tokens added to each bucket per second, continuously. */
  perSecond: number;
  /** Capacity of each bucket: the most a key can spend at once after being idle. */
  burst: number;
  /**
   * Clock in milliseconds; inject one in tests.
   * @defaultValue Date.now
   */
  now?: () => number;
  /**
   * Most buckets held at once. Past it, full buckets are dropped first (they hold no state a new
   * bucket would not); if none is full, the least recently used 1% (at least one) are dropped.
   * @defaultValue 10_000
   */
  maxKeys?: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  /**
   * Spends `cost` tokens (default 1) from the key's bucket if it holds that many; a refusal spends
   * nothing. Throws a RangeError when `cost` exceeds `burst`, as it could never be granted.
   */
  take(key: string, cost?: number): TakeResult;
  /** Buckets currently held (at most `maxKeys`). */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

// Absorbs floating-point error so that exactly enough tokens count as enough.
const epsilon = 1e-9;

/**
 * @example
 * const limiter = createRateLimiter({ perSecond: 5, burst: 20 });
 * const taken = limiter.take(tenantId);
 * if (!taken.ok) {
 *   throw new WardenError('rate_limited', 'Too many requests for this tenant.', {
 *     details: taken.retryAfterSeconds,
 *   });
 * }
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { perSecond, burst, now = Date.now, maxKeys = 10_000 } = options;
  assertPositive('perSecond', perSecond);
  assertPositive('burst', burst);
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}.`);
  }
  const perMs = perSecond / 1000;
  const lruBatch = Math.max(1, Math.floor(maxKeys / 100));
  // Map order is least recently used first: a bucket is re-inserted whenever it is touched.
  const buckets = new Map<string, Bucket>();
  // No bucket can be full before this time, so sweeping for full buckets earlier finds none.
  let earliestFull = Number.POSITIVE_INFINITY;

  const fullAt = (bucket: Bucket) => bucket.at + (burst - bucket.tokens) / perMs;

  function makeRoom(t: number): void {
    if (t >= earliestFull) {
      earliestFull = Number.POSITIVE_INFINITY;
      for (const [key, bucket] of buckets) {
        const full = fullAt(bucket);
        if (full <= t) buckets.delete(key);
        else earliestFull = Math.min(earliestFull, full);
      }
    }
    // Dropping a batch at once: each walk from the front of a Map skips the slots deleted before,
    // so one bucket per walk would cost O(maxKeys) per new key under a flood of new keys.
    if (buckets.size < maxKeys) return;
    let evict = lruBatch;
    for (const key of buckets.keys()) {
      buckets.delete(key);
      if (--evict === 0) break;
    }
  }

  return {
    take(key, cost = 1) {
      if (!Number.isFinite(cost) || cost < 0 || cost > burst) {
        throw new RangeError(`cost must be between 0 and burst (${burst}), got ${cost}.`);
      }
      const t = now();
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key);
        // A clock that steps back refills nothing and does not move the bucket's time back.
        const elapsed = Math.max(0, t - bucket.at);
        bucket = {
          tokens: Math.min(burst, bucket.tokens + elapsed * perMs),
          at: Math.max(t, bucket.at),
        };
      } else {
        if (buckets.size >= maxKeys) makeRoom(t);
        bucket = { tokens: burst, at: t };
      }
      buckets.set(key, bucket);
      const missing = cost - bucket.tokens;
      if (missing > epsilon) {
        return {
          ok: false,
          retryAfterSeconds: Math.max(1, Math.ceil(missing / perSecond - epsilon)),
        };
      }
      bucket.tokens = Math.max(0, bucket.tokens - cost);
      earliestFull = Math.min(earliestFull, fullAt(bucket));
      return { ok: true };
    },
    get size() {
      return buckets.size;
    },
  };
}

function assertPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${value}.`);
  }
}
