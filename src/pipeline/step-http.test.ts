import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WardenError } from '../errors.js';
import { allowedHostProblem, createStepHttp, type StepHttpOptions } from './step-http.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local server: `/redirect?to=…&status=…`, `/loop`, `/bytes?n=…[&chunked]`, `/hang`, else echo. */
async function startServer() {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://local');
      seen.push({
        method: req.method ?? '',
        path: url.pathname,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const q = url.searchParams;
      if (url.pathname === '/redirect') {
        res.writeHead(Number(q.get('status') ?? 302), { location: q.get('to') ?? '/' });
        res.end();
      } else if (url.pathname === '/loop') {
        res.writeHead(302, { location: '/loop' }).end();
      } else if (url.pathname === '/bytes') {
        const n = Number(q.get('n'));
        if (q.has('chunked')) {
          res.writeHead(200);
          for (let sent = 0; sent < n; sent += 1000)
            res.write('x'.repeat(Math.min(1000, n - sent)));
          res.end();
        } else res.writeHead(200, { 'content-length': n }).end('x'.repeat(n));
      } else if (url.pathname === '/hang') {
        // never answers
      } else
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${url.pathname}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

let a: Awaited<ReturnType<typeof startServer>>;
let b: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  a = await startServer();
  b = await startServer();
});
afterAll(() => {
  a.close();
  b.close();
});

function client(options: Partial<StepHttpOptions> = {}) {
  return createStepHttp({
    allowedHosts: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`],
    signal: new AbortController().signal,
    plugin: 'http',
    ...options,
  });
}

async function failure(pending: Promise<unknown>): Promise<Error> {
  const outcome = await pending.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error(`expected a rejection, got ${outcome}`);
  return outcome;
}

/** A fetch that records the URLs it is asked for and answers 200 without any network. */
function recordingFetch() {
  const urls: string[] = [];
  const fetch = async (input: string | URL | Request) => {
    urls.push(String(input));
    return new Response('ok');
  };
  return { urls, fetch: fetch as typeof globalThis.fetch };
}

describe('createStepHttp', () => {
  it('sends the request and returns the answer when the host and port are allowed', async () => {
    const res = await client()(`${a.origin}/hello`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('PUT /hello');
    expect(a.seen.at(-1)).toMatchObject({ method: 'PUT', path: '/hello', body: 'x' });
  });

  it('refuses a host outside the list before sending anything, naming the setting to change', async () => {
    const before = a.seen.length;
    const err = await failure(client()(`http://localhost:${a.port}/x`));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).code).toBe('forbidden');
    expect(err.message).toContain(`localhost:${a.port}`);
    expect(err.message).toContain('plugins.http.allowedHosts');
    expect(a.seen.length).toBe(before);
  });

  it('refuses an allowed host on another port when the entry names a port', async () => {
    const http = client({ allowedHosts: [`127.0.0.1:${a.port}`] });
    const err = await failure(http(`${b.origin}/x`));
    expect((err as WardenError).code).toBe('forbidden');
    expect(b.seen.length).toBe(0);
  });

  it('allows any port when the entry names none', async () => {
    const res = await client({ allowedHosts: ['127.0.0.1'] })(`${b.origin}/any`);
    expect(await res.text()).toBe('GET /any');
  });

  it('matches the default port of the scheme when the entry names it', async () => {
    const { urls, fetch } = recordingFetch();
    const http = client({ allowedHosts: ['api.example.com:443'], fetch });
    await http('https://api.example.com/v1');
    await expect(http('http://api.example.com/v1')).rejects.toThrow('not allowed');
    expect(urls).toEqual(['https://api.example.com/v1']);
  });

  it('matches a wildcard entry against subdomains only, never the bare domain or a lookalike', async () => {
    const { urls, fetch } = recordingFetch();
    const http = client({ allowedHosts: ['*.example.com'], fetch });
    await http('https://a.example.com/');
    await http('https://A.B.Example.COM./');
    for (const url of [
      'https://example.com/',
      'https://badexample.com/',
      'https://example.com.evil.io/',
    ]) {
      await expect(http(url)).rejects.toThrow('not allowed');
    }
    expect(urls).toEqual(['https://a.example.com/', 'https://a.b.example.com./']);
  });

  it('matches IPv6 entries written in brackets', async () => {
    const { urls, fetch } = recordingFetch();
    const http = client({ allowedHosts: ['[::1]:8080'], fetch });
    await http('http://[::1]:8080/x');
    await expect(http('http://[::1]:8081/x')).rejects.toThrow('not allowed');
    expect(urls).toEqual(['http://[::1]:8080/x']);
  });

  it('refuses schemes other than http and https even for an allowed host', async () => {
    const { urls, fetch } = recordingFetch();
    const http = client({ allowedHosts: ['example.com'], fetch });
    for (const url of [
      'ftp://example.com/x',
      'file://example.com/etc/passwd',
      'ws://example.com/',
    ]) {
      const err = await failure(http(url));
      expect((err as WardenError).code).toBe('forbidden');
    }
    expect(urls).toEqual([]);
  });

  it('rejects a relative or malformed URL with bad_request', async () => {
    const err = await failure(client()('/relative'));
    expect((err as WardenError).code).toBe('bad_request');
  });

  it('follows a redirect to an allowed host and reports the final URL', async () => {
    const to = encodeURIComponent(`${b.origin}/landed`);
    const res = await client()(`${a.origin}/redirect?to=${to}`);
    expect(await res.text()).toBe('GET /landed');
    expect(res.redirected).toBe(true);
    expect(res.url).toBe(`${b.origin}/landed`);
  });

  it('refuses a redirect to a host outside the list without contacting it', async () => {
    const http = client({ allowedHosts: [`127.0.0.1:${a.port}`] });
    const before = b.seen.length;
    const to = encodeURIComponent(`${b.origin}/secret`);
    const err = await failure(http(`${a.origin}/redirect?to=${to}`));
    expect((err as WardenError).code).toBe('forbidden');
    expect(err.message).toContain(`redirect from 127.0.0.1:${a.port} to 127.0.0.1:${b.port}`);
    expect(b.seen.length).toBe(before);
  });

  it('gives up after 5 redirects', async () => {
    const before = a.seen.length;
    const err = await failure(client()(`${a.origin}/loop`));
    expect((err as WardenError).code).toBe('bad_request');
    expect(a.seen.length - before).toBe(6);
  });

  it('turns a POST into a body-less GET on 303 and keeps method and body on 307', async () => {
    const http = client();
    const init = {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    };
    await http(`${a.origin}/redirect?status=303&to=/after-303`, init);
    expect(a.seen.at(-1)).toMatchObject({ method: 'GET', path: '/after-303', body: '' });
    expect(a.seen.at(-1)?.headers['content-type']).toBeUndefined();
    await http(`${a.origin}/redirect?status=307&to=/after-307`, init);
    expect(a.seen.at(-1)).toMatchObject({ method: 'POST', path: '/after-307', body: '{"a":1}' });
  });

  it('drops credentials when a redirect leaves the origin', async () => {
    const headers = { authorization: 'Bearer s3cret', 'x-trace': 't1' };
    await client()(`${a.origin}/redirect?to=/same`, { headers });
    expect(a.seen.at(-1)?.headers.authorization).toBe('Bearer s3cret');
    await client()(`${a.origin}/redirect?to=${encodeURIComponent(`${b.origin}/other`)}`, {
      headers,
    });
    expect(b.seen.at(-1)?.headers.authorization).toBeUndefined();
    expect(b.seen.at(-1)?.headers['x-trace']).toBe('t1');
  });

  it('refuses a redirect from https to plain http', async () => {
    const urls: string[] = [];
    const fetch = (async (input: string | URL) => {
      urls.push(String(input));
      return new Response(null, { status: 302, headers: { location: 'http://api.example.com/' } });
    }) as typeof globalThis.fetch;
    const err = await failure(
      client({ allowedHosts: ['api.example.com'], fetch })('https://api.example.com/'),
    );
    expect((err as WardenError).code).toBe('forbidden');
    expect(urls).toEqual(['https://api.example.com/']);
  });

  it('returns the redirect itself when the caller asks for manual redirects', async () => {
    const res = await client()(`${a.origin}/redirect?to=/x`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/x');
  });

  it('times out with a message naming the URL when the server does not answer', async () => {
    const started = Date.now();
    const err = await failure(client({ timeoutMs: 150 })(`${a.origin}/hang`));
    expect(err.message).toBe(`${a.origin}/hang did not answer within 150 ms.`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("stops with the caller's reason when the step's signal aborts", async () => {
    const controller = new AbortController();
    const pending = client({ signal: controller.signal })(`${a.origin}/hang`);
    setTimeout(() => controller.abort(new Error('run cancelled')), 50);
    const err = await failure(pending);
    expect(err.message).toBe('run cancelled');
  });

  it('refuses a response whose declared length exceeds the cap', async () => {
    const err = await failure(client({ maxResponseBytes: 100 })(`${a.origin}/bytes?n=101`));
    expect((err as WardenError).code).toBe('payload_too_large');
  });

  it('errors the body once a chunked response exceeds the cap', async () => {
    const http = client({ maxResponseBytes: 5000 });
    const res = await http(`${a.origin}/bytes?n=20000&chunked`);
    const err = await failure(res.text());
    expect((err as WardenError).code).toBe('payload_too_large');
    expect(await (await http(`${a.origin}/bytes?n=5000&chunked`)).text()).toHaveLength(5000);
  });
});

describe('allowedHostProblem', () => {
  it('accepts hosts, host:port, wildcards and bracketed IPv6', () => {
    for (const entry of [
      'ingest.internal',
      'a.b:8080',
      '*.svc.cluster.local',
      '[::1]:9090',
      '10.0.0.1',
    ]) {
      expect(allowedHostProblem(entry)).toBeUndefined();
    }
  });

  it('explains entries that could never match', () => {
    expect(allowedHostProblem('https://ingest.internal')).toContain('without a scheme');
    expect(allowedHostProblem('ingest.internal/admin')).toContain('expected host');
    expect(allowedHostProblem('*')).toContain('expected host');
    expect(allowedHostProblem('*.com')).toContain('two labels');
    expect(allowedHostProblem('*.10.0.0.1')).toContain('two labels');
    expect(allowedHostProblem('host:http')).toContain('port');
    expect(allowedHostProblem('host:70000')).toContain('port');
    expect(allowedHostProblem('::1')).toContain('brackets');
  });
});
