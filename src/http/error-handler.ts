/** Error-handler: the one place errors become HTTP answers, in CONTRACT.md's shape. */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { toWardenError, WardenError, type WardenErrorCode } from '../errors.js';

const byStatus: Partial<Record<number, WardenErrorCode>> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'invalid',
  429: 'rate_limited',
  503: 'not_ready',
};

function fromHttpException(err: HTTPException): WardenError {
  const code = byStatus[err.status] ?? 'internal';
  const message =
    err.status === 413 ? 'The request body is too large.' : err.message || code.replace('_', ' ');
  return new WardenError(code, message, { cause: err });
}

export function errorBody(err: WardenError) {
  const message =
    err.code === 'internal' || err.code === 'config_invalid'
      ? 'An internal error occurred.'
      : err.message;
  return { error: { code: err.code, message } };
}

export function createErrorHandler(logger: Logger): ErrorHandler {
  return (thrown, c: Context) => {
    const err = thrown instanceof HTTPException ? fromHttpException(thrown) : toWardenError(thrown);
    if (err.status >= 500 && err.code !== 'not_ready') {
      logger.error(
        { requestId: c.get('requestId'), code: err.code, err: err.cause ?? err },
        'request failed',
      );
    }
    if (err.code === 'rate_limited') c.header('Retry-After', String(err.details ?? 1));
    if (err.code === 'unauthenticated') c.header('WWW-Authenticate', 'Bearer');
    return c.json(errorBody(err), err.status as ContentfulStatusCode);
  };
}

export const notFoundHandler: NotFoundHandler = (c) =>
  c.json(
    {
      error: {
        code: 'not_found',
        message: `No route ${c.req.method} ${new URL(c.req.url).pathname}.`,
      },
    },
    404,
  );
