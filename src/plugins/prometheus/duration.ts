/** Durations for Prometheus steps: "90s", "5m", "1h" as zod fields parsed to milliseconds. */
import { z } from '../../sdk/index.js';

const units = { s: 1000, m: 60_000, h: 3_600_000 } as const;
const pattern = /^(\d{1,6})(s|m|h)$/;

/**
 * A zod field accepting `<n>s`, `<n>m` or `<n>h` (at most `max` milliseconds), output in ms.
 * @example
 * durationMs({ max: 86_400_000 }).parse('5m') // 300000
 */
export function durationMs(options: { max: number; min?: number }) {
  return z
    .string()
    .regex(pattern, 'expected a duration such as 90s, 5m or 1h')
    .transform((text) => {
      const [, amount, unit] = pattern.exec(text) as RegExpExecArray;
      return Number(amount) * units[unit as keyof typeof units];
    })
    .refine((ms) => ms >= (options.min ?? 0) && ms <= options.max, {
      message: `expected between ${formatDuration(options.min ?? 0)} and ${formatDuration(options.max)}`,
    });
}

/**
 * Milliseconds back to the shortest exact form.
 * @example
 * formatDuration(90_000) // '90s'
 */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % units.h === 0) return `${ms / units.h}h`;
  if (ms !== 0 && ms % units.m === 0) return `${ms / units.m}m`;
  return `${ms / units.s}s`;
}
