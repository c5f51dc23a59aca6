/**
 * `/dashboard`: server-rendered pages for a tenant's read or admin token (tiles, charts, tables, run
 * pages, approvals) and for the operator (tenants, global kill switch). Sign-in sets a signed,
 * HttpOnly, SameSite=Strict session cookie; every POST form also carries the session's CSRF token.
 */
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { toWardenError } from '../../errors.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { RunQueue } from '../../queue/run-queue.js';
import { linkKey } from '../../storage/reports.js';
import { getTenant } from '../../storage/tenants.js';
import { decide, notices } from './decide.js';
import { moveGlobalSwitch, operatorView } from './operator-view.js';
import { overviewView } from './overview.js';
import { createDashboardRenderer, type PageName } from './render.js';
import { runPageView } from './run-page.js';
import { createSessionCodec, loginNonce, type Session, type SessionCodec } from './session.js';
import { principalOf, sessionStands } from './sign-in.js';
import { parseWindowName, timeWindow, type WindowName, windowNames } from './time-window.js';

export interface DashboardDeps {
  knex: Knex;
  ledger: Ledger;
  /** Where a run goes after an approval decision wakes it. */
  queue: RunQueue;
  /** WARDEN_ADMIN_TOKEN: signs in to the operator view. Without it there is no operator view. */
  operatorToken?: string | undefined;
  /** Loopback-only tokens sign in only then; the cookie drops `Secure` only then, over http. */
  serverOnLoopback: boolean;
  /** @defaultValue () => new Date() */
  now?: () => Date;
  /** @defaultValue 8 hours */
  sessionTtlMs?: number;
  /** @defaultValue `<package root>/templates/dashboard` */
  templatesDir?: string;
  /** Told of 5xx errors. */
  logger?: Logger;
}

type Env = { Variables: { session: Session } };

const sessionCookie = 'warden_dashboard';
const loginCookie = 'warden_dashboard_login';

/** Every page: nothing loads but the stylesheet; forms post only here; never framed or cached. */
const pageHeaders = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * The dashboard's routes, mounted at '/'.
 * @example
 * app.route('/', dashboardRoutes({ knex, ledger, queue, operatorToken, serverOnLoopback: true }));
 */
export function dashboardRoutes(deps: DashboardDeps): Hono {
  const now = deps.now ?? (() => new Date());
  const ttl = deps.sessionTtlMs ?? 8 * 3_600_000;
  const view = createDashboardRenderer(deps.templatesDir);
  const cssHref = `/dashboard/assets/dashboard.css?v=${view.cssVersion}`;
  let codecPromise: Promise<SessionCodec> | undefined;
  const codec = () => {
    codecPromise ??= linkKey(deps.knex).then(createSessionCodec, (err: unknown) => {
      codecPromise = undefined;
      throw err;
    });
    return codecPromise;
  };
  const signIn = async () => ({ ...deps, codec: await codec() });
  const secure = (c: Context) => !deps.serverOnLoopback || new URL(c.req.url).protocol === 'https:';
  const cookieOptions = (c: Context, path: string, maxAge: number) =>
    ({ path, httpOnly: true, sameSite: 'Strict', secure: secure(c), maxAge }) as const;

  const chrome = async (title: string, session?: Session) => ({
    title,
    cssHref,
    signedIn: session !== undefined,
    isOperator: session?.kind === 'operator',
    who:
      session?.kind === 'tenant'
        ? `${session.tokenName} · ${session.tenant} · ${session.scope}`
        : 'operator',
    csrf: session ? (await codec()).csrfToken(session) : '',
  });
  const page = (c: Context, name: PageName, model: object, status = 200) => {
    for (const [header, value] of Object.entries(pageHeaders)) c.header(header, value);
    return c.html(view.render(name, model), status as ContentfulStatusCode);
  };
  const errorPage = async (c: Context, status: number, message: string, session?: Session) =>
    page(c, 'error', { chrome: await chrome('Dashboard', session), status, message }, status);

  /** The session of the request's cookie, if it verifies and its token still stands. */
  const sessionOf = async (c: Context) => {
    const session = (await codec()).open(getCookie(c, sessionCookie), now());
    return session && (await sessionStands(await signIn(), session)) ? session : undefined;
  };
  /** Session required: GETs go to sign-in; POSTs must carry the session's CSRF token too. */
  const requireSession = async (c: Context<Env>, next: () => Promise<void>) => {
    const session = await sessionOf(c);
    if (c.req.method === 'GET') {
      if (!session) return c.redirect('/dashboard/login', 303);
    } else {
      const form = session ? await c.req.parseBody() : {};
      if (!session || !(await codec()).checkCsrf(session, form._csrf)) {
        return errorPage(c, 403, 'This form expired or did not come from this dashboard.');
      }
    }
    c.set('session', session);
    await next();
  };

  const app = new Hono<Env>();
  app.onError(async (err, c) => {
    const e = toWardenError(err);
    if (e.status >= 500) deps.logger?.error({ err: e.cause ?? e }, 'dashboard request failed');
    return errorPage(c, e.status, e.status >= 500 ? 'Something went wrong.' : e.message);
  });
  app.use('/dashboard/*', bodyLimit({ maxSize: 16 * 1024 }));

  app.get('/dashboard/assets/dashboard.css', (c) =>
    c.body(view.css, 200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control':
        c.req.query('v') === view.cssVersion ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    }),
  );

  const loginPage = async (c: Context, error: string | null, status = 200) => {
    const nonce = loginNonce();
    setCookie(c, loginCookie, nonce, cookieOptions(c, '/dashboard/login', 3600));
    const signedOut = c.req.query('signed_out') === '1';
    return page(
      c,
      'login',
      {
        chrome: await chrome('Sign in'),
        error,
        signedOut,
        loginToken: (await codec()).loginToken(nonce),
      },
      status,
    );
  };
  app.get('/dashboard/login', async (c) =>
    (await sessionOf(c)) ? c.redirect('/dashboard', 303) : loginPage(c, null),
  );
  app.post('/dashboard/login', async (c) => {
    const form = await c.req.parseBody();
    if (!(await codec()).checkLoginToken(getCookie(c, loginCookie), form._csrf)) {
      return loginPage(c, 'The sign-in form expired. Please try again.', 403);
    }
    const token = typeof form.token === 'string' ? form.token : '';
    const principal = await principalOf(await signIn(), token);
    if (!principal) {
      return loginPage(
        c,
        'That token was not recognised. Use a read or admin API token of your tenant, or the operator token.',
        401,
      );
    }
    const session = (await codec()).start(principal, now(), ttl);
    setCookie(
      c,
      sessionCookie,
      (await codec()).seal(session),
      cookieOptions(c, '/dashboard', ttl / 1000),
    );
    deleteCookie(c, loginCookie, { path: '/dashboard/login', secure: secure(c) });
    return c.redirect(principal.kind === 'operator' ? '/dashboard/operator' : '/dashboard', 303);
  });
  app.post('/dashboard/logout', requireSession, (c) => {
    deleteCookie(c, sessionCookie, { path: '/dashboard', secure: secure(c) });
    return c.redirect('/dashboard/login?signed_out=1', 303);
  });

  /** The tenant of a tenant session; operators have none and get the operator view instead. */
  const tenantOf = (c: Context<Env>) => {
    const session = c.get('session');
    return session.kind === 'tenant' && session.tenant ? session.tenant : undefined;
  };
  const windowLinks = (current: WindowName, base: string) =>
    windowNames.map((name) => ({
      name,
      href: `${base}?window=${name}`,
      current: name === current,
    }));
  const noticeOf = (c: Context) => notices[c.req.query('notice') ?? ''] ?? null;

  app.get('/dashboard', requireSession, async (c) => {
    const tenant = tenantOf(c);
    if (!tenant) return c.redirect('/dashboard/operator', 303);
    const session = c.get('session');
    const w = timeWindow(parseWindowName(c.req.query('window')), now());
    const [model, row] = await Promise.all([
      overviewView(deps.knex, tenant, w),
      getTenant(deps.knex, tenant),
    ]);
    return page(c, 'overview', {
      chrome: await chrome(`${row?.name ?? tenant} · Dashboard`, session),
      tenant: row?.name ?? tenant,
      window: w.name,
      windowLabel: w.label,
      windows: windowLinks(w.name, '/dashboard'),
      notice: noticeOf(c),
      canDecide: session.scope === 'admin',
      ...model,
    });
  });

  app.get('/dashboard/runs/:id', requireSession, async (c) => {
    const tenant = tenantOf(c);
    const session = c.get('session');
    const model = tenant
      ? await runPageView(deps.knex, tenant, c.req.param('id') ?? '')
      : undefined;
    if (!model) return errorPage(c, 404, 'No run with that id in this tenant.', session);
    return page(c, 'run', { chrome: await chrome(`Run ${model.id}`, session), run: model });
  });

  app.post('/dashboard/approvals/:id/decision', requireSession, async (c) => {
    const tenant = tenantOf(c);
    const session = c.get('session');
    if (!tenant || session.scope !== 'admin') {
      return errorPage(c, 403, 'Deciding approvals needs an admin token of the tenant.', session);
    }
    const form = await c.req.parseBody();
    const decision =
      form.decision === 'approve' || form.decision === 'reject' ? form.decision : undefined;
    if (!decision) return errorPage(c, 400, 'Choose Approve or Reject.', session);
    const code = await decide(deps, tenant, c.req.param('id') ?? '', decision, session.tokenName);
    const w = parseWindowName(typeof form.window === 'string' ? form.window : undefined);
    return c.redirect(`/dashboard?window=${w}&notice=${code}#approvals`, 303);
  });

  app.get('/dashboard/operator', requireSession, async (c) => {
    const session = c.get('session');
    if (session.kind !== 'operator') {
      return errorPage(c, 403, 'The operator view needs the operator token.', session);
    }
    const w = timeWindow(parseWindowName(c.req.query('window')), now());
    return page(c, 'operator', {
      chrome: await chrome('Operator · Dashboard', session),
      window: w.name,
      windowLabel: w.label,
      windows: windowLinks(w.name, '/dashboard/operator'),
      notice: noticeOf(c),
      ...(await operatorView(deps.knex, w)),
    });
  });

  app.post('/dashboard/operator/kill-switch', requireSession, async (c) => {
    const session = c.get('session');
    if (session.kind !== 'operator') {
      return errorPage(c, 403, 'The global kill switch needs the operator token.', session);
    }
    const form = await c.req.parseBody();
    if (form.engaged !== 'on' && form.engaged !== 'off') {
      return errorPage(c, 400, 'Say whether to engage or release the switch.', session);
    }
    const reason = typeof form.reason === 'string' ? form.reason.trim().slice(0, 1000) : '';
    const engaged = form.engaged === 'on';
    const changed = await moveGlobalSwitch(deps, engaged, reason || undefined);
    const code = !changed ? 'kill_unchanged' : engaged ? 'kill_engaged' : 'kill_released';
    return c.redirect(`/dashboard/operator?notice=${code}`, 303);
  });

  return app as unknown as Hono;
}
