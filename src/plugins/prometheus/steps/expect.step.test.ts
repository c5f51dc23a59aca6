import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakePrometheus, startFakePrometheus } from '../../../../test/fakes/prometheus.js';
import { testStepContext } from '../../../../test/fakes/step-context.js';
import { expectStep } from './expect.step.js';

describe('prometheus.expect', () => {
  let prom: FakePrometheus;
  const timers: NodeJS.Timeout[] = [];
  beforeAll(async () => {
    prom = await startFakePrometheus();
  });
  afterAll(() => prom.close());
  afterEach(() => {
    for (const t of timers.splice(0)) clearTimeout(t);
    prom.fail(null);
  });
  const ctx = () => testStepContext({ settings: { url: prom.url } });
  const parse = (input: Record<string, unknown>) => expectStep.input.parse(input);
  const later = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms));
  const requestsDuring = async <T>(fn: () => Promise<T>) => {
    const before = prom.requests.length;
    const result = await fn().catch((err: unknown) => err);
    return { result, requests: prom.requests.length - before };
  };

  it('succeeds at once when the value is already inside the bound', async () => {
    prom.setValue(12);
    const output = await expectStep.execute(ctx(), parse({ query: 'max(lag)', below: 30 }));
    expect(output).toMatchObject({ satisfied: true, value: 12 });
    expect(output.after_ms).toBeLessThan(1000);
  });

  it('keeps polling until the metric recovers within the window', async () => {
    prom.setValue(120);
    later(300, () => prom.setValue(8));
    const { result, requests } = await requestsDuring(() =>
      expectStep.execute(ctx(), parse({ query: 'max(lag)', below: 30, within: '5s', every: '1s' })),
    );
    expect(result).toMatchObject({ satisfied: true, value: 8 });
    expect((result as { after_ms: number }).after_ms).toBeGreaterThanOrEqual(900);
    expect(requests).toBe(2);
  });

  it('fails when time is up and names the last value and the bound', async () => {
    prom.setValue(42, { job: 'ingest' });
    const started = Date.now();
    const ctx1 = ctx();
    await expect(
      expectStep.execute(ctx1, parse({ query: 'max(lag)', below: 30, within: '1s', every: '1s' })),
    ).rejects.toThrow('max(lag) was not below 30 within 1s; last value: 42 {job="ingest"}');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(ctx1.logs.some((l) => l.message === 'prometheus.expect: not yet')).toBe(true);
  });

  it('checks exactly once when no window is given', async () => {
    prom.setValue(0.5);
    const { result, requests } = await requestsDuring(() =>
      expectStep.execute(ctx(), parse({ query: 'availability', above: 0.99 })),
    );
    expect((result as Error).message).toBe(
      'prometheus.expect: availability was not above 0.99; last value: 0.5',
    );
    expect(requests).toBe(1);
  });

  it('fails on every series only when one of several is outside, and says how many', async () => {
    prom.setSeries([
      { metric: { shard: '1' }, value: 3 },
      { metric: { shard: '2' }, value: 50 },
      { metric: { shard: '3' }, value: 40 },
    ]);
    await expect(expectStep.execute(ctx(), parse({ query: 'lag', below: 30 }))).rejects.toThrow(
      'last value: 50 {shard="2"} (2 of 3 series outside)',
    );
  });

  it('does not count a query that matches no series as recovered', async () => {
    prom.setSeries([]);
    await expect(expectStep.execute(ctx(), parse({ query: 'lag', below: 30 }))).rejects.toThrow(
      'last value: no samples (the query matched no series)',
    );
  });

  it('retries while Prometheus is unavailable and succeeds once it answers', async () => {
    prom.setValue(1);
    prom.fail({ status: 503, errorType: 'unavailable', error: 'TSDB not ready' });
    later(300, () => prom.fail(null));
    const output = await expectStep.execute(
      ctx(),
      parse({ query: 'lag', below: 30, within: '5s', every: '1s' }),
    );
    expect(output).toMatchObject({ satisfied: true, value: 1 });
  });

  it('stops at once on a query Prometheus cannot parse, even with time left', async () => {
    prom.fail({
      status: 400,
      errorType: 'bad_data',
      error: '1:4: parse error: unexpected end of input',
    });
    const { result, requests } = await requestsDuring(() =>
      expectStep.execute(ctx(), parse({ query: 'max(', below: 30, within: '1m', every: '1s' })),
    );
    expect((result as Error).message).toMatch(/rejected the query \(bad_data\)/);
    expect(requests).toBe(1);
  });

  it('stops waiting when the run is aborted', async () => {
    prom.setValue(100);
    const c = ctx();
    later(200, () => c.abort.abort(new Error('run cancelled')));
    const started = Date.now();
    const { result } = await requestsDuring(() =>
      expectStep.execute(c, parse({ query: 'lag', below: 30, within: '1m', every: '10s' })),
    );
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('simulates the query and the bound without sending any request', async () => {
    const { result, requests } = await requestsDuring(async () =>
      expectStep.simulate(ctx(), parse({ query: 'max(lag)', below: 30, within: '5m' })),
    );
    expect((result as { summary: string }).summary).toBe(
      `would check that max(lag) is below 30 (within 5m, every 10s) on Prometheus at ${prom.url}`,
    );
    expect(requests).toBe(0);
  });

  it('accepts durations and thresholds as playbooks write them', () => {
    expect(parse({ query: 'q', below: '30', within: '90s', every: '5s' })).toMatchObject({
      below: 30,
      within: 90_000,
      every: 5000,
    });
    expect(parse({ query: 'q', above: 1 })).toMatchObject({ within: 0, every: 10_000 });
  });

  it('refuses inputs without a bound, with crossed bounds or with bad durations', () => {
    const invalid = [
      { query: 'q' },
      { query: 'q', above: 30, below: 10 },
      { query: 'q', below: 30, within: '5 minutes' },
      { query: 'q', below: 30, within: '2d' },
      { query: 'q', below: 30, every: '0s' },
      { query: 'q', below: 'thirty' },
    ];
    for (const input of invalid)
      expect(expectStep.input.safeParse(input).success, JSON.stringify(input)).toBe(false);
  });

  it('declares a read that is idempotent and not reversible', () => {
    expect(expectStep).toMatchObject({ risk: 'read', idempotent: true, reversible: false });
  });
});
