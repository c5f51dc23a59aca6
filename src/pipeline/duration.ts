/** Duration: "90s", "15m", "1h", "7d" → milliseconds (the forms playbooks and config use). */
import { z } from 'zod';

const units = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * @example parseDuration('15m') // 900000
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text.trim());
  return m ? Number(m[1]) * units[m[2] as keyof typeof units] : undefined;
}

/** A zod field accepting "<n>s|m|h|d", parsed to milliseconds. */
export const duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, 'expected a duration such as 90s, 15m, 1h or 7d')
  .transform((s) => parseDuration(s) as number);
