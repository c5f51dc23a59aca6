import { describe, expect, it } from 'vitest';
import { describeBound, describeSample, judge } from './bound.js';

const s = (value: number, instance = 'a') => ({ metric: { instance }, value });

describe('judge', () => {
  it('is satisfied when every sample is strictly below the bound', () => {
    expect(judge([s(1), s(29.9, 'b')], { below: 30 }).satisfied).toBe(true);
    expect(judge([s(1), s(30, 'b')], { below: 30 }).satisfied).toBe(false);
  });

  it('is satisfied when every sample is strictly above the bound', () => {
    expect(judge([s(0.99)], { above: 0.95 }).satisfied).toBe(true);
    expect(judge([s(0.95)], { above: 0.95 }).satisfied).toBe(false);
  });

  it('needs both sides when both are set', () => {
    expect(judge([s(5)], { above: 1, below: 10 }).satisfied).toBe(true);
    expect(judge([s(0)], { above: 1, below: 10 }).satisfied).toBe(false);
    expect(judge([s(11)], { above: 1, below: 10 }).satisfied).toBe(false);
  });

  it('is never satisfied by an empty result', () => {
    const verdict = judge([], { below: 30 });
    expect(verdict).toEqual({ satisfied: false, worst: undefined, failing: 0 });
  });

  it('treats NaN as outside any bound and +Inf as above everything', () => {
    expect(judge([s(Number.NaN)], { below: 30 }).satisfied).toBe(false);
    expect(judge([s(Number.NaN)], { above: 0 }).satisfied).toBe(false);
    expect(judge([s(Number.POSITIVE_INFINITY)], { below: 30 }).satisfied).toBe(false);
    expect(judge([s(Number.POSITIVE_INFINITY)], { above: 0 }).satisfied).toBe(true);
  });

  it('names the worst sample and counts the failing ones', () => {
    const verdict = judge([s(10, 'a'), s(45, 'b'), s(31, 'c')], { below: 30 });
    expect(verdict.worst).toEqual(s(45, 'b'));
    expect(verdict.failing).toBe(2);
  });
});

describe('describeBound', () => {
  it('reads as a sentence fragment', () => {
    expect(describeBound({ below: 30 })).toBe('below 30');
    expect(describeBound({ above: 1, below: 30 })).toBe('above 1 and below 30');
  });
});

describe('describeSample', () => {
  it('writes the value followed by its labels', () => {
    expect(describeSample({ metric: { job: 'api', le: '0.5' }, value: 42 })).toBe(
      '42 {job="api", le="0.5"}',
    );
    expect(describeSample({ metric: {}, value: 3 })).toBe('3');
  });
});
