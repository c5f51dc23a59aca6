import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePrometheus, startFakePrometheus } from '../../../test/fakes/prometheus.js';
import { testStepContext } from '../../../test/fakes/step-context.js';
import {
  createPrometheusClient,
  PrometheusError,
  parseQueryResponse,
  parseValue,
} from './client.js';
import { prometheusSettings, readSettings } from './settings.js';

const ok = (data: unknown) => JSON.stringify({ status: 'success', data });

describe('parseQueryResponse', () => {
  it('reads an instant vector into samples with labels and numbers', () => {
    const body = ok({
      resultType: 'vector',
      result: [
        { metric: { job: 'ingest', shard: '1' }, value: [1_700_000_000.5, '12.5'] },
        { metric: { job: 'ingest', shard: '2' }, value: [1_700_000_000.5, '7'] },
      ],
    });
    expect(parseQueryResponse(200, body)).toEqual({
      resultType: 'vector',
      samples: [
        { metric: { job: 'ingest', shard: '1' }, value: 12.5 },
        { metric: { job: 'ingest', shard: '2' }, value: 7 },
      ],
      warnings: [],
    });
  });

  it('reads a scalar as one unlabelled sample', () => {
    const result = parseQueryResponse(200, ok({ resultType: 'scalar', result: [1, '3'] }));
    expect(result.samples).toEqual([{ metric: {}, value: 3 }]);
    expect(result.resultType).toBe('scalar');
  });

  it('keeps the warnings Prometheus attaches to a result', () => {
    const body = JSON.stringify({
      status: 'success',
      data: { resultType: 'vector', result: [] },
      warnings: ['PromQL info: metric might not be a counter'],
    });
    expect(parseQueryResponse(200, body).warnings).toEqual([
      'PromQL info: metric might not be a counter',
    ]);
  });

  it('throws a non-retryable error naming the problem when the query is rejected', () => {
    const body = JSON.stringify({
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "query": 1:5: parse error: unexpected end of input',
    });
    expect(() => parseQueryResponse(400, body)).toThrow(
      /rejected the query \(bad_data\): invalid parameter "query": 1:5: parse error/,
    );
    try {
      parseQueryResponse(400, body);
    } catch (err) {
      expect((err as PrometheusError).retryable).toBe(false);
    }
  });

  it('marks server-side timeouts and unavailability as retryable', () => {
    const body = JSON.stringify({
      status: 'error',
      errorType: 'unavailable',
      error: 'shutting down',
    });
    expect(() => parseQueryResponse(503, body)).toThrow(PrometheusError);
    try {
      parseQueryResponse(503, body);
    } catch (err) {
      expect((err as PrometheusError).retryable).toBe(true);
    }
  });

  it('refuses a range vector and says how to make it instant', () => {
    const body = ok({ resultType: 'matrix', result: [{ metric: {}, values: [[1, '1']] }] });
    expect(() => parseQueryResponse(200, body)).toThrow(/returned a matrix.*max_over_time/);
  });

  it('reports a body that is not Prometheus JSON, such as a proxy error page', () => {
    expect(() => parseQueryResponse(502, '<html>Bad Gateway</html>')).toThrow(
      /HTTP 502 with a body that is not JSON: <html>Bad Gateway/,
    );
    expect(() => parseQueryResponse(200, '{"status":"success","data":{}}')).toThrow(
      /unexpected body/,
    );
  });
});

describe('parseValue', () => {
  it('reads the special values Prometheus writes as text', () => {
    expect(parseValue('NaN')).toBeNaN();
    expect(parseValue('+Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(parseValue('-Inf')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseValue('1e+06')).toBe(1_000_000);
  });

  it('throws when a value is not a number', () => {
    expect(() => parseValue('twelve')).toThrow(/not a number: twelve/);
    expect(() => parseValue('')).toThrow(/not a number/);
  });
});

describe('createPrometheusClient', () => {
  let prom: FakePrometheus;
  beforeAll(async () => {
    prom = await startFakePrometheus();
  });
  afterAll(() => prom.close());

  it('posts the query as a form to /api/v1/query and parses the answer', async () => {
    prom.setValue(4.25, { job: 'ingest' });
    const ctx = testStepContext();
    const client = createPrometheusClient(ctx.http, { url: `${prom.url}/` }, ctx.signal);
    const before = prom.requests.length;
    const result = await client.query('max(receipt_lag_seconds) by (job)');
    expect(result.samples).toEqual([{ metric: { job: 'ingest' }, value: 4.25 }]);
    expect(prom.requests.slice(before)).toEqual([
      { method: 'POST', path: '/api/v1/query', query: 'max(receipt_lag_seconds) by (job)' },
    ]);
  });

  it('keeps a path prefix in the configured URL', async () => {
    const ctx = testStepContext();
    const client = createPrometheusClient(ctx.http, { url: `${prom.url}/prom` }, ctx.signal);
    // The fake serves no prefix, so the request lands on a 404 page: the path was kept.
    await expect(client.query('up')).rejects.toThrow(/HTTP 404 .*404 page not found/);
    expect(prom.requests.at(-1)?.path).toBe('/prom/api/v1/query');
  });

  it('marks an unreachable server as retryable', async () => {
    const ctx = testStepContext();
    const client = createPrometheusClient(ctx.http, { url: 'http://127.0.0.1:1' }, ctx.signal);
    const err = await client.query('up').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as PrometheusError).retryable).toBe(true);
    expect((err as Error).message).toMatch(/127\.0\.0\.1:1 could not be queried/);
  });

  it('marks a timeout as retryable, also when the step HTTP client wraps it', async () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const wrapped = async () => {
      throw new Error('http://127.0.0.1:9/api/v1/query did not answer within 10000 ms.', {
        cause: timeout,
      });
    };
    const client = createPrometheusClient(
      wrapped,
      { url: 'http://127.0.0.1:9' },
      new AbortController().signal,
    );
    const err = await client.query('up').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'PrometheusError', retryable: true });
    expect((err as Error).message).toMatch(/did not answer within 10000 ms/);
  });

  it('does not retry a host the tenant did not allow', async () => {
    const ctx = testStepContext();
    const client = createPrometheusClient(
      ctx.http,
      { url: 'http://prometheus.internal' },
      ctx.signal,
    );
    const err = await client.query('up').catch((e: unknown) => e);
    expect((err as PrometheusError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/prometheus\.internal is not allowed/);
  });
});

describe('prometheusSettings', () => {
  it('accepts an http(s) URL and refuses other schemes and unknown keys', () => {
    expect(prometheusSettings.parse({ url: 'http://prometheus.internal:9090' })).toEqual({
      url: 'http://prometheus.internal:9090',
    });
    expect(prometheusSettings.safeParse({ url: 'file:///etc/passwd' }).success).toBe(false);
    expect(prometheusSettings.safeParse({ url: 'http://p:9090', ulr: 'x' }).success).toBe(false);
  });

  it('names the plugin when a step context carries invalid settings', () => {
    expect(() => readSettings({})).toThrow(/^prometheus settings are invalid: .*url/s);
  });
});
