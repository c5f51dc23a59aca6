/**
 * Warden API client for the demo: JSON over HTTP with a bearer token, as any client of the public
 * interface (CONTRACT.md) would call it. A non-2xx answer becomes a WardenError carrying the
 * server's own message, so the demo's narration says what went wrong.
 */
import { WardenError } from '../errors.js';

export interface DemoTokens {
  admin: string;
  read: string;
  ingest: string;
}

export interface WardenApi {
  url: string;
  get<T>(path: string, token?: string): Promise<T>;
  post<T>(path: string, body: unknown, token?: string): Promise<T>;
  /** POST without throwing: the status and the parsed body. */
  send(path: string, body: unknown, token: string): Promise<{ status: number; body: unknown }>;
}

const timeoutMs = 120_000;

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function failure(method: string, path: string, status: number, body: unknown): WardenError {
  const message =
    (body as { error?: { message?: string } } | null)?.error?.message ??
    (typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body)?.slice(0, 300));
  return new WardenError(
    status === 404 ? 'not_found' : status >= 500 ? 'not_ready' : 'invalid',
    `${method} ${path} answered ${status}: ${message}`,
  );
}

export function createWardenApi(url: string, tokens: DemoTokens): WardenApi {
  const base = url.replace(/\/$/, '');
  async function call(method: string, path: string, token: string, body?: unknown) {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new WardenError(
        'not_ready',
        `${method} ${base}${path} failed: ${(err as Error).message}. Is Warden running there?`,
      );
    }
    return { status: res.status, body: await parse(res) };
  }
  return {
    url: base,
    async get<T>(path: string, token = tokens.read) {
      const { status, body } = await call('GET', path, token);
      if (status < 200 || status > 299) throw failure('GET', path, status, body);
      return body as T;
    },
    async post<T>(path: string, payload: unknown, token = tokens.admin) {
      const { status, body } = await call('POST', path, token, payload);
      if (status < 200 || status > 299) throw failure('POST', path, status, body);
      return body as T;
    },
    send: (path, payload, token) => call('POST', path, token, payload),
  };
}
