import { describe, expect, it } from 'vitest';
import { InterpolationError, interpolate } from './interpolate.js';

const context = {
  alert: {
    labels: { shard: '7', env: 'prod', evil: '{{ alert.labels.shard }}', cmd: '"; rm -rf /' },
  },
  event: { data: { count: 3, flags: [true, false], nested: { a: 1 } } },
};

describe('interpolate', () => {
  it('replaces a whole-string placeholder with the value, keeping its JSON type', () => {
    expect(
      interpolate({ n: '{{ event.data.count }}', o: '{{event.data.nested}}' }, context),
    ).toEqual({
      n: 3,
      o: { a: 1 },
    });
  });

  it('places text values inside longer strings', () => {
    expect(interpolate('shard-{{ alert.labels.shard }}-{{ event.data.count }}', context)).toBe(
      'shard-7-3',
    );
  });

  it('walks arrays and objects but leaves keys alone', () => {
    expect(interpolate({ '{{ x }}': ['{{ alert.labels.env }}', 1, null] }, context)).toEqual({
      '{{ x }}': ['prod', 1, null],
    });
  });

  it('inserts a value that looks like a template as inert data, once', () => {
    expect(interpolate('{{ alert.labels.evil }}', context)).toBe('{{ alert.labels.shard }}');
    expect(interpolate('x {{ alert.labels.cmd }}', context)).toBe('x "; rm -rf /');
  });

  it('refuses prototype lookups such as constructor and __proto__', () => {
    expect(() => interpolate('{{ alert.constructor }}', context)).toThrow(InterpolationError);
    expect(() => interpolate('{{ alert.labels.__proto__ }}', context)).toThrow(InterpolationError);
    expect(() => interpolate('{{ constructor }}', context)).toThrow(/names nothing/);
  });

  it('refuses code, helpers and malformed paths', () => {
    for (const bad of [
      '{{ alert.labels.shard | upper }}',
      '{{ a..b }}',
      '{{ a[0] }}',
      '{{ }}',
      '{{ process.exit() }}',
    ]) {
      expect(() => interpolate(bad, context), bad).toThrow(InterpolationError);
    }
  });

  it('refuses an object placed inside a longer string', () => {
    expect(() => interpolate('x{{ event.data.nested }}', context)).toThrow(/not text/);
  });

  it('indexes arrays by number', () => {
    expect(interpolate('{{ event.data.flags.1 }}', context)).toBe(false);
  });
});
