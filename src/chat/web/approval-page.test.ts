import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { approvalPageHtml, approvalPages } from './approval-page.js';

const id = '0b6f2a4e-5c1d-4f7a-9e3b-2d8c6a1f0e97';
const other = '7d1e9c3a-2b4f-4e6d-8a5c-1f0e9d8c7b6a';

async function get(path: string) {
  const res = await approvalPages().request(path);
  return { res, html: await res.text() };
}

function scripts(html: string) {
  return [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => ({
    attrs: m[1] ?? '',
    body: m[2] ?? '',
  }));
}

describe('approval page', () => {
  it('serves a ticket page with a nonce-only CSP and the anti-framing, no-cache, no-referrer headers', async () => {
    const { res, html } = await get(`/approvals/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = csp.match(/script-src 'nonce-([^']+)'/)?.[1];
    expect(nonce).toMatch(/^[A-Za-z0-9+/=]{16,}$/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    const [only, ...more] = scripts(html);
    expect(more).toEqual([]);
    expect(only?.attrs).toBe(` nonce="${nonce}"`);
    expect(html).toContain(`<style nonce="${nonce}">`);
  });

  it('draws a fresh nonce for every response', async () => {
    const nonces = await Promise.all(
      [1, 2, 3].map(async () =>
        (await get('/approvals')).res.headers.get('content-security-policy'),
      ),
    );
    expect(new Set(nonces).size).toBe(3);
  });

  it('loads nothing from elsewhere: no external scripts, styles, images or links', () => {
    const html = approvalPageHtml('n0nce');
    expect(html).not.toMatch(/\bsrc=|<link\b|@import|<iframe|<img|<object|<embed/i);
    expect(html).not.toContain('url(');
    expect(html).not.toMatch(/(https?:)?\/\/[a-z0-9]/i);
    expect([...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1])).toEqual(['/approvals']);
  });

  it('embeds no ticket data: every ticket id gets the same page, which does not name it', async () => {
    const unnonced = (html: string) => html.replaceAll(/nonce="[^"]+"/g, 'nonce=""');
    const a = await get(`/approvals/${id}`);
    const b = await get(`/approvals/${other}`);
    expect(a.html).not.toContain(id);
    expect(unnonced(a.html)).toBe(unnonced(b.html));
  });

  it('answers 404 in the JSON error shape for an id that is not a UUID', async () => {
    for (const bad of ['nope', `${id}x`, '..%2Fapi', `${id.slice(0, -1)}g`]) {
      const res = await approvalPages().request(`/approvals/${bad}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: 'not_found', message: expect.any(String) },
      });
    }
  });

  it('has a script that compiles, writes text only and keeps the token in memory', () => {
    const body = scripts(approvalPageHtml('n'))[0]?.body ?? '';
    expect(() => new Script(body)).not.toThrow();
    expect(body).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
    );
    expect(body).not.toMatch(/localStorage|sessionStorage|cookie|indexedDB|searchParams|[?&]token/);
    expect(body).toContain('.textContent =');
    expect(body).toContain("authorization: 'Bearer ' + state.token");
    expect(body).toContain("credentials: 'omit'");
    expect(body).toContain("'/approvals/' + state.id + '/decision'");
    expect(body).toContain("'/approvals?status=pending'");
  });
});
