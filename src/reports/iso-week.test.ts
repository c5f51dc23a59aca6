import { describe, expect, it } from 'vitest';
import { isoWeekOf, isoWeekRange } from './iso-week.js';

describe('isoWeekRange', () => {
  it('spans Monday to Sunday of the week', () => {
    expect(isoWeekRange('2026-W47')).toEqual({ start: '2026-11-16', end: '2026-11-22' });
  });

  it('starts week 1 in the previous year when 1 January is late in the week', () => {
    expect(isoWeekRange('2026-W01')).toEqual({ start: '2025-12-29', end: '2026-01-04' });
    expect(isoWeekRange('2021-W01')).toEqual({ start: '2021-01-04', end: '2021-01-10' });
  });

  it('knows which years have a week 53', () => {
    expect(isoWeekRange('2026-W53')).toEqual({ start: '2026-12-28', end: '2027-01-03' });
    expect(isoWeekRange('2025-W53')).toBeNull();
    expect(isoWeekRange('2026-W00')).toBeNull();
    expect(isoWeekRange('2026-47')).toBeNull();
  });
});

describe('isoWeekOf', () => {
  it('gives the week an instant falls in, in UTC', () => {
    expect(isoWeekOf(new Date('2026-11-16T00:00:00Z'))).toBe('2026-W47');
    expect(isoWeekOf(new Date('2026-11-22T23:59:59Z'))).toBe('2026-W47');
    expect(isoWeekOf(new Date('2026-11-23T00:00:00Z'))).toBe('2026-W48');
  });

  it('assigns days around New Year to the week holding their Thursday', () => {
    expect(isoWeekOf(new Date('2027-01-01T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeekOf(new Date('2025-12-29T12:00:00Z'))).toBe('2026-W01');
  });
});
