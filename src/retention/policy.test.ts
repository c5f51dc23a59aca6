import { describe, expect, it } from 'vitest';
import { cutoffsOf, retentionSchema } from './policy.js';

describe('retentionSchema', () => {
  it('defaults to 30 days of trigger bodies, 180 of run details and 365 of disclosures', () => {
    const expected = { triggerBodies: '30d', runDetails: '180d', disclosures: '365d' };
    expect(retentionSchema.parse(undefined)).toEqual(expected);
    expect(retentionSchema.parse({})).toEqual(expected);
    expect(retentionSchema.parse({ triggerBodies: '7d' })).toEqual({
      ...expected,
      triggerBodies: '7d',
    });
  });

  it('rejects a window that is not a duration, and unknown keys', () => {
    expect(retentionSchema.safeParse({ runDetails: '6 months' }).success).toBe(false);
    expect(retentionSchema.safeParse({ receipts: '1d' }).success).toBe(false);
  });
});

describe('cutoffsOf', () => {
  it('subtracts each window from now', () => {
    const now = new Date('2026-06-30T00:00:00Z');
    const cutoffs = cutoffsOf({ triggerBodies: '30d', runDetails: '12h', disclosures: '90s' }, now);
    expect(cutoffs.triggerBodies.toISOString()).toBe('2026-05-31T00:00:00.000Z');
    expect(cutoffs.runDetails.toISOString()).toBe('2026-06-29T12:00:00.000Z');
    expect(cutoffs.disclosures.toISOString()).toBe('2026-06-29T23:58:30.000Z');
  });
});
