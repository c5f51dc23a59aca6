import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePrometheus, startFakePrometheus } from '../../../../test/fakes/prometheus.js';
import { testStepContext } from '../../../../test/fakes/step-context.js';
import { query } from './query.step.js';

describe('prometheus.query', () => {
  let prom: FakePrometheus;
  beforeAll(async () => {
    prom = await startFakePrometheus();
  });
  afterAll(() => prom.close());
  const ctx = () => testStepContext({ settings: { url: prom.url } });

  it('returns the samples of an instant vector with numeric values', async () => {
    prom.setSeries([
      { metric: { job: 'ingest', shard: '1' }, value: 12 },
      { metric: { job: 'ingest', shard: '2' }, value: 0.5 },
    ]);
    const output = await query.execute(ctx(), query.input.parse({ query: 'receipt_lag_seconds' }));
    expect(output).toEqual({
      resultType: 'vector',
      total: 2,
      samples: [
        { metric: { job: 'ingest', shard: '1' }, value: 12 },
        { metric: { job: 'ingest', shard: '2' }, value: 0.5 },
      ],
    });
  });

  it('returns a scalar as one sample without labels', async () => {
    const output = await query.execute(ctx(), { query: '42' });
    expect(output).toEqual({
      resultType: 'scalar',
      total: 1,
      samples: [{ metric: {}, value: 42 }],
    });
  });

  it('spells NaN and infinities as Prometheus does so the output stays JSON', async () => {
    prom.setSeries([
      { metric: { q: 'a' }, value: Number.NaN },
      { metric: { q: 'b' }, value: Number.POSITIVE_INFINITY },
    ]);
    const output = await query.execute(ctx(), { query: 'ratio' });
    expect(output.samples.map((s) => s.value)).toEqual(['NaN', '+Inf']);
    expect(() => JSON.parse(JSON.stringify(output))).not.toThrow();
  });

  it('returns at most 1000 samples and the total count', async () => {
    prom.setSeries(
      Array.from({ length: 1001 }, (_, i) => ({ metric: { i: String(i) }, value: i })),
    );
    const output = await query.execute(ctx(), { query: 'up' });
    expect(output.total).toBe(1001);
    expect(output.samples).toHaveLength(1000);
  });

  it('surfaces the Prometheus error message when the query is rejected', async () => {
    prom.fail({
      status: 400,
      errorType: 'bad_data',
      error: '1:4: parse error: unclosed left parenthesis',
    });
    try {
      await expect(query.execute(ctx(), { query: 'sum(' })).rejects.toThrow(
        'Prometheus rejected the query (bad_data): 1:4: parse error: unclosed left parenthesis',
      );
    } finally {
      prom.fail(null);
    }
  });

  it('refuses an empty query, one over 4000 characters and unknown fields', () => {
    expect(query.input.safeParse({ query: '  ' }).success).toBe(false);
    expect(query.input.safeParse({ query: 'a'.repeat(4001) }).success).toBe(false);
    expect(query.input.safeParse({ query: 'up', qeury: 'x' }).success).toBe(false);
  });

  it('simulates without sending any request', async () => {
    const before = prom.requests.length;
    const plan = await query.simulate(ctx(), { query: 'up{job="ingest"}' });
    expect(plan.summary).toBe(`would query Prometheus at ${prom.url}: up{job="ingest"}`);
    expect(prom.requests.length).toBe(before);
  });

  it('declares a read with no targets', () => {
    expect(query.risk).toBe('read');
    expect(query.targets({ query: 'up' })).toEqual([]);
  });
});
