/**
 * Slack receiver on Hono: Bolt's `Receiver` for a fetch-style handler. It reads the raw body, checks
 * Slack's signature, answers `ssl_check` and `url_verification` itself, and hands everything else to
 * `app.processEvent`, answering HTTP as soon as a listener calls `ack()` while the listener goes on.
 */
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { ReceiverMultipleAckError } from '@slack/bolt';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { WardenError } from '../../errors.js';
import { errorBody } from '../../http/error-handler.js';
import { slackSignatureProblem } from './slack-signature.js';

export interface SlackReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Milliseconds since the epoch. @defaultValue Date.now */
  now?: () => number;
  /** How long a listener may take to ack before Slack gets an empty 200. @defaultValue 3001 */
  unackedAfterMs?: number;
}

/** What `ack()` was given: nothing (empty 200), a text, or a JSON message. */
type AckBody = { response: unknown } | { unhandled: true };

const signatureFailure = 'The request is not signed by Slack, or its signature has expired.';

export class SlackReceiver implements Receiver {
  #app: App | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #options: SlackReceiverOptions;

  constructor(options: SlackReceiverOptions) {
    this.#options = options;
  }

  init(app: App): void {
    this.#app = app;
  }

  /** Hono owns the socket: nothing to start. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {
    await this.drain();
  }

  /** Waits for every listener still working after its ack (and for ones started meanwhile). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** The Hono handler for `POST /slack/events`. */
  async handle(c: Context): Promise<Response> {
    const { logger } = this.#options;
    const rawBody = await c.req.text();
    const form = mediaType(c.req.header('content-type')) === 'application/x-www-form-urlencoded';
    // Slack's certificate probe carries nothing and needs no signature (as in Bolt ≥ 4.7.2).
    if (form && new URLSearchParams(rawBody).get('ssl_check') === '1') return c.body(null, 200);

    const problem = slackSignatureProblem({
      signingSecret: this.#options.signingSecret,
      rawBody,
      signature: c.req.header('x-slack-signature'),
      timestamp: c.req.header('x-slack-request-timestamp'),
      nowMs: (this.#options.now ?? Date.now)(),
    });
    if (problem) {
      logger.info({ reason: problem }, 'slack request refused');
      return fail(c, new WardenError('unauthenticated', signatureFailure));
    }

    const body = parseBody(rawBody, form, c.req.header('content-type'));
    if (body instanceof WardenError) return fail(c, body);
    if (body.type === 'url_verification') return c.json({ challenge: body.challenge });

    const answer = await this.#dispatch(body, c);
    if ('unhandled' in answer) {
      return fail(c, new WardenError('not_found', 'Warden has no handler for this Slack request.'));
    }
    const { response } = answer;
    if (response === undefined || response === null || response === '') return c.body(null, 200);
    if (typeof response === 'string') return c.text(response);
    return c.json(response);
  }

  /** Runs Bolt's listeners; resolves at the first `ack()` while the listener may continue. */
  #dispatch(body: Record<string, unknown>, c: Context): Promise<AckBody> {
    const app = this.#app;
    if (!app) throw new Error('SlackReceiver used before App.init');
    const { logger } = this.#options;
    return new Promise<AckBody>((resolve) => {
      /** `ack()` was called; the HTTP answer was given (by the ack, the timer or the end). */
      let acked = false;
      let answered = false;
      const answer = (result: AckBody) => {
        answered = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => {
        logger.warn('slack request not acknowledged within 3 seconds');
        answer({ response: undefined });
      }, this.#options.unackedAfterMs ?? 3001);
      const retryNum = Number(c.req.header('x-slack-retry-num'));
      const retryReason = c.req.header('x-slack-retry-reason');
      const event: ReceiverEvent = {
        body,
        ack: async (response?: unknown) => {
          if (acked) throw new ReceiverMultipleAckError();
          acked = true;
          if (answered) logger.warn('slack request acknowledged after Slack was answered');
          else answer({ response });
        },
        ...(Number.isInteger(retryNum) ? { retryNum } : {}),
        ...(retryReason ? { retryReason } : {}),
      };
      const work = app
        .processEvent(event)
        .catch((err: unknown) => logger.error({ err }, 'slack listener failed'))
        .finally(() => {
          this.#inFlight.delete(work);
          if (!answered) answer({ unhandled: true });
        });
      this.#inFlight.add(work);
    });
  }
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Form bodies (commands; `payload=` JSON for interactivity) or JSON (Events API). */
function parseBody(
  raw: string,
  form: boolean,
  contentType: string | undefined,
): Record<string, unknown> | WardenError {
  try {
    if (form) {
      const params = new URLSearchParams(raw);
      const payload = params.get('payload');
      return payload === null ? Object.fromEntries(params) : asObject(JSON.parse(payload));
    }
    if (mediaType(contentType) === 'application/json') return asObject(JSON.parse(raw));
  } catch {
    return new WardenError('bad_request', 'The Slack request body could not be parsed.');
  }
  return new WardenError(
    'unsupported_media_type',
    'Slack requests are form-encoded or JSON; this one is neither.',
  );
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('not an object');
  }
  return value as Record<string, unknown>;
}

function fail(c: Context, err: WardenError): Response {
  return c.json(errorBody(err), err.status as ContentfulStatusCode);
}
