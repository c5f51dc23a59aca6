/**
 * Trust Report delivery end to end: a report made for a tenant goes to an S3-compatible bucket
 * (s3rver, the real AWS SDK), a Standard Webhooks receiver (verified with `standardwebhooks`) that is
 * down for two attempts and then recovers — delivered once, every attempt receipted — and a secure
 * link that serves it, receipts each access, 404s when altered and 410s once expired. A target that
 * refuses for good falls back to the alternate. Another tenant sees none of it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hono } from 'hono';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { linkRoutes } from '../../src/delivery/link-route.js';
import { createOutbox, type Outbox } from '../../src/delivery/outbox.js';
import { createReportTargets } from '../../src/delivery/report-targets.js';
import { createErrorHandler } from '../../src/http/error-handler.js';
import { exportBundle } from '../../src/ledger/bundle.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { createPdfRenderer } from '../../src/reports/pdf.js';
import { makeTrustReport, type TrustReportDeps } from '../../src/reports/trust-report.js';
import { deliveriesOf } from '../../src/storage/reports.js';
import { createTenant, createToken } from '../../src/tenancy/tenants.js';
import { type FakeS3, startFakeS3 } from '../fakes/s3.js';
import { type FakeWebhookReceiver, startWebhookReceiver } from '../fakes/webhook-receiver.js';
import { buildApp } from '../helpers/app.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

const logger = pino({ level: 'silent' });
const week = '2026-W47';

describeEngines('report delivery', ({ db }) => {
  let s3: FakeS3;
  let receiver: FakeWebhookReceiver;
  let dir: string;
  let config: Config;
  let ledger: Ledger;
  let outbox: Outbox;
  let deps: TrustReportDeps;
  let now = new Date('2026-11-24T06:00:00Z');

  beforeAll(async () => {
    s3 = await startFakeS3(['reports']);
    receiver = await startWebhookReceiver();
    dir = await mkdtemp(join(tmpdir(), 'warden-report-delivery-'));
    const file = join(dir, 'warden.yaml');
    await writeFile(
      file,
      `tenants:
  - id: acme
    tier: enterprise
    reports:
      format: html
      deliver:
        - { type: bucket, url: s3://reports/weekly, endpoint: ${s3.endpoint}, forcePathStyle: true, accessKeyId: ${s3.accessKeyId}, secretAccessKey: env:S3_SECRET }
        - { type: webhook, url: ${receiver.url}, secret: env:WITNESS_WHSEC }
        - { type: link }
      alternate: { type: bucket, url: ${pathToFileURL(dir).href} }
      linkTtl: 1h
  - id: globex
    tier: enterprise
    reports:
      format: html
      deliver:
        - { type: webhook, url: ${receiver.url}, secret: env:WITNESS_WHSEC }
      alternate: { type: bucket, url: ${pathToFileURL(dir).href} }
`,
    );
    config = loadConfig({
      configFile: file,
      env: { S3_SECRET: s3.secretAccessKey, WITNESS_WHSEC: receiver.secret },
      dataDir: join(dir, 'data'),
    });
    ledger = (await createTestLedger(db())).ledger;
    for (const t of ['acme', 'globex']) {
      await createTenant({ knex: db().knex, ledger }, { id: t, tier: 'enterprise' }, 'test');
    }
    const targets = createReportTargets({
      knex: db().knex,
      tenants: config.tenants,
      publicUrl: 'http://warden.test',
    });
    outbox = createOutbox({
      knex: db().knex,
      ledger,
      logger,
      target: targets.target,
      hasAlternate: targets.hasAlternate,
      backoffMs: 10,
    });
    deps = {
      knex: db().knex,
      ledger,
      logger,
      tenants: config.tenants,
      publicUrl: 'http://warden.test',
      outbox,
      targets,
      pdf: () => Promise.reject(new Error('HTML reports only in this test')),
    };
  });

  afterAll(async () => {
    await outbox?.stop();
    await receiver?.close();
    await s3?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Works the outbox until nothing is pending (retries are 10 ms apart here). */
  async function settle(tenant: string, reportId: string) {
    for (let i = 0; i < 100; i++) {
      await outbox.work();
      const rows = await deliveriesOf(db().knex, tenant, reportId);
      if (rows.every((d) => d.status !== 'pending')) return rows;
      await new Promise((r) => setTimeout(r, 15));
    }
    throw new Error('deliveries did not settle');
  }

  const receiptsOf = async (tenant: string, kind: string) =>
    (await db().knex('receipts').where({ tenant_id: tenant, kind }).orderBy('seq')).map(
      (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>,
    );

  it('delivers to S3, to a webhook that recovers, and as a secure link — each attempt receipted', async () => {
    receiver.behave({ status: 503 }, 2);
    const before = receiver.attempts.length;
    const made = await makeTrustReport(deps, { tenant: 'acme', week, deliver: true, now });
    if (!made) throw new Error('no report');
    const sha = createHash('sha256').update(made.body).digest('hex');
    expect(made.report).toMatchObject({ format: 'html', sha256: sha, week });
    const generated = (await receiptsOf('acme', 'report.generated')).at(-1);
    expect(generated).toMatchObject({ report: made.report.id, sha256: sha, week });

    const rows = await settle('acme', made.report.id);
    expect(rows.map((d) => [d.target, d.status])).toEqual([
      ['deliver[0]', 'delivered'],
      ['deliver[1]', 'delivered'],
    ]);
    const object = await s3.getObject('reports', `weekly/acme/acme-trust-report-${week}.html`);
    expect(
      createHash('sha256')
        .update(object?.body ?? '')
        .digest('hex'),
    ).toBe(sha);

    // The webhook: two refusals and one success, all under the same webhook-id; processed once.
    const attempts = receiver.attempts.slice(before);
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 204]);
    expect(new Set(attempts.map((a) => a.headers['webhook-id'])).size).toBe(1);
    const event = receiver.processed.get(attempts[0]?.headers['webhook-id'] as string) as {
      type: string;
      data: { content: string; sha256: string };
    };
    expect(event.type).toBe('report.ready');
    expect(Buffer.from(event.data.content, 'base64').equals(made.body)).toBe(true);

    const tried = (await receiptsOf('acme', 'delivery.attempted')).filter(
      (r) => r.report === made.report.id,
    );
    expect(tried.map((r) => [r.target, r.outcome])).toEqual(
      expect.arrayContaining([
        ['deliver[0]', 'delivered'],
        ['deliver[1]', 'retrying'],
        ['deliver[1]', 'retrying'],
        ['deliver[1]', 'delivered'],
      ]),
    );
    expect(tried).toHaveLength(4);
    const finished = (await receiptsOf('acme', 'delivery.finished')).filter(
      (r) => r.report === made.report.id,
    );
    expect(finished.map((r) => [r.target, r.outcome]).sort()).toEqual([
      ['deliver[0]', 'delivered'],
      ['deliver[1]', 'delivered'],
      ['link', 'delivered'],
    ]);
    for (const r of tried) expect(r.latencyMs).toEqual(expect.any(Number));
    expect(verifyBundle(await exportBundle(db().knex, 'acme')).ok).toBe(true);

    // The secure link serves the same bytes, receipts the access; altered → 404; expired → 410.
    expect(made.links).toHaveLength(1);
    const path = new URL(made.links[0]?.url as string).pathname;
    // As createApp mounts it, with the one error handler, but on this test's clock.
    const app = new Hono().onError(createErrorHandler(logger));
    app.route('/', linkRoutes({ knex: db().knex, ledger, now: () => now }));
    const res = await app.request(path);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(made.body)).toBe(true);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const accessed = (await receiptsOf('acme', 'report.accessed')).at(-1);
    expect(accessed).toMatchObject({ report: made.report.id, sha256: sha });
    expect(JSON.stringify(accessed)).not.toContain(path.split('.').at(-1) as string);

    const token = path.slice('/r/'.length);
    const [id, exp, sig] = token.split('.') as [string, string, string];
    const flipped = `${sig.slice(0, 5)}${sig[5] === 'A' ? 'B' : 'A'}${sig.slice(6)}`;
    expect((await app.request(`/r/${id}.${exp}.${flipped}`)).status).toBe(404);
    expect((await app.request(`/r/${id}.${Number(exp) + 3600}.${sig}`)).status).toBe(404);
    expect((await app.request('/r/nonsense')).status).toBe(404);
    now = new Date(now.getTime() + 2 * 3_600_000);
    const gone = await app.request(path);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe('gone');
  });

  it('falls back to the alternate target when a target refuses for good', async () => {
    receiver.behave({ status: 404 }, 1);
    const made = await makeTrustReport(deps, { tenant: 'globex', week, deliver: true, now });
    if (!made) throw new Error('no report');
    const rows = await settle('globex', made.report.id);
    expect(rows.map((d) => [d.target, d.status, d.attempts])).toEqual([
      ['deliver[0]', 'failed', 1],
      ['alternate', 'delivered', 1],
    ]);
    expect(rows[1]?.alternate_for).toBe(rows[0]?.id);
    const file = join(dir, 'globex', `globex-trust-report-${week}.html`);
    expect((await readFile(file)).equals(made.body)).toBe(true);
    const finished = (await receiptsOf('globex', 'delivery.finished')).map((r) => [
      r.target,
      r.outcome,
    ]);
    expect(finished).toEqual([
      ['deliver[0]', 'failed'],
      ['alternate', 'delivered'],
    ]);
  });

  it('makes the HTML and says how to get PDFs when Chromium is missing', async () => {
    const pdf = createPdfRenderer({ chromiumPath: '/nonexistent/chromium' });
    const made = await makeTrustReport(
      { ...deps, pdf: async () => pdf },
      { tenant: 'globex', week: '2026-W45', format: 'pdf', now },
    );
    expect(made?.report.format).toBe('html');
    expect(made?.report.content_type).toBe('text/html; charset=utf-8');
    expect(made?.warning).toMatch(
      /No executable Chromium at \/nonexistent\/chromium.*apt-get install chromium/,
    );
    expect(made?.body.toString('utf8')).toMatch(/^<!DOCTYPE html>/i);
  });

  it("keeps each tenant's reports to itself over the API", async () => {
    const token = async (tenant: string, scope: 'read' | 'admin') =>
      (
        await createToken(
          { knex: db().knex, ledger },
          { tenant, name: `${scope}-${tenant}`, scope, source: 'cli' },
        )
      ).value;
    const app = buildApp({
      db: db(),
      ledger,
      reports: (req) => makeTrustReport(deps, req),
    });
    const call = (path: string, t: string, init: RequestInit = {}) =>
      app.request(path, { ...init, headers: { authorization: `Bearer ${t}`, ...init.headers } });
    const acmeAdmin = await token('acme', 'admin');
    const globexRead = await token('globex', 'read');
    const made = await call('/api/v1/reports', acmeAdmin, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ week: '2026-W46' }),
    });
    expect(made.status).toBe(201);
    const { report } = (await made.json()) as { report: { id: string; sha256: string } };
    const mine = await call(`/api/v1/reports/${report.id}/content`, acmeAdmin);
    expect(
      createHash('sha256')
        .update(Buffer.from(await mine.arrayBuffer()))
        .digest('hex'),
    ).toBe(report.sha256);
    expect((await call(`/api/v1/reports/${report.id}`, globexRead)).status).toBe(404);
    expect((await call(`/api/v1/reports/${report.id}/content`, globexRead)).status).toBe(404);
    const listed = (await (await call('/api/v1/reports', globexRead)).json()) as {
      reports: Array<{ id: string }>;
    };
    expect(listed.reports.some((r) => r.id === report.id)).toBe(false);
    const bad = await call('/api/v1/reports', acmeAdmin, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ week: '2026-W99' }),
    });
    expect(bad.status).toBe(422);
    const readOnly = await call('/api/v1/reports', globexRead, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ week: '2026-W46' }),
    });
    expect(readOnly.status).toBe(403);
  });
});
