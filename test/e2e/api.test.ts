import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateSigningKey } from '../../src/ledger/ed25519.js';
import { createLedger, type Ledger } from '../../src/ledger/ledger.js';
import type { Receipt } from '../../src/ledger/receipt.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { revokeToken } from '../../src/storage/tenants.js';
import { createTenant, createToken } from '../../src/tenancy/tenants.js';
import { buildApp } from '../helpers/app.js';
import { describeEngines } from '../helpers/database.js';

type App = ReturnType<typeof buildApp>;
interface ReceiptPage {
  receipts: Receipt[];
  nextCursor: string | null;
}
interface ErrorBody {
  error: { code: string; message: string };
}

const day = (n: number) => new Date(Date.UTC(2026, 2, n));
const logger = pino({ level: 'silent' });

function get(app: App, path: string, token?: string): Promise<Response> {
  return Promise.resolve(
    app.request(path, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } }),
  );
}

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body;
}

describeEngines('HTTP API', ({ db }) => {
  let ledger: Ledger;
  let app: App;
  /** The ledger's clock: receipts get this `at`, so time filters are deterministic. */
  let now = day(1);
  /** Token values by tenant and scope. */
  const tokens = { alpha: { read: '', ingest: '', admin: '' }, beta: { read: '' } };
  const alphaIds: string[] = [];
  const betaIds: string[] = [];

  beforeAll(async () => {
    ledger = await createLedger({
      knex: db().knex,
      signer: createSigner(generateSigningKey()),
      clock: () => now,
    });
    const deps = { knex: db().knex, ledger };
    // alpha: seq 1 tenant.created and seq 2-4 token.created on 1 March, then seq 5-12
    // tenant.updated on 2..9 March, one a day. beta: 3 receipts of its own.
    alphaIds.push((await createTenant(deps, { id: 'alpha', tier: 'pro' }, 'test')).payload.id);
    for (const scope of ['read', 'ingest', 'admin'] as const) {
      const t = await createToken(deps, { tenant: 'alpha', name: scope, scope, source: 'cli' });
      tokens.alpha[scope] = t.value;
      alphaIds.push(t.receipt.payload.id);
    }
    for (let n = 1; n <= 8; n++) {
      now = day(n + 1);
      alphaIds.push(
        (await ledger.append('alpha', { kind: 'tenant.updated', data: { n } })).payload.id,
      );
    }
    now = day(1);
    betaIds.push((await createTenant(deps, { id: 'beta', tier: 'free' }, 'test')).payload.id);
    const betaRead = await createToken(deps, {
      tenant: 'beta',
      name: 'read',
      scope: 'read',
      source: 'cli',
    });
    tokens.beta.read = betaRead.value;
    betaIds.push(betaRead.receipt.payload.id);
    betaIds.push(
      (await ledger.append('beta', { kind: 'tenant.updated', data: { n: 1 } })).payload.id,
    );
    await createTenant(deps, { id: 'gamma', tier: 'free' }, 'test');
    app = buildApp({ host: '127.0.0.1', db: db(), ledger, logger });
  });

  describe('health', () => {
    it('answers GET /healthz with 200 {status: ok}', async () => {
      const res = await get(app, '/healthz');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('answers GET /readyz with 200 when storage answers', async () => {
      const res = await get(app, '/readyz');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ready', checks: { storage: 'ok' } });
    });

    it('answers GET /readyz with 503 not_ready naming the failing probe, without its error', async () => {
      const failing = buildApp({
        host: '127.0.0.1',
        db: db(),
        ledger,
        logger,
        probes: {
          queue: async () => {
            throw new Error('connect ECONNREFUSED redis://:hunter2@10.0.0.5:6379');
          },
        },
      });
      const res = await get(failing, '/readyz');
      const body = await expectError(res, 503, 'not_ready');
      expect(body.error.message).toContain('queue');
      expect(body.error.message).not.toContain('storage');
      expect(JSON.stringify(body)).not.toMatch(/hunter2|ECONNREFUSED/);
    });
  });

  describe('authentication', () => {
    it('answers 401 with WWW-Authenticate when the Authorization header is missing', async () => {
      const res = await get(app, '/api/v1/receipts');
      const body = await expectError(res, 401, 'unauthenticated');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(body.error.message).toMatch(/Bearer/);
    });

    it('answers 401 when the Authorization header is not a bearer token', async () => {
      const res = await app.request('/api/v1/receipts', {
        headers: {
          Authorization: `Basic ${Buffer.from(`x:${tokens.alpha.read}`).toString('base64')}`,
        },
      });
      await expectError(res, 401, 'unauthenticated');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('answers 401 with WWW-Authenticate when the token is unknown', async () => {
      const res = await get(app, '/api/v1/receipts', `${tokens.alpha.read}x`);
      await expectError(res, 401, 'unauthenticated');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('answers 401 once a token is revoked', async () => {
      const t = await createToken(
        { knex: db().knex, ledger },
        { tenant: 'gamma', name: 'soon-revoked', scope: 'read', source: 'cli' },
      );
      expect((await get(app, '/api/v1/receipts', t.value)).status).toBe(200);
      await revokeToken(db().knex, 'gamma', t.id);
      const res = await get(app, '/api/v1/receipts', t.value);
      await expectError(res, 401, 'unauthenticated');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('answers 403 forbidden to an ingest token, with no stack or SQL in the body', async () => {
      for (const path of [
        '/api/v1/receipts',
        `/api/v1/receipts/${alphaIds[0]}`,
        '/api/v1/export',
      ]) {
        const res = await get(app, path, tokens.alpha.ingest);
        const body = await expectError(res, 403, 'forbidden');
        expect(res.headers.get('www-authenticate')).toBeNull();
        const text = JSON.stringify(body);
        expect(text).not.toMatch(/\bat .+:\d+:\d+|\.ts\b|node_modules/);
        expect(text).not.toMatch(/\b(select|insert|from|where)\b .*"|api_tokens|token_hash/i);
        expect(text).not.toContain(tokens.alpha.ingest);
      }
    });

    it('lets an admin token read receipts', async () => {
      const res = await get(app, '/api/v1/receipts', tokens.alpha.admin);
      expect(res.status).toBe(200);
    });

    it('accepts a loopbackOnly token only while the server is configured on loopback', async () => {
      const demo = await createToken(
        { knex: db().knex, ledger },
        { tenant: 'gamma', name: 'demo', scope: 'read', source: 'cli', loopbackOnly: true },
      );
      const exposed = buildApp({ host: '0.0.0.0', db: db(), ledger, logger });
      expect((await get(app, '/api/v1/receipts', demo.value)).status).toBe(200);
      await expectError(await get(exposed, '/api/v1/receipts', demo.value), 401, 'unauthenticated');
      // An ordinary token still works on the exposed server.
      expect((await get(exposed, '/api/v1/receipts', tokens.alpha.read)).status).toBe(200);
    });
  });

  describe('not found', () => {
    it('answers 404 not_found in the error shape for an unknown route', async () => {
      for (const path of ['/nope', '/api/v1/nope']) {
        const res = await get(app, path, tokens.alpha.read);
        const body = await expectError(res, 404, 'not_found');
        expect(body.error.message).toContain(path);
      }
    });

    it('answers 404 for an unknown receipt id', async () => {
      const res = await get(
        app,
        '/api/v1/receipts/00000000-0000-0000-0000-000000000000',
        tokens.alpha.read,
      );
      await expectError(res, 404, 'not_found');
    });
  });

  describe('tenant isolation', () => {
    it("answers 404 for another tenant's receipt id, in both directions", async () => {
      for (const id of betaIds) {
        await expectError(
          await get(app, `/api/v1/receipts/${id}`, tokens.alpha.read),
          404,
          'not_found',
        );
        const own = await get(app, `/api/v1/receipts/${id}`, tokens.beta.read);
        expect(own.status).toBe(200);
        expect(((await own.json()) as Receipt).payload.id).toBe(id);
      }
      const alphaFirst = `/api/v1/receipts/${alphaIds[0]}`;
      await expectError(await get(app, alphaFirst, tokens.beta.read), 404, 'not_found');
    });

    it("never lists another tenant's receipts", async () => {
      const alpha = (await (
        await get(app, '/api/v1/receipts', tokens.alpha.read)
      ).json()) as ReceiptPage;
      const beta = (await (
        await get(app, '/api/v1/receipts', tokens.beta.read)
      ).json()) as ReceiptPage;
      expect(alpha.receipts.map((r) => r.payload.id)).toEqual(alphaIds);
      expect(beta.receipts.map((r) => r.payload.id)).toEqual(betaIds);
      expect(alpha.receipts.every((r) => r.payload.tenant === 'alpha')).toBe(true);
      expect(beta.receipts.every((r) => r.payload.tenant === 'beta')).toBe(true);
    });

    it("never exports another tenant's receipts", async () => {
      const res = await get(app, '/api/v1/export', tokens.beta.read);
      expect(res.status).toBe(200);
      const bundle = (await res.json()) as { tenant: string; receipts: Receipt[] };
      expect(bundle.tenant).toBe('beta');
      expect(bundle.receipts.map((r) => r.payload.id)).toEqual(betaIds);
      expect(JSON.stringify(bundle)).not.toContain('"alpha"');
    });
  });

  describe('GET /api/v1/receipts', () => {
    it('answers 422 invalid for a bad limit, cursor or since', async () => {
      const cursorOf = (text: string) => Buffer.from(text).toString('base64url');
      for (const query of [
        'limit=0',
        'limit=abc',
        'limit=1001',
        'limit=2.5',
        'cursor=not-a-cursor',
        `cursor=${cursorOf('seq:abc')}`,
        `cursor=${cursorOf('seq:1; drop table receipts')}`,
        'since=yesterday',
        'since=2026-13-01T00:00:00Z',
        'until=soon',
      ]) {
        const res = await get(app, `/api/v1/receipts?${query}`, tokens.alpha.read);
        await expectError(res, 422, 'invalid');
      }
    });

    it('walks every receipt exactly once, in seq order, by following nextCursor', async () => {
      for (const limit of [4, 5, 12, 100]) {
        const seen: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
          const res = await get(app, `/api/v1/receipts?${query}`, tokens.alpha.read);
          expect(res.status).toBe(200);
          const page = (await res.json()) as ReceiptPage;
          expect(page.receipts.length).toBeLessThanOrEqual(limit);
          expect(page.receipts.length).toBeGreaterThan(0);
          seen.push(...page.receipts.map((r) => r.payload.seq));
          cursor = page.nextCursor;
          pages++;
        } while (cursor !== null && pages < 20);
        expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
        expect(pages).toBe(Math.ceil(12 / limit));
      }
    });

    it('filters by kind', async () => {
      const res = await get(app, '/api/v1/receipts?kind=token.created', tokens.alpha.read);
      const page = (await res.json()) as ReceiptPage;
      expect(page.receipts.map((r) => r.payload.seq)).toEqual([2, 3, 4]);
      expect(page.receipts.every((r) => r.payload.kind === 'token.created')).toBe(true);
      const none = await get(app, '/api/v1/receipts?kind=no.such.kind', tokens.alpha.read);
      expect(await none.json()).toEqual({ receipts: [], nextCursor: null });
    });

    it('filters by since (inclusive) and until (exclusive)', async () => {
      const since = day(3).toISOString();
      const until = day(5).toISOString();
      const res = await get(
        app,
        `/api/v1/receipts?since=${since}&until=${until}`,
        tokens.alpha.read,
      );
      const page = (await res.json()) as ReceiptPage;
      expect(page.receipts.map((r) => r.payload.at)).toEqual([since, day(4).toISOString()]);
      const later = await get(
        app,
        `/api/v1/receipts?since=${day(9).toISOString()}`,
        tokens.alpha.read,
      );
      expect(((await later.json()) as ReceiptPage).receipts.map((r) => r.payload.seq)).toEqual([
        12,
      ]);
    });

    it('returns one receipt by id with its signature', async () => {
      const res = await get(app, `/api/v1/receipts/${alphaIds[4]}`, tokens.alpha.read);
      expect(res.status).toBe(200);
      const receipt = (await res.json()) as Receipt;
      expect(receipt.payload).toMatchObject({ id: alphaIds[4], tenant: 'alpha', seq: 5 });
      expect(receipt.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(receipt.signature).toMatchObject({ alg: 'Ed25519', keyId: ledger.signer.keyId });
    });
  });

  describe('GET /api/v1/export', () => {
    it("returns a bundle of the caller's whole chain that verifyBundle accepts", async () => {
      const res = await get(app, '/api/v1/export', tokens.alpha.read);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toContain('warden-evidence-alpha.json');
      const bundle = (await res.json()) as { format: string; tenant: string; receipts: Receipt[] };
      expect(bundle.format).toBe('warden-evidence/v1');
      expect(bundle.tenant).toBe('alpha');
      expect(bundle.receipts.map((r) => r.payload.id)).toEqual(alphaIds);
      const report = verifyBundle(bundle);
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.ok).toBe(true);
    });

    it('exports a verifiable slice for since/until', async () => {
      const query = `since=${day(3).toISOString()}&until=${day(6).toISOString()}`;
      const res = await get(app, `/api/v1/export?${query}`, tokens.alpha.read);
      const bundle = (await res.json()) as { receipts: Receipt[] };
      expect(bundle.receipts.map((r) => r.payload.seq)).toEqual([6, 7, 8]);
      expect(verifyBundle(bundle).ok).toBe(true);
      const tampered = structuredClone(bundle);
      (tampered.receipts[1] as Receipt).payload.n = 99;
      expect(verifyBundle(tampered).ok).toBe(false);
    });

    it('answers 422 for a bad since', async () => {
      await expectError(
        await get(app, '/api/v1/export?since=last-week', tokens.alpha.read),
        422,
        'invalid',
      );
    });
  });

  describe('documentation', () => {
    it('serves an OpenAPI 3.1 document of the routes with a bearer security scheme', async () => {
      const res = await get(app, '/api/v1/openapi.json');
      expect(res.status).toBe(200);
      const doc = (await res.json()) as {
        openapi: string;
        paths: Record<string, Record<string, { security?: unknown[] }>>;
        components: { securitySchemes: Record<string, unknown> };
      };
      expect(doc.openapi).toMatch(/^3\.1\./);
      expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
      const paths = Object.keys(doc.paths).map((p) => p.replace(/^\/api\/v1/, ''));
      expect(paths).toEqual(expect.arrayContaining(['/receipts', '/receipts/{id}', '/export']));
      for (const path of ['/receipts', '/receipts/{id}', '/export']) {
        const op = (doc.paths[path] ?? doc.paths[`/api/v1${path}`])?.get;
        expect(op?.security).toEqual([{ bearer: [] }]);
      }
    });

    it('documents paths that resolve to the real /api/v1 routes', async () => {
      const doc = (await (await get(app, '/api/v1/openapi.json')).json()) as {
        servers?: Array<{ url: string }>;
        paths: Record<string, unknown>;
      };
      const base = doc.servers?.[0]?.url ?? '';
      const listed = Object.keys(doc.paths).map((p) => `${base.replace(/\/$/, '')}${p}`);
      expect(listed).toEqual(
        expect.arrayContaining(['/api/v1/receipts', '/api/v1/receipts/{id}', '/api/v1/export']),
      );
    });

    it('serves the API reference as HTML at /docs', async () => {
      const res = await get(app, '/docs');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toMatch(/<html/i);
      expect(html).toContain('/api/v1/openapi.json');
    });
  });

  describe('request ids', () => {
    it('puts X-Request-Id on every response, successes and errors alike', async () => {
      const responses = await Promise.all([
        get(app, '/healthz'),
        get(app, '/readyz'),
        get(app, '/docs'),
        get(app, '/api/v1/openapi.json'),
        get(app, '/api/v1/receipts', tokens.alpha.read),
        get(app, '/api/v1/receipts'),
        get(app, '/api/v1/receipts', tokens.alpha.ingest),
        get(app, '/api/v1/receipts?limit=0', tokens.alpha.read),
        get(app, '/nope'),
      ]);
      const ids = responses.map((r) => r.headers.get('x-request-id'));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 401, 403, 422, 404]);
      for (const id of ids) expect(id).toMatch(/^\S{8,}$/);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('echoes a caller-supplied X-Request-Id', async () => {
      const res = await app.request('/healthz', { headers: { 'X-Request-Id': 'trace-abc-123' } });
      expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    });
  });
});
