/**
 * Approval-page: the web approvals channel — `GET /approvals` (pending tickets) and
 * `GET /approvals/:id` (one ticket, Approve / Reject). The page is static: it embeds no ticket data
 * and needs no auth to load; its inline script asks for an admin token (kept in memory only) and the
 * approver's identity, then talks to `/api/v1/approvals`, which applies the same rules as Slack and
 * Teams (listed approvers, dual control, expiry, receipted refusals).
 */
import { randomBytes } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { notFoundHandler } from '../../http/error-handler.js';

const ticketId = z.string().uuid();

/** The headers every page response carries; the nonce lets exactly its own inline script run. */
function pageHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
      "require-trusted-types-for 'script'",
      "trusted-types 'none'",
    ].join('; '),
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  };
}

/**
 * The page routes, mounted at '/'.
 *
 * @example
 * app.route('/', approvalPages());
 */
export function approvalPages(): Hono {
  const page = new Hono();
  const serve = (c: Context) => {
    const nonce = randomBytes(18).toString('base64');
    for (const [name, value] of Object.entries(pageHeaders(nonce))) c.header(name, value);
    return c.html(approvalPageHtml(nonce));
  };
  page.get('/approvals', serve);
  page.get('/approvals/:id', (c) =>
    ticketId.safeParse(c.req.param('id')).success ? serve(c) : notFoundHandler(c),
  );
  return page;
}

/** The whole page: markup, a nonce'd style and a nonce'd script; the same for every ticket. */
export function approvalPageHtml(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Warden approvals</title>
<style nonce="${nonce}">${style}</style>
</head>
<body>
<main>
<h1>Warden approvals</h1>
<form id="auth" autocomplete="off">
<label>Admin token <input id="token" type="password" required autocomplete="off"></label>
<label>Your identity <input id="actor" type="text" placeholder="web:your-name, slack:U…, teams:…" autocomplete="off"></label>
<button id="connect" type="submit">Show</button>
<p class="hint">The token stays in this page's memory: it is never stored, and a reload forgets it.</p>
</form>
<p id="message" role="status" aria-live="polite" hidden></p>
<section id="list" hidden></section>
<section id="ticket" hidden>
<p><a id="back" href="/approvals">← Pending approvals</a></p>
<div id="details"></div>
<div id="decide" hidden>
<label>Comment <textarea id="comment" maxlength="2000" rows="2"></textarea></label>
<button id="approve" type="button">Approve</button>
<button id="reject" type="button">Reject</button>
</div>
</section>
</main>
<script nonce="${nonce}">${script}</script>
</body>
</html>
`;
}

const style = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
form, section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 1rem; margin: 1rem 0; }
label { display: block; margin: 0.5rem 0; }
input, textarea { display: block; width: 100%; box-sizing: border-box; padding: 0.4rem; font: inherit; }
button { font: inherit; padding: 0.4rem 1rem; margin-right: 0.5rem; cursor: pointer; }
#approve { background: #1f7a3a; color: #fff; border: 0; } #reject { background: #a32020; color: #fff; border: 0; }
dt { font-weight: 600; margin-top: 0.6rem; } dd { margin: 0; }
.hint { color: #5b6473; font-size: 0.85rem; }
#message.error { color: #a32020; font-weight: 600; } #message.ok { color: #1f7a3a; font-weight: 600; }
.status { display: inline-block; padding: 0 0.5rem; border-radius: 4px; background: #e7eaf0; }
`;

// Runs in the browser. Every string from the API goes through textContent (or a Text node); no
// innerHTML anywhere (the CSP's Trusted Types would refuse it). No backslashes or ${ in here.
const script = `
'use strict';
const $ = (id) => document.getElementById(id);
const state = { token: '', actor: '', id: idFromPath() };

function idFromPath() {
  const parts = location.pathname.split('/');
  return parts.length === 3 && parts[1] === 'approvals' && parts[2] ? parts[2] : null;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function say(text, tone) {
  const m = $('message');
  m.textContent = text;
  m.className = tone || '';
  m.hidden = !text;
}

async function call(method, path, body) {
  const headers = { authorization: 'Bearer ' + state.token };
  if (body) headers['content-type'] = 'application/json';
  const res = await fetch('/api/v1' + path, {
    method, headers, body: body ? JSON.stringify(body) : undefined,
    cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    throw new Error(data && data.error && data.error.message ? data.error.message : 'HTTP ' + res.status);
  }
  return data;
}

function when(iso) {
  const ms = Date.parse(iso) - Date.now();
  return iso + (ms > 0 ? ' (in ' + Math.ceil(ms / 60000) + ' min)' : ' (passed)');
}

function approvalsSoFar(t) {
  return t.votes.filter((v) => v.decision === 'approve').length + ' of ' + t.minApprovals;
}

function rollbackText(r) {
  r = r || {};
  if (r.kind === 'playbook') return 'Playbook rollback: ' + r.uses;
  if (r.kind === 'plugin') return r.note || r.uses + ' undoes itself';
  return r.note || 'irreversible: no rollback is declared for this step';
}

function link(e) {
  const raw = String(e.url);
  let url = null;
  try { url = new URL(raw.startsWith('/') ? location.origin + raw : raw); } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return el('span', e.label + ': ' + raw);
  }
  const a = el('a', e.label);
  a.href = url.href;
  a.rel = 'noopener noreferrer';
  a.target = '_blank';
  return a;
}

function list(items, render) {
  if (!items.length) return el('span', 'none');
  const ul = el('ul');
  for (const item of items) {
    const li = el('li');
    li.append(render ? render(item) : String(item));
    ul.append(li);
  }
  return ul;
}

function renderTicket(t) {
  const dl = el('dl');
  const field = (label, value) => {
    const dd = el('dd');
    dd.append(value);
    dl.append(el('dt', label), dd);
  };
  field('Status', el('span', t.status, 'status'));
  field('Why', t.outcome === 'deny' ? 'Denied by a budget; an approver may override it' : 'Needs approval');
  field('Reasons', list(t.reasons));
  field('Next steps', list(t.nextSteps));
  field('Evidence', list(t.evidence, link));
  field('Rollback', rollbackText(t.rollback));
  field('Approvers', t.approvers.length ? list(t.approvers) : 'any admin of this tenant');
  field('Approvals', approvalsSoFar(t));
  field('Expires', when(t.expiresAt));
  field('Started by', String(t.initiator));
  field('Run', String(t.runId));
  field('Votes', list(t.votes, (v) =>
    v.actor + ' ' + v.decision + 'd at ' + v.at + (v.comment ? ': ' + v.comment : '')));
  $('details').replaceChildren(el('h2', t.playbook + ' · step ' + t.stepId), dl);
  $('decide').hidden = t.status !== 'pending';
  $('list').hidden = true;
  $('ticket').hidden = false;
}

function renderList(tickets) {
  const root = $('list');
  root.replaceChildren(el('h2', 'Pending approvals'));
  root.append(list(tickets, (t) => {
    const a = el('a', t.playbook + ' · step ' + t.stepId);
    a.href = '/approvals/' + encodeURIComponent(t.id);
    a.addEventListener('click', (ev) => { ev.preventDefault(); go(t.id); });
    const line = el('span');
    line.append(a, ' · approvals ' + approvalsSoFar(t) + ' · expires ' + when(t.expiresAt));
    return line;
  }));
  $('ticket').hidden = true;
  root.hidden = false;
}

async function show() {
  if (!state.token) return;
  if (state.id) renderTicket(await call('GET', '/approvals/' + state.id));
  else renderList((await call('GET', '/approvals?status=pending')).approvals);
}

function go(id) {
  history.pushState(null, '', id ? '/approvals/' + encodeURIComponent(id) : '/approvals');
  state.id = id;
  say('');
  show().catch((err) => say(err.message, 'error'));
}

function busy(on) {
  for (const b of document.querySelectorAll('button')) b.disabled = on;
}

async function decide(decision) {
  if (!state.actor) return say('Enter your identity (web:your-name) before deciding.', 'error');
  const comment = $('comment').value.trim();
  busy(true);
  try {
    const body = { decision, actor: state.actor };
    if (comment) body.comment = comment;
    const t = await call('POST', '/approvals/' + state.id + '/decision', body);
    $('comment').value = '';
    renderTicket(t);
    say((decision === 'approve' ? 'Approved' : 'Rejected') + ' as ' + state.actor + '; the ticket is ' + t.status + '.', 'ok');
  } catch (err) {
    say(err.message, 'error');
    await show().catch(() => {});
  } finally {
    busy(false);
  }
}

$('auth').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.token = $('token').value.trim();
  const who = $('actor').value.trim();
  state.actor = who && !who.includes(':') ? 'web:' + who : who;
  say('');
  show().catch((err) => say(err.message, 'error'));
});
$('approve').addEventListener('click', () => decide('approve'));
$('reject').addEventListener('click', () => decide('reject'));
$('back').addEventListener('click', (ev) => { ev.preventDefault(); go(null); });
window.addEventListener('popstate', () => {
  state.id = idFromPath();
  say('');
  show().catch((err) => say(err.message, 'error'));
});
`;
