/** Prometheus HTTP API client: instant queries (`/api/v1/query`) through the step's restricted fetch. */
import { type HttpClient, z } from '../../sdk/index.js';
import type { PrometheusSettings } from './settings.js';

/** One series at the evaluation time; `value` may be NaN or ±Infinity as Prometheus allows. */
export type Sample = { metric: Record<string, string>; value: number };

export type QueryResult = {
  resultType: 'vector' | 'scalar';
  samples: Sample[];
  warnings: string[];
};

/** A failed query; `retryable` tells a poller whether asking again could succeed. */
export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.retryable = retryable;
  }
}

export interface PrometheusClient {
  query(promql: string): Promise<QueryResult>;
}

const requestTimeoutMs = 30_000;
const retryableErrorTypes = new Set(['timeout', 'canceled', 'internal', 'unavailable']);

const pair = z.tuple([z.number(), z.string()]);
const responseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({
        resultType: z.literal('vector'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: pair })),
      }),
      z.object({ resultType: z.literal('scalar'), result: pair }),
      z.object({ resultType: z.enum(['matrix', 'string']) }),
    ]),
    warnings: z.array(z.string()).optional(),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

/**
 * A client for one tenant's Prometheus; every request carries `signal` and a 30 s timeout.
 * @example
 * const prom = createPrometheusClient(ctx.http, readSettings(ctx.settings), ctx.signal);
 * const { samples } = await prom.query('max(receipt_lag_seconds)');
 */
export function createPrometheusClient(
  http: HttpClient,
  settings: PrometheusSettings,
  signal: AbortSignal,
): PrometheusClient {
  const base = settings.url.endsWith('/') ? settings.url : `${settings.url}/`;
  const endpoint = new URL('api/v1/query', base);
  return {
    async query(promql) {
      let status: number;
      let text: string;
      try {
        // POST with a form body: PromQL of any length, never in a proxy's URL log.
        const response = await http(endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ query: promql }).toString(),
          signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]),
        });
        status = response.status;
        text = await response.text();
      } catch (err) {
        if (signal.aborted) throw err;
        throw new PrometheusError(
          `Prometheus at ${endpoint.origin} could not be queried: ${(err as Error)?.message ?? err}`,
          isTransient(err),
          { cause: err },
        );
      }
      return parseQueryResponse(status, text);
    },
  };
}

/** Network failures and timeouts (also when wrapped, as the step HTTP client does) may pass. */
function isTransient(err: unknown): boolean {
  const e = err as { name?: unknown; cause?: { name?: unknown } } | null;
  return (
    err instanceof TypeError || e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError'
  );
}

/**
 * Reads an `/api/v1/query` answer: vectors and scalars become samples, anything else throws.
 * @example
 * parseQueryResponse(200, '{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}')
 * // { resultType: 'scalar', samples: [{ metric: {}, value: 2 }], warnings: [] }
 */
export function parseQueryResponse(status: number, text: string): QueryResult {
  const transient = status >= 500 || status === 429;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PrometheusError(
      `Prometheus answered HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`,
      transient,
    );
  }
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) {
    throw new PrometheusError(
      `Prometheus answered HTTP ${status} with an unexpected body: ${text.slice(0, 200)}`,
      transient,
    );
  }
  const body = parsed.data;
  if (body.status === 'error') {
    throw new PrometheusError(
      `Prometheus rejected the query (${body.errorType}): ${body.error}`,
      transient || retryableErrorTypes.has(body.errorType),
    );
  }
  const warnings = body.warnings ?? [];
  const { data } = body;
  if (data.resultType === 'vector') {
    const samples = data.result.map((s) => ({ metric: s.metric, value: parseValue(s.value[1]) }));
    return { resultType: 'vector', samples, warnings };
  }
  if (data.resultType === 'scalar') {
    return {
      resultType: 'scalar',
      samples: [{ metric: {}, value: parseValue(data.result[1]) }],
      warnings,
    };
  }
  throw new PrometheusError(
    `the query returned a ${data.resultType}; an instant vector or scalar is needed ` +
      '(wrap a range selector such as [5m] in a function like max_over_time)',
    false,
  );
}

/**
 * Prometheus sample text to a number: decimals, `NaN`, `+Inf`, `-Inf`.
 * @example
 * parseValue('+Inf') // Infinity
 */
export function parseValue(text: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) {
    throw new PrometheusError(
      `Prometheus returned a sample value that is not a number: ${text}`,
      false,
    );
  }
  return value;
}

/**
 * A sample value as JSON can carry it: finite numbers as numbers, the rest as Prometheus spells them.
 * @example
 * jsonValue(Number.NaN) // 'NaN'
 */
export function jsonValue(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}
