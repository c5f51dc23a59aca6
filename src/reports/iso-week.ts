/** ISO 8601 weeks ('2026-W47'): the Monday–Sunday (UTC) range a weekly Trust Report covers. */

const isoWeekPattern = /^(\d{4})-W(\d{2})$/;
const dayMs = 86_400_000;

export interface IsoWeekRange {
  /** Monday, `YYYY-MM-DD` (UTC). */
  start: string;
  /** Sunday, `YYYY-MM-DD` (UTC), inclusive. */
  end: string;
}

const toDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Monday of ISO week 1: the week holding the year's first Thursday (hence 4 January). */
function weekOneMonday(year: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7; // Monday = 0
  return jan4 - weekday * dayMs;
}

/** The number of ISO weeks in a year (52 or 53). */
const weeksIn = (year: number): number =>
  Math.round((weekOneMonday(year + 1) - weekOneMonday(year)) / (7 * dayMs));

/**
 * The dates an ISO week spans, or `null` when the string is not a week of its year.
 * @example
 * isoWeekRange('2026-W47'); // { start: '2026-11-16', end: '2026-11-22' }
 */
export function isoWeekRange(iso: string): IsoWeekRange | null {
  const match = isoWeekPattern.exec(iso);
  if (!match) return null;
  const year = Number(match[1]);
  const week = Number(match[2]);
  if (week < 1 || week > weeksIn(year)) return null;
  const monday = weekOneMonday(year) + (week - 1) * 7 * dayMs;
  return { start: toDay(monday), end: toDay(monday + 6 * dayMs) };
}

/**
 * The ISO week holding an instant (UTC).
 * @example
 * isoWeekOf(new Date('2026-11-22T23:59:59Z')); // '2026-W47'
 */
export function isoWeekOf(date: Date): string {
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  const thursday = day + (3 - ((new Date(day).getUTCDay() + 6) % 7)) * dayMs;
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - weekOneMonday(year)) / (7 * dayMs));
  return `${year}-W${String(week).padStart(2, '0')}`;
}
