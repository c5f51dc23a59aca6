/**
 * Chat: the composition of the chat pieces for `warden serve` — the core (decisions and commands
 * with verified identities), the Slack adapter when SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are
 * set, the Teams adapter when a tenant configures `chat.teams`, and the notifier that posts each
 * run's thread from the receipts. Bolt and botbuilder load only when used.
 */
import { Hono } from 'hono';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { isLoopback } from '../app.js';
import type { Config } from '../config.js';
import type { Guard } from '../guardrails/decision.js';
import type { Ledger } from '../ledger/ledger.js';
import type { StepCatalog } from '../pipeline/step-context.js';
import type { RunQueue } from '../queue/run-queue.js';
import { createChatCore } from './core.js';
import { type ChatNotifier, createChatNotifier } from './notifier.js';
import type { ChatChannel, Platform } from './port.js';

export interface Chat {
  /** Routes to mount at '/': POST /slack/events, POST /teams/messages (those configured). */
  routes: Hono[];
  /** Waits until what chat was told so far is posted (tests). */
  flush(): Promise<void>;
  /** Flushes, then stops listening (shutdown). */
  close(): Promise<void>;
  /** Posts a report's secure link into the tenant's channels (the `chat` report target). */
  postReportLink: ChatNotifier['postReportLink'];
  /** Posts a notice (internal alerts) into the tenant's channels. */
  postNotice: ChatNotifier['postNotice'];
  /** Posts a playbook's message into its run's thread (`chat.notify`). */
  postRunMessage: ChatNotifier['postRunMessage'];
}

export async function openChat(deps: {
  config: Pick<Config, 'slack' | 'teams' | 'tenants' | 'publicUrl'> & { host?: string };
  knex: Knex;
  ledger: Ledger;
  catalog: StepCatalog;
  guard: Guard;
  queue: RunQueue;
  logger: Logger;
}): Promise<Chat> {
  const { config, logger } = deps;
  const core = createChatCore({ ...deps, tenants: config.tenants });
  const routes: Hono[] = [];
  const channels: Partial<Record<Platform, ChatChannel>> = {};
  const drains: Array<() => Promise<void>> = [];
  const { signingSecret, botToken, apiUrl } = config.slack;
  if (signingSecret && botToken) {
    const { createSlackApp } = await import('./slack/slack-app.js');
    const slack = createSlackApp({
      signingSecret: signingSecret.reveal(),
      botToken: botToken.reveal(),
      ...(apiUrl ? { apiUrl } : {}),
      core,
      logger: logger.child({ chat: 'slack' }),
      baseUrl: config.publicUrl,
    });
    routes.push(slack.app);
    channels.slack = slack.channel;
    drains.push(slack.drain);
  } else if (config.tenants.some((t) => t.chat.slack)) {
    logger.warn('chat.slack is configured but SLACK_SIGNING_SECRET or SLACK_BOT_TOKEN is not set');
  }
  // Without TEAMS_APP_ID, Bot Framework requests are not authenticated: fine on loopback (local
  // runs, tests), never on an address others can reach.
  const anonymousTeams =
    !config.teams.appId && config.host !== undefined && !isLoopback(config.host);
  if (config.tenants.some((t) => t.chat.teams) && anonymousTeams) {
    logger.error(
      'chat.teams is configured but TEAMS_APP_ID is not set: /teams/messages stays off on a non-loopback address (unauthenticated activities could approve steps)',
    );
  } else if (config.tenants.some((t) => t.chat.teams)) {
    // botbuilder costs ~85 MB of memory: it loads on the first activity or post, not at start.
    const teams = onFirstUse('teams', '/teams/messages', async () => {
      const { createTeamsApp } = await import('./teams/teams-app.js');
      return createTeamsApp({
        appId: config.teams.appId,
        appPassword: config.teams.appPassword?.reveal(),
        core,
        logger: logger.child({ chat: 'teams' }),
        groups: (tenant) => config.tenants.find((t) => t.id === tenant)?.chat.teams?.groups ?? {},
        baseUrl: config.publicUrl,
      });
    });
    routes.push(teams.app);
    channels.teams = teams.channel;
    drains.push(teams.drain);
  }
  const notifier = createChatNotifier({
    knex: deps.knex,
    tenants: config.tenants,
    channels,
    logger,
  });
  const unsubscribe =
    Object.keys(channels).length > 0 ? deps.ledger.subscribe(notifier.onReceipts) : () => {};
  const flush = async () => {
    for (const drain of drains) await drain();
    await notifier.drain();
    for (const drain of drains) await drain();
  };
  return {
    routes,
    flush,
    postReportLink: (tenant, view) => notifier.postReportLink(tenant, view),
    postNotice: (tenant, view) => notifier.postNotice(tenant, view),
    postRunMessage: (tenant, runId, message) => notifier.postRunMessage(tenant, runId, message),
    async close() {
      await flush();
      unsubscribe();
    },
  };
}

interface ChatAdapter {
  app: Hono;
  channel: ChatChannel;
  drain(): Promise<void>;
}

/**
 * A chat adapter that loads on first use — its route's first request or its channel's first post —
 * so a process that never talks to that platform never pays for its SDK.
 */
function onFirstUse(
  platform: Platform,
  path: string,
  load: () => Promise<ChatAdapter>,
): ChatAdapter {
  let loading: Promise<ChatAdapter> | undefined;
  const adapter = () => {
    loading ??= load();
    return loading;
  };
  const channel = async () => (await adapter()).channel;
  const app = new Hono();
  app.post(path, async (c) => (await adapter()).app.fetch(c.req.raw));
  return {
    app,
    channel: {
      platform,
      postRunSummary: async (to, view) => (await channel()).postRunSummary(to, view),
      updateRunSummary: async (ref, view) => (await channel()).updateRunSummary(ref, view),
      postApproval: async (thread, view) => (await channel()).postApproval(thread, view),
      updateApproval: async (ref, view) => (await channel()).updateApproval(ref, view),
      postReceipt: async (thread, view) => (await channel()).postReceipt(thread, view),
      postReportLink: async (to, view) => (await channel()).postReportLink(to, view),
      postNotice: async (thread, view) => (await channel()).postNotice(thread, view),
    },
    async drain() {
      if (loading) await (await loading).drain();
    },
  };
}
