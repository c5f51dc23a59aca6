/**
 * Web approvals, end to end: the page is served with its security headers for any well-formed id
 * (404 otherwise) and tells nothing about the ticket; in Chromium, driven over the DevTools pipe, a
 * person types the admin token and their identity and approves — the ticket is approved and the run
 * proceeds — while the API's refusals (not an approver, self-approval) appear on the page, and text
 * from the API is shown as text.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProbe } from '../fakes/probe-plugin.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';
import { requireServices } from '../helpers/services.js';

const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find(
  (p) => p && existsSync(p),
);
if (!chromiumPath && requireServices) {
  throw new Error(
    'WARDEN_REQUIRE_SERVICES=1 but Chromium is missing (set CHROMIUM_PATH): the web approvals page cannot be tested in a browser.',
  );
}

const playbook = (name: string, extra: string, label: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${name} } }
${extra}
  approval: { approvers: [web:alice, web:bob, slack:U1], minApprovals: 1, expiresIn: 30m }
  steps:
    - { id: act, uses: probe.destroy, with: { label: "${name}-${label}", targets: [db-1] } }
`;

describeEngines('web approvals', ({ db }) => {
  const probe = createProbe();
  const t = 'acme';
  let g: Awaited<ReturnType<typeof startGuarded>>;
  const executed = (label: string) => probe.calls.filter((c) => c.label === label).length;
  const pending = async (runId: string) =>
    (await g.api(t, 'read', 'GET', `/approvals?run=${runId}`)).body.approvals[0];
  const token = (who: 'admin' | 'ops') => g.tokens.get(t)?.[who] ?? '';

  beforeAll(async () => {
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      tenants: [
        {
          id: t,
          playbooks: {
            destroy: playbook('destroy', '', '{{ alert.labels.n }}'),
            dual: playbook('dual', '  environment: production', '{{ params.n }}'),
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await g?.close();
  });

  it('serves the page for a real ticket with its security headers, naming nothing of it', async () => {
    const [run] = await g.fire(t, { alertname: 'destroy', n: 'headers' });
    await g.idle();
    const ticket = await pending(run as string);
    const res = await g.app.request(`/approvals/${ticket.id}`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = csp.match(/script-src 'nonce-([^']+)'/)?.[1];
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    for (const secret of [ticket.id, run as string, 'destroy', 'web:alice', 'runbooks.example']) {
      expect(html).not.toContain(secret);
    }
    const list = await g.app.request('/approvals');
    expect(list.status).toBe(200);
    expect(list.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  });

  it('answers 404 in the JSON error shape for an id that is not a UUID', async () => {
    const res = await g.app.request('/approvals/not-a-ticket');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  describe.skipIf(!chromiumPath)('in Chromium', () => {
    let server: ServerType;
    let base = '';
    let browser: Browser;
    let pages: Page[] = [];

    beforeAll(async () => {
      base = await new Promise<string>((resolve) => {
        server = serve({ fetch: g.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
          resolve(`http://127.0.0.1:${(info as AddressInfo).port}`),
        );
      });
      browser = launchChromium(chromiumPath as string);
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise((r) => server?.close(r));
    });
    afterEach(async () => {
      // The page's own script ran under its CSP without a violation or an uncaught error.
      for (const page of pages) expect(await page.problems()).toEqual([]);
      pages = [];
    });

    async function signIn(path: string, who: 'admin' | 'ops', actor: string) {
      const page = await browser.open(`${base}${path}`);
      pages.push(page);
      await page.type('#token', token(who));
      await page.type('#actor', actor);
      await page.click('#connect');
      return page;
    }

    it('approves from the page: the ticket shows approved and the run proceeds', async () => {
      const [run] = await g.fire(t, { alertname: 'destroy', n: 'web' });
      await g.idle();
      const ticket = await pending(run as string);
      const p = await signIn(`/approvals/${ticket.id}`, 'admin', 'web:alice');
      await p.waitFor(
        `document.querySelector('#details h2')?.textContent === 'destroy · step act'`,
      );
      const details = await p.text('#details');
      expect(details).toContain('Approvals0 of 1');
      expect(details).toContain('policy:destructive-needs-approval');
      expect(details).toContain('irreversible: no rollback is declared for this step');
      expect(details).toMatch(/Approversweb:aliceweb:bobslack:U1/);
      expect(
        await p.evaluate(`[...document.querySelectorAll('#details a')].map((a) => a.href)`),
      ).toEqual([
        'https://prometheus.example/graph?g0.expr=up',
        'https://runbooks.example/ingest',
        `${base}/api/v1/runs/${run}`,
        `${base}/api/v1/receipts?run=${run}`,
      ]);

      await p.type('#comment', 'graphs look fine');
      await p.click('#approve');
      await p.waitFor(`document.querySelector('#details .status')?.textContent === 'approved'`);
      expect(await p.text('#message')).toBe('Approved as web:alice; the ticket is approved.');
      expect(await p.text('#details')).toContain('web:alice approved at');
      expect(await p.evaluate(`document.querySelector('#decide').hidden`)).toBe(true);
      await g.idle();
      expect((await g.run(t, run as string)).status).toBe('succeeded');
      expect(executed('destroy-web')).toBe(1);
      // The token went nowhere but the Authorization header.
      expect(
        await p.evaluate(
          `[location.href, document.cookie, localStorage.length, sessionStorage.length]`,
        ),
      ).toEqual([`${base}/approvals/${ticket.id}`, '', 0, 0]);
    });

    it("shows the API's refusal when the person is not an approver, or approves their own run", async () => {
      const [run] = await g.fire(t, { alertname: 'destroy', n: 'stranger' });
      await g.idle();
      const ticket = await pending(run as string);
      const p = await signIn(`/approvals/${ticket.id}`, 'admin', 'web:mallory');
      await p.waitFor(`document.querySelector('#details .status')?.textContent === 'pending'`);
      await p.click('#approve');
      await p.waitFor(`document.querySelector('#message').className === 'error'`);
      expect(await p.text('#message')).toBe(
        'web:mallory is not an approver of playbook destroy (approvers: web:alice, web:bob, slack:U1).',
      );
      expect(await p.text('#details .status')).toBe('pending');

      // Started with the admin token, so that token may not approve it, whoever types.
      const started = await g.api(t, 'admin', 'POST', '/playbooks/dual/run', {
        params: { n: 'own' },
      });
      await g.idle();
      const own = await pending(started.body.run);
      const q = await signIn(`/approvals/${own.id}`, 'admin', 'web:alice');
      await q.waitFor(`document.querySelector('#details .status')?.textContent === 'pending'`);
      await q.click('#approve');
      await q.waitFor(`document.querySelector('#message').className === 'error'`);
      expect(await q.text('#message')).toBe(
        'the token api:approver-bot started this run and cannot approve its own step.',
      );
      expect((await g.run(t, started.body.run)).status).toBe('awaiting_approval');
      expect(executed('destroy-stranger') + executed('dual-own')).toBe(0);
      const refused = (await g.receipts(t, 'approval.refused')).slice(-2);
      expect(refused.map((r) => [r.actor, r.reason])).toEqual([
        ['web:mallory', 'not_an_approver'],
        ['web:alice', 'self_approval'],
      ]);
    });

    it('lists pending tickets, opens one keeping the token, shows API text as text, and completes dual control', async () => {
      const started = await g.api(t, 'admin', 'POST', '/playbooks/dual/run', {
        params: { n: 'pair' },
      });
      await g.idle();
      const ticket = await pending(started.body.run);
      expect(ticket.minApprovals).toBe(2);
      const sneaky = `<img src=x id=pwned onerror="document.title='pwned'">`;
      const first = await g.api(t, 'ops', 'POST', `/approvals/${ticket.id}/decision`, {
        decision: 'approve',
        actor: 'web:bob',
        comment: sneaky,
      });
      expect(first.body.status).toBe('pending');

      const p = await signIn('/approvals', 'ops', 'alice');
      await p.waitFor(`document.querySelector('#list a') !== null`);
      const link = `#list a[href="/approvals/${ticket.id}"]`;
      expect(await p.text(link)).toBe('dual · step act');
      await p.click(link);
      await p.waitFor(`document.querySelector('#details .status')?.textContent === 'pending'`);
      expect(await p.evaluate('location.pathname')).toBe(`/approvals/${ticket.id}`);
      expect(await p.text('#details')).toContain('Approvals1 of 2');
      expect(await p.text('#details')).toContain(sneaky);
      expect(await p.evaluate(`[document.querySelector('#pwned'), document.title]`)).toEqual([
        null,
        'Warden approvals',
      ]);

      await p.click('#approve');
      await p.waitFor(`document.querySelector('#details .status')?.textContent === 'approved'`);
      expect(await p.text('#details')).toContain('Approvals2 of 2');
      expect(await p.text('#message')).toBe('Approved as web:alice; the ticket is approved.');
      await g.idle();
      expect((await g.run(t, started.body.run)).status).toBe('succeeded');
      expect(executed('dual-pair')).toBe(1);
    });
  });
});

// A small Chrome DevTools Protocol client over --remote-debugging-pipe (fds 3 and 4, messages
// separated by NUL), so that no browser-automation package is needed.

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
};

interface Page {
  evaluate(expression: string): Promise<unknown>;
  text(selector: string): Promise<string>;
  type(selector: string, text: string): Promise<void>;
  click(selector: string): Promise<void>;
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  /** CSP violations and uncaught errors seen so far. */
  problems(): Promise<string[]>;
}

interface Browser {
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

function launchChromium(path: string): Browser {
  const profile = mkdtempSync(join(tmpdir(), 'warden-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'];
  const child: ChildProcess = spawn(
    path,
    [...args, '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  const waiting = new Map<number, (m: Message) => void>();
  const events: Message[] = [];
  let buffer = '';
  let next = 0;
  const gone = (why: string) => {
    for (const done of waiting.values()) done({ error: { message: `Chromium ${why}` } });
  };
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => resolve(gone(`failed to start: ${err.message}`)));
    child.once('exit', (code) => resolve(gone(`exited (${code})`)));
  });
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\0'); end >= 0; end = buffer.indexOf('\0')) {
      const message = JSON.parse(buffer.slice(0, end)) as Message;
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined) waiting.get(message.id)?.(message);
      else events.push(message);
    }
  });
  const send = (method: string, params: object = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, (m) => {
        waiting.delete(id);
        m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result ?? {});
      });
      input.write(
        `${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`,
      );
    });

  async function open(url: string): Promise<Page> {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    await send('Runtime.enable', {}, sessionId);
    await send('Page.enable', {}, sessionId);
    await send(
      'Page.addScriptToEvaluateOnNewDocument',
      {
        source: `window.__problems = [];
          addEventListener('securitypolicyviolation', (e) => __problems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI));`,
      },
      sessionId,
    );
    const evaluate = async (expression: string) => {
      const r = (await send(
        'Runtime.evaluate',
        { expression, awaitPromise: true, returnByValue: true },
        sessionId,
      )) as { result: { value?: unknown }; exceptionDetails?: { text: string } };
      if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
      return r.result.value;
    };
    const q = (selector: string) => `document.querySelector(${JSON.stringify(selector)})`;
    const page: Page = {
      evaluate,
      text: async (selector) => String(await evaluate(`${q(selector)}.textContent`)),
      async type(selector, text) {
        await evaluate(`${q(selector)}.focus()`);
        await send('Input.insertText', { text }, sessionId);
      },
      async click(selector) {
        const { x, y } = (await evaluate(`(() => { const e = ${q(selector)};
          e.scrollIntoView({ block: 'center' }); const r = e.getBoundingClientRect();
          return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`)) as {
          x: number;
          y: number;
        };
        for (const type of ['mousePressed', 'mouseReleased']) {
          await send(
            'Input.dispatchMouseEvent',
            { type, x, y, button: 'left', clickCount: 1 },
            sessionId,
          );
        }
      },
      async waitFor(expression, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        while (!(await evaluate(`!!(${expression})`).catch(() => false))) {
          if (Date.now() > deadline) {
            const body = await evaluate('document.body.innerText').catch(() => '?');
            throw new Error(`timed out waiting for ${expression}; the page says:\n${body}`);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      async problems() {
        const thrown = events
          .filter((e) => e.sessionId === sessionId && e.method === 'Runtime.exceptionThrown')
          .map((e) => JSON.stringify(e.params?.exceptionDetails));
        return [...thrown, ...((await evaluate('window.__problems')) as string[])];
      },
    };
    await send('Page.navigate', { url }, sessionId);
    await page.waitFor(
      `location.href === ${JSON.stringify(url)} && document.readyState === 'complete'`,
    );
    return page;
  }

  return {
    open,
    async close() {
      await send('Browser.close').catch(() => child.kill());
      await exited;
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
