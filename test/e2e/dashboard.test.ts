/**
 * The dashboard, end to end. Tenant acme runs real playbooks through the guarded engine (two
 * succeed, one is denied by its budget, one fails and is auto-disabled, one waits for approval),
 * bravo runs one; acme's receipts are anchored. Over `app.request()`: cookie flags, CSRF refusals,
 * revoked tokens, no external URL or script on any page. In headless Chromium on a real port: a read
 * token sees the seeded figures and a run with its proofs, then signs out; an admin token approves
 * the pending approval and the run proceeds; bravo never sees acme; a bad token is refused; the
 * operator sees both tenants and moves the global kill switch. Each page is screenshotted.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import pino from 'pino';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAnchoring } from '../../src/ledger/anchor.js';
import { importBaseline } from '../../src/observability/baseline.js';
import { dashboardRoutes } from '../../src/observability/dashboard/routes.js';
import { createInternalAlerts } from '../../src/observability/internal-alerts.js';
import { formatMinutes } from '../../src/reports/format.js';
import { createToken } from '../../src/tenancy/tenants.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { chromiumUnderTest } from '../helpers/chromium.js';
import { describeEngines } from '../helpers/database.js';
import { operatorToken, startGuarded } from '../helpers/guarded.js';

const A = 'acme';
const B = 'bravo';
const chromium = chromiumUnderTest();
const artifacts = 'test-artifacts';

const playbook = (name: string, alertname: string, spec: string, step: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${alertname} } }
${spec}
  steps:
    - { id: act, uses: ${step} }
`;

const acmePlaybooks = {
  'acme-restart': playbook(
    'acme-restart',
    'AcmeIngestLag',
    '  manualMinutes: 30',
    'probe.touch, with: { label: "restart-{{ alert.labels.n }}", targets: [ingest-1] }',
  ),
  'acme-budget': playbook(
    'acme-budget',
    'AcmeDiskFull',
    '  manualMinutes: 10\n  budgets: { actionsPerHour: 1 }',
    'probe.touch, with: { label: "disk-{{ alert.labels.n }}", targets: [node-1] }',
  ),
  'acme-flaky': playbook(
    'acme-flaky',
    'AcmeFlaky',
    '  autoDisable: { consecutiveFailures: 1 }',
    'probe.touch, with: { label: "flaky", fail: "yes" }',
  ),
  'acme-failover': playbook(
    'acme-failover',
    'AcmeReplicaLag',
    '  manualMinutes: 45',
    'probe.destroy, with: { label: "failover", targets: [db-1] }',
  ),
};

const bravoPlaybooks = {
  'bravo-scale': playbook(
    'bravo-scale',
    'BravoLatency',
    '  manualMinutes: 15',
    'probe.touch, with: { label: "scale", targets: [api-1] }',
  ),
};

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

/** The cookies a response sets, as `name=value` for a Cookie header, and their full lines. */
function setCookies(res: Response) {
  const lines = res.headers.getSetCookie();
  const pairs = new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.split(';')[0] ?? '']));
  return { lines, pairs };
}

const csrfOf = (html: string) => html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '';

describeEngines('dashboard', ({ db, engine }) => {
  const probe = createProbe();
  let g: Awaited<ReturnType<typeof startGuarded>>;
  let app: Hono;
  let server: ServerType;
  let base = '';
  let browser: Browser | undefined;
  const runs = {
    restart: [] as string[],
    budget: [] as string[],
    flaky: '',
    failover: '',
    bravo: '',
  };
  let disabledReceipt = '';
  let checkpointSize = 0;
  const consoleErrors: string[] = [];
  const token = (tenant: string, who: 'read' | 'admin') => g.tokens.get(tenant)?.[who] ?? '';
  const knex = () => db().knex;

  beforeAll(async () => {
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      tenants: [
        { id: A, playbooks: acmePlaybooks },
        { id: B, playbooks: bravoPlaybooks },
      ],
    });
    const fire = async (tenant: string, alertname: string, n: string, ago: number) => {
      const ids = await g.fire(tenant, { alertname, n }, { startsAt: minutesAgo(ago) });
      await g.idle();
      return ids;
    };
    runs.restart.push(...(await fire(A, 'AcmeIngestLag', '0', 20)));
    runs.restart.push(...(await fire(A, 'AcmeIngestLag', '1', 12)));
    runs.budget.push(...(await fire(A, 'AcmeDiskFull', '1', 6)));
    runs.budget.push(...(await fire(A, 'AcmeDiskFull', '2', 5)));
    [runs.flaky = ''] = await fire(A, 'AcmeFlaky', '1', 4);
    [runs.failover = ''] = await fire(A, 'AcmeReplicaLag', '1', 3);
    [runs.bravo = ''] = await fire(B, 'BravoLatency', '1', 2);
    disabledReceipt = (await g.receipts(A, 'playbook.disabled'))[0]?.id ?? '';
    // acme's time to mitigate before automation: 60 and 120 minutes.
    await importBaseline(
      { knex: knex(), ledger: g.ledger },
      {
        tenant: A,
        fileName: 'incidents.csv',
        bytes: Buffer.from(
          'alertname,started_at,mitigated_at\n' +
            'AcmeIngestLag,2026-01-05T10:00:00Z,2026-01-05T11:00:00Z\n' +
            'AcmeIngestLag,2026-01-06T10:00:00Z,2026-01-06T12:00:00Z\n',
        ),
      },
    );
    const anchoring = createAnchoring({
      knex: knex(),
      signer: g.ledger.signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async (t) => t === A,
      logger: pino({ level: 'silent' }),
    });
    checkpointSize = (await anchoring.anchor(A))?.size ?? 0;

    const root = new Hono();
    root.route(
      '/',
      dashboardRoutes({
        knex: knex(),
        ledger: g.ledger,
        queue: g.queue,
        operatorToken,
        serverOnLoopback: true,
      }),
    );
    root.route('/', g.app);
    app = root;
    server = serve({ fetch: root.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (chromium) {
      const args = ['--disable-gpu', '--disable-dev-shm-usage'];
      if (process.getuid?.() === 0) args.push('--no-sandbox');
      browser = await puppeteer.launch({ executablePath: chromium, headless: true, args });
      mkdirSync(artifacts, { recursive: true });
    }
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await g?.close();
  });

  it('seeds the scenario the dashboard is checked against', async () => {
    const status = async (id: string) => (await g.run(A, id)).status;
    expect(await Promise.all(runs.restart.map(status))).toEqual(['succeeded', 'succeeded']);
    expect(await Promise.all(runs.budget.map(status))).toEqual(['succeeded', 'denied']);
    expect(await status(runs.flaky)).toBe('failed');
    expect(await status(runs.failover)).toBe('awaiting_approval');
    expect((await g.run(B, runs.bravo)).status).toBe('succeeded');
    expect(disabledReceipt).not.toBe('');
    expect(checkpointSize).toBeGreaterThan(0);
  });

  // --- over app.request(): cookies, CSRF, what a page may reference ----------------------------

  /** Signs in through the form (pre-login cookie + its token); the session cookie's response. */
  async function signIn(target: Hono, presented: string, origin = 'http://127.0.0.1') {
    const form = await target.request(`${origin}/dashboard/login`);
    const login = setCookies(form).pairs.get('warden_dashboard_login') ?? '';
    return target.request(`${origin}/dashboard/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: login },
      body: new URLSearchParams({ _csrf: csrfOf(await form.text()), token: presented }),
    });
  }
  const sessionCookie = async (presented: string) =>
    setCookies(await signIn(app, presented)).pairs.get('warden_dashboard') ?? '';

  it('sets an HttpOnly, SameSite=Strict session cookie, Secure unless served on loopback http', async () => {
    const res = await signIn(app, token(A, 'read'));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard');
    const line = setCookies(res).lines.find((l) => l.startsWith('warden_dashboard=')) ?? '';
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Strict/);
    expect(line).toMatch(/; Path=\/dashboard/);
    expect(line).not.toMatch(/; Secure/);
    expect(line).not.toContain(token(A, 'read'));

    const remote = dashboardRoutes({
      knex: knex(),
      ledger: g.ledger,
      queue: g.queue,
      operatorToken,
      serverOnLoopback: false,
    });
    const secure = await signIn(remote, token(A, 'read'), 'https://warden.example');
    const secureLine =
      setCookies(secure).lines.find((l) => l.startsWith('warden_dashboard=')) ?? '';
    expect(secureLine).toMatch(/; Secure/);
    expect(secureLine).toMatch(/; HttpOnly/);
  });

  it('refuses a sign-in without its form token, and pages without a valid session', async () => {
    const noForm = await app.request('/dashboard/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: token(A, 'read') }),
    });
    expect(noForm.status).toBe(403);
    expect(setCookies(noForm).pairs.has('warden_dashboard')).toBe(false);

    const anonymous = await app.request('/dashboard');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/dashboard/login');
    const cookie = await sessionCookie(token(A, 'read'));
    const [name, value = ''] = cookie.split('=');
    const forged = `${name}=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await app.request('/dashboard', { headers: { cookie: forged } })).status).toBe(303);
    expect((await app.request('/dashboard', { headers: { cookie } })).status).toBe(200);
  });

  it('refuses a POST without the session’s form token (403) and leaves the approval pending', async () => {
    const cookie = await sessionCookie(token(A, 'admin'));
    const ticket = (await g.api(A, 'read', 'GET', `/approvals?run=${runs.failover}`)).body
      .approvals[0];
    const post = (body: Record<string, string>) =>
      app.request(`/dashboard/approvals/${ticket.id}/decision`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams(body),
      });
    expect((await post({ decision: 'approve' })).status).toBe(403);
    expect((await post({ decision: 'approve', _csrf: 'forged' })).status).toBe(403);
    const readCookie = await sessionCookie(token(A, 'read'));
    const readPage = await (
      await app.request('/dashboard', { headers: { cookie: readCookie } })
    ).text();
    const asReader = await app.request(`/dashboard/approvals/${ticket.id}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: readCookie },
      body: new URLSearchParams({ decision: 'approve', _csrf: csrfOf(readPage) }),
    });
    expect(asReader.status).toBe(403);
    const logout = await app.request('/dashboard/logout', { method: 'POST', headers: { cookie } });
    expect(logout.status).toBe(403);
    expect((await g.run(A, runs.failover)).status).toBe('awaiting_approval');
    const after = (await g.api(A, 'read', 'GET', `/approvals/${ticket.id}`)).body;
    expect(after).toMatchObject({ status: 'pending', votes: [] });
  });

  it('ends a session when its token is revoked', async () => {
    const extra = await createToken(
      { knex: knex(), ledger: g.ledger },
      { tenant: A, name: `temp-${engine}`, scope: 'read', source: 'cli' },
    );
    const cookie = await sessionCookie(extra.value);
    expect((await app.request('/dashboard', { headers: { cookie } })).status).toBe(200);
    await knex()('api_tokens').where({ id: extra.id }).update({ revoked_at: new Date() });
    const res = await app.request('/dashboard', { headers: { cookie } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard/login');
  });

  it('serves pages that reference no external URL and no script, under a strict CSP', async () => {
    const tenant = await sessionCookie(token(A, 'admin'));
    const operator = await sessionCookie(operatorToken);
    const pages = [
      ['/dashboard/login', ''],
      ['/dashboard?window=24h', tenant],
      ['/dashboard?window=30d', tenant],
      [`/dashboard/runs/${runs.flaky}`, tenant],
      ['/dashboard/runs/no-such-run', tenant],
      ['/dashboard/operator', operator],
    ] as const;
    for (const [path, cookie] of pages) {
      const res = await app.request(path, { headers: cookie ? { cookie } : {} });
      const html = await res.text();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/https?:\/\//i);
      expect(html).not.toMatch(/(src|href|action)=["']?\/\//i);
      expect(html).not.toMatch(/ style=/i);
    }
    const css = await app.request('/dashboard/assets/dashboard.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).not.toMatch(/url\(|@import/i);
  });

  // --- in Chromium -------------------------------------------------------------------------------

  async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    if (!browser) throw new Error('no browser');
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport(viewport);
    page.on('console', (msg) => {
      // Error statuses the tests provoke (401, 404) are logged too; anything else (a CSP
      // violation, a failed resource) is a defect.
      const expected = /^Failed to load resource: the server responded with a status of 40[14]/;
      if (msg.type() === 'error' && !expected.test(msg.text())) {
        consoleErrors.push(`${page.url()}: ${msg.text()}`);
      }
    });
    return page;
  }
  async function signInWith(page: Page, presented: string) {
    await page.goto(`${base}/dashboard/login`);
    await page.type('#token', presented);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  }
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: `${artifacts}/dashboard-${name}-${engine}.png`, fullPage: true });
  const tile = (page: Page, key: string) =>
    page.$eval(`[data-tile="${key}"] .value`, (el) => el.textContent?.trim() ?? '');
  const text = (page: Page) =>
    page.$eval('body', (el) => (el.textContent ?? '').replace(/\s+/g, ' '));

  it.skipIf(!chromium)(
    'shows a read token the seeded figures, a run with its proofs, and signs out',
    async () => {
      const page = await newPage();
      await page.goto(`${base}/dashboard/login`);
      await shot(page, 'login');
      await signInWith(page, token(A, 'read'));
      expect(new URL(page.url()).pathname).toBe('/dashboard');

      const succeeded: Array<{ finished_at: Date; starts_at: Date }> = await knex()('runs as r')
        .join('triggers as t', 't.id', 'r.trigger_id')
        .where({ 'r.tenant_id': A, 'r.status': 'succeeded' })
        .select('r.finished_at', 't.starts_at');
      const minutes = succeeded.map(
        (r) => (new Date(r.finished_at).getTime() - new Date(r.starts_at).getTime()) / 60_000,
      );
      const mean = minutes.reduce((a, b) => a + b, 0) / minutes.length;
      expect(await tile(page, 'runs')).toBe('6');
      expect(await tile(page, 'coverage')).toBe('50 %');
      expect(await tile(page, 'failure-rate')).toBe('20 %');
      expect(await tile(page, 'approvals')).toBe('3 vs 1');
      expect(await tile(page, 'time-saved')).toBe('1 h 10 min');
      expect(await tile(page, 'mttm')).toBe(formatMinutes(mean));
      const body = await text(page);
      expect(body).toMatch(
        /Now, over 3 mitigated alerts \(median [^)]+\) · baseline: 1 h 30 min \((\d+ h )?[\d.]+ min faster, −[\d.]+ %\)/,
      );
      expect(body).toContain('3 succeeded · 1 failed · 1 denied · 1 awaiting approval');
      expect(await page.$$eval('figure[data-figure] svg', (els) => els.length)).toBe(3);
      const reasons = await page.$eval('[data-figure="failure-reasons"] table', (el) =>
        el.textContent?.replace(/\s+/g, ' '),
      );
      expect(reasons).toContain('Actions per hour exceeded');
      expect(reasons).toContain('Step failed: probe.touch');
      const disabled = await page.$eval(`[data-disable="${disabledReceipt}"]`, (el) =>
        el.textContent?.replace(/\s+/g, ' '),
      );
      expect(disabled).toContain('acme-flaky');
      expect(disabled).toContain(disabledReceipt);
      expect(await page.$(`[data-approval] button`)).toBeNull(); // read: no Approve / Reject
      expect(body).toContain('Sign in with an admin token to approve or reject.');
      expect(await page.$$eval('tr[data-run]', (els) => els.length)).toBe(6);
      await shot(page, 'overview');

      await Promise.all([page.waitForNavigation(), page.click('.windows a[href$="24h"]')]);
      expect(await page.$eval('[aria-current="page"]', (el) => el.textContent)).toBe('24h');
      expect(await tile(page, 'runs')).toBe('6');

      const [restart] = runs.restart;
      await Promise.all([page.waitForNavigation(), page.click(`tr[data-run="${restart}"] a`)]);
      expect(new URL(page.url()).pathname).toBe(`/dashboard/runs/${restart}`);
      const run = await text(page);
      expect(run).toContain('acme-restart v1');
      expect(run).toContain('Succeeded');
      const proofs = await page.$$eval('tr[data-receipt] .proof', (els) =>
        els.map((el) => el.textContent),
      );
      expect(proofs.length).toBeGreaterThan(2);
      expect(new Set(proofs)).toEqual(new Set([`Proven in checkpoint of size ${checkpointSize}`]));
      await shot(page, 'run');

      await Promise.all([page.waitForNavigation(), page.click('.signout button')]);
      expect(new URL(page.url()).pathname).toBe('/dashboard/login');
      expect(await text(page)).toContain('You are signed out.');
      const cookies = await page.browserContext().cookies();
      expect(cookies.find((c) => c.name === 'warden_dashboard')).toBeUndefined();
      await page.goto(`${base}/dashboard`);
      expect(new URL(page.url()).pathname).toBe('/dashboard/login');
      await page.browserContext().close();
    },
  );

  it.skipIf(!chromium)('lays the overview out on a phone', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await signInWith(page, token(A, 'read'));
    const overflow = await page.$eval('html', (el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'overview-phone');
    await page.browserContext().close();
  });

  it.skipIf(!chromium)(
    'lets an admin token approve the pending approval, and the run proceeds',
    async () => {
      const page = await newPage();
      await signInWith(page, token(A, 'admin'));
      const ticket = (await g.api(A, 'read', 'GET', `/approvals?run=${runs.failover}`)).body
        .approvals[0];
      const row = `tr[data-approval="${ticket.id}"]`;
      expect(await page.$eval(row, (el) => el.textContent)).toContain('acme-failover');
      await shot(page, 'approvals-admin');
      await Promise.all([page.waitForNavigation(), page.click(`${row} button[value="approve"]`)]);
      expect(await text(page)).toContain('Approved: the run continues.');
      await g.idle();
      expect((await g.run(A, runs.failover)).status).toBe('succeeded');
      expect(probe.calls.filter((c) => c.label === 'failover')).toHaveLength(1);
      const after = (await g.api(A, 'read', 'GET', `/approvals/${ticket.id}`)).body;
      expect(after.status).toBe('approved');
      expect(after.votes).toMatchObject([{ actor: 'dashboard:approver-bot', decision: 'approve' }]);
      const [decided] = await g.receipts(A, 'approval.decided');
      expect(decided).toMatchObject({ via: 'api:approver-bot', actor: 'dashboard:approver-bot' });

      await page.goto(`${base}/dashboard`);
      expect(await page.$(row)).toBeNull();
      expect(await text(page)).toContain('No approval is waiting.');
      await page.goto(`${base}/dashboard/runs/${runs.failover}`);
      const run = await text(page);
      expect(run).toContain('dashboard:approver-bot approved');
      expect(run).toContain('Not yet anchored');
      await shot(page, 'run-approved');
      await page.browserContext().close();
    },
  );

  it.skipIf(!chromium)('never shows a read token of bravo anything of acme', async () => {
    const page = await newPage();
    await signInWith(page, token(B, 'read'));
    const body = await text(page);
    expect(body).toContain('bravo-scale');
    expect(await tile(page, 'runs')).toBe('1');
    expect(body).toContain('baseline: no baseline');
    expect(body.toLowerCase()).not.toContain('acme');
    const html = await page.content();
    for (const id of [
      ...runs.restart,
      ...runs.budget,
      runs.flaky,
      runs.failover,
      disabledReceipt,
    ]) {
      expect(html).not.toContain(id);
    }
    await shot(page, 'overview-bravo');
    const res = await page.goto(`${base}/dashboard/runs/${runs.restart[0]}`);
    expect(res?.status()).toBe(404);
    expect(await text(page)).not.toContain('acme');
    await page.browserContext().close();
  });

  it.skipIf(!chromium)('refuses a bad token with an error on the sign-in page', async () => {
    const page = await newPage();
    await page.goto(`${base}/dashboard/login`);
    await page.type('#token', 'wdn_not-a-real-token');
    const [res] = await Promise.all([
      page.waitForNavigation(),
      page.click('button[type="submit"]'),
    ]);
    expect(res?.status()).toBe(401);
    expect(await page.$eval('[role="alert"]', (el) => el.textContent)).toContain(
      'That token was not recognised',
    );
    expect(await page.$eval('#token', (el) => el.getAttribute('aria-invalid'))).toBe('true');
    const ingest = g.tokens.get(A)?.ingest ?? '';
    await page.type('#token', ingest);
    const [again] = await Promise.all([
      page.waitForNavigation(),
      page.click('button[type="submit"]'),
    ]);
    expect(again?.status()).toBe(401); // an ingest token does not sign in
    await shot(page, 'login-error');
    await page.browserContext().close();
  });

  it.skipIf(!chromium)(
    'shows the operator every tenant and moves the global kill switch',
    async () => {
      const page = await newPage();
      await signInWith(page, operatorToken);
      expect(new URL(page.url()).pathname).toBe('/dashboard/operator');
      const rows = await page.$$eval('tr[data-tenant]', (els) =>
        els.map((el) => el.getAttribute('data-tenant')),
      );
      expect(rows).toEqual([A, B]);
      expect(
        await page.$eval('[data-kill-switch]', (el) => el.getAttribute('data-kill-switch')),
      ).toBe('released');
      await page.type('#kill-reason', 'dashboard e2e');
      await Promise.all([page.waitForNavigation(), page.click('button[value="on"]')]);
      expect(await text(page)).toContain('Global kill switch engaged');
      await shot(page, 'operator');
      const changed = async (t: string) => (await g.receipts(t, 'kill_switch.changed')).at(-1);
      for (const t of [A, B]) {
        expect(await changed(t)).toMatchObject({
          scope: 'global',
          engaged: true,
          actor: 'operator',
          reason: 'dashboard e2e',
        });
      }
      await Promise.all([page.waitForNavigation(), page.click('button[value="off"]')]);
      expect(await text(page)).toContain('Global kill switch released.');
      expect(await changed(B)).toMatchObject({ scope: 'global', engaged: false });
      await page.browserContext().close();
      expect(consoleErrors).toEqual([]);
    },
  );

  it("lists the tenant's internal alerts, and no other tenant's", async () => {
    const alerts = createInternalAlerts({
      knex: knex(),
      ledger: g.ledger,
      logger: pino({ level: 'silent' }),
      rules: (t) => (t === A ? { runaway_run_rate: { threshold: 3, clearBelow: 1 } } : undefined),
    });
    await alerts.evaluate(new Date());
    const page = async (presented: string) =>
      (
        await app.request('/dashboard', { headers: { cookie: await sessionCookie(presented) } })
      ).text();
    const mine = await page(token(A, 'read'));
    expect(mine).toMatch(/Internal alerts[\s\S]*Runaway[\s\S]*Firing/i);
    const theirs = await page(token(B, 'read'));
    // B's rules were evaluated with the defaults: listed, all clear.
    expect(theirs).toMatch(/Internal alerts[\s\S]*Runaway run rate[\s\S]*Clear/);
    expect(theirs).not.toContain('Firing');
  });
});
