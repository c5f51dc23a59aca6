/**
 * createSlackApp: Slack for Warden — Bolt behind `POST /slack/events` on Hono (signed requests only),
 * the `/playbook` command, Approve / Reject clicks, and the ChatChannel that posts run threads.
 */
import { App } from '@slack/bolt';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { WardenError } from '../../errors.js';
import { errorBody } from '../../http/error-handler.js';
import type { ChatCore } from '../core-port.js';
import type { ChatChannel } from '../port.js';
import { boltLogger } from './bolt-logger.js';
import { registerApprovalActions } from './slack-approval.js';
import { createSlackChannel } from './slack-channel.js';
import { registerPlaybookCommand } from './slack-command.js';
import { createSlackGroups } from './slack-groups.js';
import { SlackReceiver } from './slack-receiver.js';
import { createSlackRender } from './slack-render.js';

export interface SlackAppOptions {
  signingSecret: string;
  /** `xoxb-…` */
  botToken: string;
  /** The Web API root, for tests (`http://127.0.0.1:PORT/api/`). @defaultValue 'https://slack.com/api/' */
  apiUrl?: string;
  core: ChatCore;
  logger: Logger;
  /** Milliseconds since the epoch, for signature windows and caches. @defaultValue Date.now */
  now?: () => number;
  /** Warden's public URL, to make the views' relative links absolute. */
  baseUrl?: string;
  /** How long `/playbook` waits for the core before acking "Working on it…". @defaultValue 2500 */
  commandDeadlineMs?: number;
}

export interface SlackApp {
  /** `POST /slack/events`; mount at '/'. */
  app: Hono;
  channel: ChatChannel;
  /** Waits for listener work still running after its ack (tests, shutdown). */
  drain(): Promise<void>;
}

/** Slack's payloads are a few kilobytes; a block_actions payload carries the whole card. */
const maxBodyBytes = 1024 * 1024;

/**
 * @example
 * const slack = createSlackApp({ signingSecret, botToken, core, logger, baseUrl });
 * app.route('/', slack.app);
 * await slack.channel.postRunSummary({ platform: 'slack', channel: 'C0OPS' }, summary);
 */
export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const { core, logger } = opts;
  const now = opts.now ?? Date.now;
  const receiver = new SlackReceiver({ signingSecret: opts.signingSecret, logger, now });
  const bolt = new App({
    receiver,
    token: opts.botToken,
    // Set, so Bolt never calls auth.test. Warden listens to no message events, so ignoreSelf (their
    // only other use) is off and placeholders do no harm.
    botId: 'B_WARDEN',
    botUserId: 'U_WARDEN',
    ignoreSelf: false,
    convoStore: false,
    // A payload's `bot_access_token` (workflow steps) must never replace Warden's own token.
    attachFunctionToken: false,
    logger: boltLogger(logger),
    clientOptions: {
      ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
      // Bolt's default is ten retries over thirty minutes; the queue above retries instead.
      retryConfig: { retries: opts.apiUrl ? 0 : 2 },
      timeout: 10_000,
    },
  });
  bolt.error(async (err) => {
    logger.error({ err, code: err.code }, 'slack listener failed');
  });

  const render = createSlackRender(opts.baseUrl);
  const groups = createSlackGroups({ client: bolt.client, now });
  registerPlaybookCommand(bolt, {
    core,
    render,
    logger,
    ...(opts.commandDeadlineMs === undefined ? {} : { deadlineMs: opts.commandDeadlineMs }),
  });
  const channel = createSlackChannel({ client: bolt.client, render });
  registerApprovalActions(bolt, { core, render, groups, cards: channel, logger });

  const app = new Hono();
  app.post(
    '/slack/events',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        c.json(
          errorBody(new WardenError('payload_too_large', 'The request body is too large.')),
          413,
        ),
    }),
    (c) => receiver.handle(c),
  );
  return {
    app,
    channel,
    drain: () => receiver.drain(),
  };
}
