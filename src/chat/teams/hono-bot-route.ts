/**
 * Hono bot route: hosts botbuilder's `CloudAdapter.process` on a Hono handler through a minimal
 * req/res shim, so invoke responses (Action.Execute) come back as the HTTP answer, and maps
 * authentication and malformed requests to Warden's error JSON.
 */
import type { CloudAdapter, TurnContext } from 'botbuilder';
import type { Context, Handler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { WardenError } from '../../errors.js';
import { errorBody } from '../../http/error-handler.js';

export interface BotRouteOptions {
  adapter: CloudAdapter;
  logic: (context: TurnContext) => Promise<void>;
  /** True when an app id is configured: a Bot Framework JWT is then required. */
  authRequired: boolean;
  logger: Logger;
  /** Called with each turn's promise, so shutdown can wait for it. */
  track: <T>(work: Promise<T>) => Promise<T>;
}

/** What `CloudAdapter.process` wrote into the response shim. */
interface ShimResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The four methods botbuilder's `ResponseT` check wants, recording instead of writing. */
function responseShim() {
  const result: ShimResult = { status: 200, headers: {}, body: undefined };
  const res = {
    socket: null,
    status(code: number) {
      result.status = code;
      return res;
    },
    header(name: string, value: unknown) {
      result.headers[name] = String(value);
      return res;
    },
    send(body: unknown) {
      result.body = body;
      return res;
    },
    end() {
      return res;
    },
  };
  return { res, result };
}

/** A compact JWS (header.payload.signature); anything else is refused before botbuilder runs. */
const bearerJwt = /^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function fail(c: Context, err: WardenError) {
  if (err.code === 'unauthenticated') c.header('WWW-Authenticate', 'Bearer');
  return c.json(errorBody(err), err.status as ContentfulStatusCode);
}

const unauthenticated = () =>
  new WardenError('unauthenticated', 'A valid Bot Framework token is required.');

/**
 * @example
 * app.post('/teams/messages', botRoute({ adapter, logic, authRequired: true, logger, track }));
 */
export function botRoute(opts: BotRouteOptions): Handler {
  return async (c) => {
    const authorization = c.req.header('authorization') ?? '';
    // Checked here too so that absent or garbage tokens cost nothing (botbuilder would also
    // refuse them, after printing the error to the console).
    if (opts.authRequired && !bearerJwt.test(authorization)) return fail(c, unauthenticated());
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return fail(c, new WardenError('invalid_json', 'The body is not valid JSON.'));
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return fail(c, new WardenError('bad_request', 'The body is not a Bot Framework activity.'));
    }
    const req = {
      method: 'POST',
      headers: { authorization },
      body: body as Record<string, unknown>,
    };
    const { res, result } = responseShim();
    let turned = false;
    const logic = (context: TurnContext) => {
      turned = true;
      return opts.logic(context);
    };
    try {
      await opts.track(opts.adapter.process(req, res, logic));
    } catch (err) {
      // process() validates the activity before its own try/catch: a missing type lands here.
      opts.logger.info({ err }, 'teams: malformed activity refused');
      return fail(c, new WardenError('bad_request', 'The body is not a Bot Framework activity.'));
    }
    if (result.status === 401) {
      opts.logger.info({ reason: result.body }, 'teams: activity with an invalid token refused');
      return fail(c, unauthenticated());
    }
    // botbuilder answers 500, not 401, when the token's signature does not verify (jsonwebtoken's
    // errors are not AuthenticationErrors) or its keys cannot be fetched: a request that never
    // reached the turn was not authenticated.
    if (result.status === 500 && opts.authRequired && !turned) {
      opts.logger.warn(
        { reason: result.body },
        'teams: activity whose token did not verify refused',
      );
      return fail(c, unauthenticated());
    }
    if (result.status === 500) {
      opts.logger.error({ status: result.status, reason: result.body }, 'teams: turn failed');
      return fail(c, new WardenError('internal', 'An internal error occurred.'));
    }
    if (result.status === 400) {
      return fail(c, new WardenError('bad_request', 'The body is not a Bot Framework activity.'));
    }
    for (const [name, value] of Object.entries(result.headers)) c.header(name, value);
    const status = result.status as ContentfulStatusCode;
    if (result.body === undefined) return c.body(null, status);
    if (typeof result.body === 'string') return c.text(result.body, status);
    return c.json(result.body, status);
  };
}
