import { describe, expect, it } from 'vitest';
import { alertRules, nextState, type RuleState, resolveAlertRules } from './alert-rules.js';

const t0 = Date.parse('2026-03-01T12:00:00Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000);
const rule = { threshold: 10, clearBelow: 5, clearAfterMs: 5 * 60_000, windowMs: 60_000 };

/** Feeds (minute, value) pairs through nextState; returns the transitions in order. */
function run(values: Array<[number, number]>): string[] {
  let state: RuleState | undefined;
  const seen: string[] = [];
  for (const [minute, value] of values) {
    const next = nextState(state, value, rule, at(minute));
    if (next.transition) seen.push(`${next.transition}@${minute}`);
    state = next;
  }
  return seen;
}

describe('nextState', () => {
  it('fires when the value reaches the threshold, not below it', () => {
    expect(run([[0, 9]])).toEqual([]);
    expect(
      run([
        [0, 9],
        [1, 10],
      ]),
    ).toEqual(['fired@1']);
  });

  it('does not flap while the value dances around the threshold', () => {
    expect(
      run([
        [0, 10],
        [1, 9],
        [2, 11],
        [3, 6],
        [4, 10],
        [5, 9],
      ]),
    ).toEqual(['fired@0']);
  });

  it('clears only after the value stayed below clearBelow for clearAfterMs', () => {
    expect(
      run([
        [0, 10],
        [1, 4],
        [5, 4],
        [6, 4],
      ]),
    ).toEqual(['fired@0', 'cleared@6']);
    // A value back at clearBelow restarts the wait.
    expect(
      run([
        [0, 10],
        [1, 4],
        [3, 5],
        [4, 4],
        [8, 4],
        [9, 4],
      ]),
    ).toEqual(['fired@0', 'cleared@9']);
  });

  it('keeps when the state began', () => {
    const fired = nextState(undefined, 10, rule, at(0));
    expect(nextState(fired, 12, rule, at(3))).toMatchObject({ state: 'firing', since: at(0) });
  });
});

describe('resolveAlertRules', () => {
  it('applies overrides over the defaults', () => {
    const rules = resolveAlertRules({ repeated_denials: { threshold: 8 } });
    expect(rules.repeated_denials).toEqual({ ...alertRules.repeated_denials, threshold: 8 });
    expect(rules.anchoring_lag).toEqual(alertRules.anchoring_lag);
  });

  it('names every inconsistent setting', () => {
    expect(() =>
      resolveAlertRules({
        anchoring_lag: { threshold: 60 },
        repeated_denials: { windowMs: 0, clearAfterMs: -1 },
      }),
    ).toThrow(
      'Invalid alert rules: repeated_denials.clearAfterMs must be a number ≥ 0; repeated_denials.windowMs must be > 0; anchoring_lag.clearBelow (120) must not exceed its threshold',
    );
  });
});
