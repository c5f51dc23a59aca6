/**
 * Time-window: the dashboard's 24 h / 7 d / 30 d selector as a half-open UTC range `[from, to)` cut
 * into equal buckets — whole hours or whole UTC days, the last one holding the current hour or day.
 */

export const windowNames = ['24h', '7d', '30d'] as const;
export type WindowName = (typeof windowNames)[number];

export interface TimeWindow {
  name: WindowName;
  label: string;
  /** ISO 8601 instants. */
  from: string;
  to: string;
  bucketSeconds: number;
  buckets: number;
  /** The start of each bucket (ISO 8601), oldest first. */
  starts: string[];
}

const hour = 3_600_000;
const day = 24 * hour;

const shapes: Record<WindowName, { label: string; size: number; buckets: number }> = {
  '24h': { label: 'Last 24 hours', size: hour, buckets: 24 },
  '7d': { label: 'Last 7 days', size: day, buckets: 7 },
  '30d': { label: 'Last 30 days', size: day, buckets: 30 },
};

/** `7d` unless the query names another window. */
export function parseWindowName(value: string | undefined): WindowName {
  return windowNames.find((w) => w === value) ?? '7d';
}

/**
 * @example
 * timeWindow('24h', new Date('2026-03-02T10:15:00Z')).from // '2026-03-01T11:00:00.000Z'
 */
export function timeWindow(name: WindowName, now: Date): TimeWindow {
  const { label, size, buckets } = shapes[name];
  const to = Math.ceil((now.getTime() + 1) / size) * size;
  const from = to - size * buckets;
  return {
    name,
    label,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    bucketSeconds: size / 1000,
    buckets,
    starts: Array.from({ length: buckets }, (_, i) => new Date(from + i * size).toISOString()),
  };
}
