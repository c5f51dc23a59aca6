/**
 * Alert rules: Warden's internal alerts about its own autonomy, as data — what each measures, over
 * which window, and its default thresholds — and the hysteresis every rule shares: a rule fires when
 * its value reaches `threshold`, and clears only once the value has stayed below the lower
 * `clearBelow` for `clearAfterMs`, so a value dancing around the threshold does not flap.
 */

export const alertRuleNames = [
  'runaway_run_rate',
  'repeated_denials',
  'budget_exceed_attempts',
  'delivery_failures',
  'anchoring_lag',
] as const;
export type AlertRuleName = (typeof alertRuleNames)[number];

export interface AlertThresholds {
  /** Fires when the value is at or above this. */
  threshold: number;
  /** A firing rule may clear only while the value is below this (at most `threshold`). */
  clearBelow: number;
  /** …and only once it has been below `clearBelow` for this long (0: at the first such evaluation). */
  clearAfterMs: number;
  /** The window counted back from the evaluation (counting rules). */
  windowMs: number;
}

export interface AlertRule extends AlertThresholds {
  name: AlertRuleName;
  title: string;
  /** What the value counts, for messages: `runs`, `denied steps`, `seconds`. */
  unit: string;
}

const minute = 60_000;

/** The rules with their defaults. */
export const alertRules: Readonly<Record<AlertRuleName, AlertRule>> = {
  runaway_run_rate: {
    name: 'runaway_run_rate',
    title: 'Runaway run rate',
    unit: 'runs started',
    windowMs: 10 * minute,
    threshold: 50,
    clearBelow: 25,
    clearAfterMs: 10 * minute,
  },
  repeated_denials: {
    name: 'repeated_denials',
    title: 'Repeated denials',
    unit: 'steps denied',
    windowMs: 30 * minute,
    threshold: 5,
    clearBelow: 3,
    clearAfterMs: 10 * minute,
  },
  budget_exceed_attempts: {
    name: 'budget_exceed_attempts',
    title: 'Budget-exceed attempts',
    unit: 'steps stopped by a budget',
    windowMs: 60 * minute,
    threshold: 3,
    clearBelow: 1,
    clearAfterMs: 10 * minute,
  },
  delivery_failures: {
    name: 'delivery_failures',
    title: 'Report delivery failures',
    unit: 'deliveries failed',
    windowMs: 24 * 60 * minute,
    threshold: 1,
    clearBelow: 1,
    clearAfterMs: 0,
  },
  anchoring_lag: {
    name: 'anchoring_lag',
    title: 'Anchoring lag',
    unit: 'seconds behind',
    windowMs: 0,
    threshold: 300,
    clearBelow: 120,
    clearAfterMs: 5 * minute,
  },
};

export type AlertRuleOverrides = Partial<Record<AlertRuleName, Partial<AlertThresholds>>>;

/**
 * The rules with `overrides` applied; throws a TypeError naming each inconsistent setting.
 * @example
 * const rules = resolveAlertRules({ repeated_denials: { threshold: 10, clearBelow: 5 } });
 */
export function resolveAlertRules(
  overrides: AlertRuleOverrides = {},
): Record<AlertRuleName, AlertRule> {
  const problems: string[] = [];
  const entries = alertRuleNames.map((name) => {
    const rule = { ...alertRules[name], ...overrides[name] };
    for (const key of ['threshold', 'clearBelow', 'clearAfterMs', 'windowMs'] as const) {
      if (!Number.isFinite(rule[key]) || rule[key] < 0) {
        problems.push(`${name}.${key} must be a number ≥ 0`);
      }
    }
    if (rule.clearBelow > rule.threshold) {
      problems.push(`${name}.clearBelow (${rule.clearBelow}) must not exceed its threshold`);
    }
    if (name !== 'anchoring_lag' && rule.windowMs <= 0)
      problems.push(`${name}.windowMs must be > 0`);
    return [name, rule] as const;
  });
  if (problems.length > 0) throw new TypeError(`Invalid alert rules: ${problems.join('; ')}`);
  return Object.fromEntries(entries) as Record<AlertRuleName, AlertRule>;
}

export type AlertState = 'firing' | 'clear';

/** What a rule's state row holds between evaluations. */
export interface RuleState {
  state: AlertState;
  since: Date;
  /** While firing, since when the value has been below `clearBelow` (null: it is not). */
  belowSince: Date | null;
}

export interface NextState extends RuleState {
  transition: 'fired' | 'cleared' | null;
}

/**
 * The next state of a rule given its value at `now`.
 * @example
 * nextState(undefined, 5, alertRules.repeated_denials, now); // { state: 'firing', transition: 'fired', … }
 */
export function nextState(
  prev: RuleState | undefined,
  value: number,
  rule: AlertThresholds,
  now: Date,
): NextState {
  const current = prev ?? { state: 'clear' as const, since: now, belowSince: null };
  if (current.state === 'clear') {
    return value >= rule.threshold
      ? { state: 'firing', since: now, belowSince: null, transition: 'fired' }
      : { ...current, belowSince: null, transition: null };
  }
  if (value >= rule.clearBelow) return { ...current, belowSince: null, transition: null };
  const belowSince = current.belowSince ?? now;
  if (now.getTime() - belowSince.getTime() >= rule.clearAfterMs) {
    return { state: 'clear', since: now, belowSince: null, transition: 'cleared' };
  }
  return { ...current, belowSince, transition: null };
}
