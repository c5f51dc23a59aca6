/** A fake Prometheus HTTP API on 127.0.0.1: `/api/v1/query` answers from settable series. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeSeries = { metric: Record<string, string>; value: number };

export type RecordedQuery = { method: string; path: string; query: string | null };

export type PrometheusFailure = { status: number; errorType: string; error: string };

export interface FakePrometheus {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedQuery[];
  /** Answers every query with one series carrying `value` (replaces all series). */
  setValue(value: number, metric?: Record<string, string>): void;
  setSeries(series: FakeSeries[]): void;
  /** Answers every query with this Prometheus error until called with null. */
  fail(failure: PrometheusFailure | null): void;
  close(): Promise<void>;
}

/**
 * Starts the fake. It does not evaluate PromQL: any query returns the current series, except a
 * number literal (a scalar, as Prometheus does) and `scalar(…)` (the first series as a scalar).
 * @example
 * const prom = await startFakePrometheus();
 * prom.setValue(42, { job: 'ingest' });
 * // settings: { url: prom.url }
 */
export async function startFakePrometheus(): Promise<FakePrometheus> {
  let series: FakeSeries[] = [];
  let failure: PrometheusFailure | null = null;
  const requests: RecordedQuery[] = [];

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = await readQuery(req, url);
    requests.push({ method: req.method ?? '', path: url.pathname, query });
    if (url.pathname !== '/api/v1/query' || (req.method !== 'GET' && req.method !== 'POST')) {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('404 page not found\n');
      return;
    }
    if (failure) return send(res, failure.status, { status: 'error', ...withoutStatus(failure) });
    if (!query?.trim()) {
      return send(res, 400, {
        status: 'error',
        errorType: 'bad_data',
        error:
          'invalid parameter "query": unknown position: parse error: no expression found in input',
      });
    }
    const now = Date.now() / 1000;
    const trimmed = query.trim();
    if (/^-?\d+(\.\d+)?$/.test(trimmed)) {
      return success(res, { resultType: 'scalar', result: [now, format(Number(trimmed))] });
    }
    if (trimmed.startsWith('scalar(')) {
      const first = series.length === 1 ? series[0] : undefined;
      return success(res, {
        resultType: 'scalar',
        result: [now, format(first?.value ?? Number.NaN)],
      });
    }
    const result = series.map((s) => ({ metric: s.metric, value: [now, format(s.value)] }));
    return success(res, { resultType: 'vector', result });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setValue(value, metric = {}) {
      series = [{ metric, value }];
    },
    setSeries(next) {
      series = next;
    },
    fail(next) {
      failure = next;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function readQuery(req: IncomingMessage, url: URL): Promise<string | null> {
  if (req.method !== 'POST') return url.searchParams.get('query');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  return body.get('query') ?? url.searchParams.get('query');
}

/** Prometheus writes sample values as strings: `NaN`, `+Inf`, `-Inf` or a decimal. */
function format(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function withoutStatus({ errorType, error }: PrometheusFailure) {
  return { errorType, error };
}

function success(res: ServerResponse, data: unknown): void {
  send(res, 200, { status: 'success', data });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
