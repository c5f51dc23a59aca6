import { describe, expect, it } from 'vitest';
import { InterpolationError, interpolate } from '../../pipeline/interpolate.js';
import { escapePromqlString, promqlEscapes } from './promql.js';

describe('PromQL escaping of interpolated values', () => {
  it('escapes backslash, quotes and line breaks for a quoted string literal', () => {
    expect(escapePromqlString('ingest-3')).toBe('ingest-3');
    expect(escapePromqlString('3"} or vector(1) #')).toBe('3\\"} or vector(1) #');
    expect(escapePromqlString("it's")).toBe("it\\'s");
    expect(escapePromqlString('a\\b')).toBe('a\\\\b');
    expect(escapePromqlString('a\nb\r')).toBe('a\\nb\\r');
  });

  it('refuses a backtick (raw strings have no escapes)', () => {
    expect(() => escapePromqlString('a`b')).toThrow(/backtick/);
  });

  it('keeps a label inside its string: the query around it cannot change', () => {
    const context = { alert: { labels: { shard: '3"} or vector(1) #' } } };
    const out = interpolate(
      { query: 'max(receipt_lag_seconds{shard="{{ alert.labels.shard }}"})', below: 30 },
      context,
      promqlEscapes,
    );
    expect(out).toEqual({
      query: 'max(receipt_lag_seconds{shard="3\\"} or vector(1) #"})',
      below: 30,
    });
  });

  it('escapes only the named fields, and never a whole-value placeholder (data, not text)', () => {
    const context = { alert: { labels: { v: 'a"b' } } };
    expect(
      interpolate(
        { query: 'up{x="{{ alert.labels.v }}"}', note: 'x "{{ alert.labels.v }}"' },
        context,
        promqlEscapes,
      ),
    ).toEqual({ query: 'up{x="a\\"b"}', note: 'x "a"b"' });
    expect(interpolate({ query: '{{ alert.labels.v }}' }, context, promqlEscapes)).toEqual({
      query: 'a"b',
    });
  });

  it('turns a refused value into an InterpolationError naming the placeholder', () => {
    expect(() =>
      interpolate(
        { query: 'up{x="{{ alert.labels.v }}"}' },
        { alert: { labels: { v: '`' } } },
        promqlEscapes,
      ),
    ).toThrow(InterpolationError);
  });
});
