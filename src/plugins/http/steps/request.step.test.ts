import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStepHttp } from '../../../pipeline/step-http.js';
import type { StepContext } from '../../../sdk/index.js';
import { request } from './request.step.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const seen: Seen[] = [];
/** `/status/<code>` answers that code, `/text?n=…&c=…` n copies of c as text, else JSON echo. */
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://local');
    const body = Buffer.concat(chunks).toString();
    seen.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body });
    const status = /^\/status\/(\d{3})$/.exec(url.pathname)?.[1];
    if (status) {
      res.writeHead(Number(status), { 'content-type': 'application/json' });
      res.end('{"error":"shard busy"}');
    } else if (url.pathname === '/text') {
      const text = (url.searchParams.get('c') ?? 'x').repeat(Number(url.searchParams.get('n')));
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    } else if (url.pathname === '/big-json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pad: 'x'.repeat(70_000) }));
    } else {
      res.writeHead(200, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ method: req.method, path: url.pathname, body }));
    }
  });
});

let origin = '';
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

function context(): StepContext {
  const signal = new AbortController().signal;
  const allowedHosts = [new URL(origin).host];
  return {
    tenant: 'acme',
    http: createStepHttp({ allowedHosts, signal, plugin: 'http' }),
    settings: {},
    secrets: {},
    logger: { info: () => {}, warn: () => {} },
    signal,
    idempotencyKey: 'acme:run-1:restart',
  };
}

const run = (raw: Record<string, unknown>) => request.execute(context(), request.input.parse(raw));

describe('http.request', () => {
  it('sends a JSON POST with the idempotency key by default', async () => {
    const out = await run({ url: `${origin}/admin/restart`, body: { shard: '3' } });
    expect(out).toEqual({
      status: 200,
      body: { method: 'POST', path: '/admin/restart', body: '{"shard":"3"}' },
      truncated: false,
    });
    const last = seen.at(-1);
    expect(last?.headers['content-type']).toBe('application/json');
    expect(last?.headers['idempotency-key']).toBe('acme:run-1:restart');
  });

  it('sends the method and headers it is given, and no body when there is none', async () => {
    await run({ method: 'DELETE', url: `${origin}/cache`, headers: { 'X-Reason': 'alert 42' } });
    const last = seen.at(-1);
    expect(last).toMatchObject({ method: 'DELETE', path: '/cache', body: '' });
    expect(last?.headers['x-reason']).toBe('alert 42');
    expect(last?.headers['content-type']).toBeUndefined();
  });

  it('returns text as text and cuts it at 64 KiB without splitting a character', async () => {
    const short = await run({ method: 'GET', url: `${origin}/text?n=3&c=ok` });
    expect(short).toEqual({ status: 200, body: 'okokok', truncated: false });
    const long = await run({ method: 'GET', url: `${origin}/text?n=30000&c=€` });
    expect(long.truncated).toBe(true);
    expect(long.body).toBe('€'.repeat(21845)); // 3 bytes each: 65,535 of 65,536 bytes
  });

  it('keeps an oversized JSON answer as truncated text rather than parsing part of it', async () => {
    const out = await run({ method: 'GET', url: `${origin}/big-json` });
    expect(out.truncated).toBe(true);
    expect(typeof out.body).toBe('string');
  });

  it('throws naming the status when the answer is not 2xx', async () => {
    await expect(run({ url: `${origin}/status/503` })).rejects.toThrow(
      `POST ${origin}/status/503 answered 503, expected 2xx: {"error":"shard busy"}`,
    );
  });

  it('accepts exactly the statuses listed in expectStatus', async () => {
    const out = await run({ method: 'GET', url: `${origin}/status/404`, expectStatus: [404] });
    expect(out.status).toBe(404);
    await expect(
      run({ method: 'GET', url: `${origin}/status/200`, expectStatus: [201] }),
    ).rejects.toThrow('answered 200, expected 201');
  });

  it('refuses a host outside plugins.http.allowedHosts before any request', async () => {
    const before = seen.length;
    const port = new URL(origin).port;
    await expect(run({ url: `http://localhost:${port}/admin/restart` })).rejects.toThrow(
      'plugins.http.allowedHosts',
    );
    expect(seen.length).toBe(before);
  });

  it('describes the request in simulation without touching the network', async () => {
    const before = seen.length;
    const input = request.input.parse({ url: `${origin}/admin/restart?x=1`, body: { shard: 3 } });
    const plan = await request.simulate(
      { tenant: 'acme', settings: {}, logger: context().logger },
      input,
    );
    expect(plan).toEqual({
      summary: `POST ${origin}/admin/restart?x=1`,
      effects: [{ method: 'POST', url: `${origin}/admin/restart?x=1`, body: { shard: 3 } }],
    });
    expect(request.targets(input)).toEqual([`${origin}/admin/restart`]);
    expect(request.cost?.(input)).toBe(1);
    expect(seen.length).toBe(before);
  });
});

describe('http.request input', () => {
  const valid = { url: 'https://ingest.internal/admin/restart' };
  const rejects = (over: Record<string, unknown>) =>
    expect(request.input.safeParse({ ...valid, ...over }).success).toBe(false);

  it('accepts a minimal input and defaults the method to POST', () => {
    expect(request.input.parse(valid)).toEqual({ ...valid, method: 'POST' });
  });

  it('rejects URLs that are not http(s), relative, or carry credentials', () => {
    rejects({ url: 'file:///etc/passwd' });
    rejects({ url: '/admin/restart' });
    rejects({ url: 'https://user:pw@ingest.internal/' });
  });

  it('rejects URLs a value could walk out of, alter or overlong, and keeps the rest', () => {
    for (const path of ['../../etc/passwd', '%2e%2e/%2E%2e/etc', 'a/./b', 'a\\..\\b', '..']) {
      rejects({ url: `https://ingest.internal/admin/${path}` });
    }
    rejects({ url: 'https://ingest.internal/admin/x\r\nX-Injected: 1' });
    rejects({ url: 'https://ingest.internal/admin/a\u0000b' });
    rejects({ url: `https://ingest.internal/admin/${'x'.repeat(8200)}` });
    for (const url of [
      'https://ingest.internal/admin/...',
      'https://ingest.internal/admin/.well-known/x',
      'https://ingest.internal/admin/restart?path=../../x',
      'https://ingest.internal/admin/restart#..',
    ]) {
      expect(request.input.safeParse({ ...valid, url }).success, url).toBe(true);
    }
  });

  it('rejects header injection, invalid names and headers Warden sets', () => {
    rejects({ headers: { 'X-A': 'ok\r\nX-Injected: 1' } });
    rejects({ headers: { 'Bad Name': 'v' } });
    rejects({ headers: { 'Idempotency-Key': 'mine' } });
    rejects({ headers: { Host: 'elsewhere' } });
    rejects({ headers: { 'X-Name': 'invoice\u202Egnp.exe' } });
    expect(request.input.safeParse({ ...valid, headers: { 'X-Name': 'café' } }).success).toBe(true);
    expect(request.input.safeParse({ ...valid, headers: { 'X-Trace': 'a=1' } }).success).toBe(true);
  });

  it('rejects unknown methods, a GET with a body, unknown keys and odd statuses', () => {
    rejects({ method: 'CONNECT' });
    rejects({ method: 'GET', body: { a: 1 } });
    rejects({ expectedStatus: [200] });
    rejects({ expectStatus: [42] });
    rejects({ body: { f: () => 1 } });
  });
});
