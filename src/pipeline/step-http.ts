/** Step-http: the `fetch` a step gets — allowed hosts only, redirects re-checked, timed out, capped. */
import { WardenError } from '../errors.js';
import type { HttpClient } from '../sdk/index.js';

export interface StepHttpOptions {
  /** The tenant's `plugins.<name>.allowedHosts`: `host`, `host:port`, `*.domain`, `[::1]:port`. */
  allowedHosts: readonly string[];
  /** The step's abort signal (run cancelled, kill switch engaged, shutdown). */
  signal: AbortSignal;
  /** The plugin's name, so a refusal names the setting to change. @defaultValue '<name>' */
  plugin?: string;
  /** For the whole exchange: every redirect hop and the reading of the body. @defaultValue 10_000 */
  timeoutMs?: number;
  /** Largest response body a step may read, decoded. @defaultValue 5 MiB */
  maxResponseBytes?: number;
  /** The underlying fetch. @defaultValue globalThis.fetch */
  fetch?: typeof globalThis.fetch;
}

interface HostRule {
  wildcard: boolean;
  hostname: string;
  port: string | undefined;
}

const maxRedirects = 5;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);
const defaultPorts: Record<string, string> = { 'http:': '80', 'https:': '443' };
const bodyHeaders = ['content-type', 'content-length', 'content-encoding', 'content-language'];
const credentialHeaders = ['authorization', 'cookie', 'proxy-authorization'];

const withoutDot = (host: string) => (host.endsWith('.') ? host.slice(0, -1) : host);

/** Parses one `allowedHosts` entry into a rule, or returns why it can never match. */
function parseHostRule(entry: string): HostRule | string {
  const raw = entry.trim().toLowerCase();
  if (raw.includes('://')) return 'write the host alone, without a scheme (ingest.internal)';
  const wildcard = raw.startsWith('*.');
  const rest = wildcard ? raw.slice(2) : raw;
  if (rest === '' || /[/\\@?#%*\s]/.test(rest)) return 'expected host, host:port or *.domain';
  const bracket = rest.startsWith('[') ? rest.indexOf(']') + 1 : 0;
  if (bracket === 0 && rest.split(':').length > 2)
    return 'write IPv6 addresses in brackets: [::1]:8080';
  const colon = rest.indexOf(':', bracket);
  const host = colon === -1 ? rest : rest.slice(0, colon);
  const port = colon === -1 ? undefined : rest.slice(colon + 1);
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return 'a port is a number (host:8080)';
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return 'port out of range';
  let hostname: string;
  try {
    hostname = withoutDot(new URL(`http://${host}`).hostname);
  } catch {
    return 'not a valid host name (write IPv6 addresses in brackets: [::1]:8080)';
  }
  if (
    wildcard &&
    (hostname.startsWith('[') || !/[a-z]/.test(hostname) || !hostname.includes('.'))
  ) {
    return 'a wildcard needs a domain of two labels or more (*.example.com)';
  }
  return { wildcard, hostname, port: port === undefined ? undefined : String(Number(port)) };
}

/**
 * Why an `allowedHosts` entry can never match a URL, or undefined when it is usable.
 * @example
 * allowedHostProblem('https://ingest.internal'); // 'write the host alone, without a scheme …'
 * allowedHostProblem('*.svc.cluster.local:9090'); // undefined
 */
export function allowedHostProblem(entry: string): string | undefined {
  const rule = parseHostRule(entry);
  return typeof rule === 'string' ? rule : undefined;
}

function isAllowed(rules: readonly HostRule[], url: URL): boolean {
  const host = withoutDot(url.hostname);
  const port = url.port || defaultPorts[url.protocol];
  if (port === undefined) return false; // not http: or https:
  return rules.some(
    (r) =>
      (r.port === undefined || r.port === port) &&
      (r.wildcard ? host.endsWith(`.${r.hostname}`) : host === r.hostname),
  );
}

function refuse(url: URL, plugin: string, via?: URL): never {
  const where = via ? `A redirect from ${via.host} to ${url.host}` : `A request to ${url.host}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WardenError(
      'forbidden',
      `${where} was refused: only http: and https: URLs are allowed.`,
    );
  }
  const setting = `plugins.${plugin}.allowedHosts`;
  throw new WardenError(
    'forbidden',
    `${where} was refused: host ${url.host} is not allowed for this plugin. ` +
      `Fix: add "${url.host}" to ${setting} in this tenant's configuration.`,
    { details: { host: url.host, setting } },
  );
}

function toUrl(input: string | URL, base?: URL): URL {
  try {
    return new URL(input, base);
  } catch (cause) {
    throw new WardenError('bad_request', `"${String(input)}" is not an absolute URL.`, { cause });
  }
}

/** The request for the next hop, as fetch's own redirect handling would make it. */
function nextRequest(init: RequestInit, status: number, from: URL, to: URL): RequestInit {
  const headers = new Headers(init.headers);
  const method = (init.method ?? 'GET').toUpperCase();
  const toGet =
    (status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((status === 301 || status === 302) && method === 'POST');
  if (toGet) for (const name of bodyHeaders) headers.delete(name);
  else if (init.body instanceof ReadableStream) {
    throw new WardenError(
      'bad_request',
      `${from.href} redirected, but a streamed body cannot be resent.`,
    );
  }
  if (from.origin !== to.origin) for (const name of credentialHeaders) headers.delete(name);
  return toGet ? { ...init, headers, method: 'GET', body: null } : { ...init, headers };
}

function tooLarge(url: URL, limit: number): WardenError {
  return new WardenError(
    'payload_too_large',
    `The response from ${url.host} is larger than ${limit} bytes, the most a step may read.`,
  );
}

/** The response with a body that errors once more than `limit` bytes have been read. */
function capped(response: Response, url: URL, limit: number, redirected: boolean): Response {
  if (Number(response.headers.get('content-length')) > limit) {
    void response.body?.cancel();
    throw tooLarge(url, limit);
  }
  if (!response.body || nullBodyStatuses.has(response.status)) return response;
  let seen = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > limit) controller.error(tooLarge(url, limit));
      else controller.enqueue(chunk);
    },
  });
  const limited = new Response(response.body.pipeThrough(counter), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperties(limited, {
    url: { value: response.url },
    redirected: { value: redirected },
  });
  return limited;
}

/**
 * Creates the HTTP client of one step: refuses any host outside `allowedHosts` (a `forbidden`
 * WardenError naming the setting), follows at most 5 redirects and re-checks each, stops at the
 * caller's signal or the timeout, and errors the body once it exceeds `maxResponseBytes`.
 * @example
 * const http = createStepHttp({ allowedHosts: ['ingest.internal'], signal, plugin: 'http' });
 * const res = await http('https://ingest.internal/admin/restart', { method: 'POST' });
 */
export function createStepHttp(options: StepHttpOptions): HttpClient {
  const rules = options.allowedHosts.map(parseHostRule).filter((r) => typeof r !== 'string');
  const plugin = options.plugin ?? '<name>';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const limit = options.maxResponseBytes ?? 5 * 1024 * 1024;
  const fetchImpl = options.fetch ?? globalThis.fetch;

  return async (input, init = {}) => {
    let url = toUrl(input);
    if (!isAllowed(rules, url)) refuse(url, plugin);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signals = [options.signal, timeout, ...(init.signal ? [init.signal] : [])];
    const mode = init.redirect ?? 'follow';
    let request: RequestInit = { ...init, signal: AbortSignal.any(signals), redirect: 'manual' };
    try {
      for (let hop = 0; ; hop++) {
        const response = await fetchImpl(url, request);
        const location = response.headers.get('location');
        if (mode === 'manual' || location === null || !redirectStatuses.has(response.status)) {
          return capped(response, url, limit, hop > 0);
        }
        await response.body?.cancel();
        if (mode === 'error' || hop === maxRedirects) {
          const why =
            mode === 'error' ? 'redirect is set to "error"' : `${maxRedirects} hops is the most`;
          throw new WardenError('bad_request', `${url.href} redirected again and ${why}.`);
        }
        const next = toUrl(location, url);
        if (!isAllowed(rules, next)) refuse(next, plugin, url);
        if (url.protocol === 'https:' && next.protocol === 'http:') {
          throw new WardenError(
            'forbidden',
            `${url.href} redirected to plain http: (${next.href}).`,
          );
        }
        request = nextRequest(request, response.status, url, next);
        url = next;
      }
    } catch (error) {
      if (!timeout.aborted || options.signal.aborted) throw error;
      throw new Error(`${url.href} did not answer within ${timeoutMs} ms.`, { cause: error });
    }
  };
}
