/** How the report writes numbers, shares, durations and instants: English, UTC, "—" for no data. */

const none = '—';
const integer = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const longDate = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

type Maybe<T> = T | null | undefined;

/** `48,213`; one decimal below 100 (`4.2`). */
export const formatNumber = (value: Maybe<number>): string =>
  value == null ? none : (Math.abs(value) < 100 ? decimal : integer).format(value);

/** A fraction as a percentage: `0.683` → `68.3 %`. */
export const formatPercent = (value: Maybe<number>): string =>
  value == null ? none : `${decimal.format(Math.round(value * 1000) / 10)} %`;

/** `4.2 min`, `1 h 12 min`, `45 h 19 min`. */
export function formatMinutes(value: Maybe<number>): string {
  if (value == null) return none;
  if (value < 60) return `${decimal.format(value)} min`;
  const total = Math.round(value);
  return `${integer.format(Math.floor(total / 60))} h ${total % 60} min`;
}

/** `42 s`, `3 min 5 s`. */
export function formatSeconds(value: Maybe<number>): string {
  if (value == null) return none;
  if (value < 60) return `${decimal.format(value)} s`;
  const total = Math.round(value);
  return `${integer.format(Math.floor(total / 60))} min ${total % 60} s`;
}

/** `Mon 16 Nov, 02:14 UTC`. */
export const formatDateTime = (value: Maybe<string>): string =>
  value == null ? none : `${dateTime.format(new Date(value)).replace(' at', ',')} UTC`;

/** `16 November 2026` (a `YYYY-MM-DD` day or an instant, in UTC). */
export const formatDate = (value: Maybe<string>): string =>
  value == null
    ? none
    : longDate.format(new Date(value.length === 10 ? `${value}T00:00:00Z` : value));
