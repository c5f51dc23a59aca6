/**
 * Teams app: the Microsoft Teams adapter of the chat port — `POST /teams/messages` (botbuilder's
 * CloudAdapter on Hono) and the proactive ChatChannel. Every botbuilder import stays in
 * src/chat/teams/, so a move to the Microsoft 365 Agents SDK is local to this folder.
 */
import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { WardenError } from '../../errors.js';
import { errorBody } from '../../http/error-handler.js';
import type { ChatCore } from '../core-port.js';
import type { ChatChannel } from '../port.js';
import { botRoute } from './hono-bot-route.js';
import { createTeamsChannel } from './teams-channel.js';
import { createTurnLogic } from './teams-turn.js';

export interface TeamsAppOptions {
  /** The Azure Bot's app id (`TEAMS_APP_ID`). Absent: anonymous, for local runs and tests only. */
  appId?: string | undefined;
  /** `TEAMS_APP_PASSWORD`: the client secret used for outbound calls. */
  appPassword?: string | undefined;
  core: ChatCore;
  logger: Logger;
  /** A tenant's `chat.teams.groups`: group name → AAD object ids. */
  groups: (tenant: string) => Readonly<Record<string, readonly string[]>>;
  /** Warden's public base URL: relative links in cards are made absolute with it, else left out. */
  baseUrl?: string | undefined;
}

export interface TeamsApp {
  /** Serves `POST /teams/messages`; mounted at '/'. */
  app: Hono;
  channel: ChatChannel;
  /** Resolves once every inbound turn and outbound post under way has finished. */
  drain(): Promise<void>;
}

/** Activities are a few kilobytes; cards sent back by Action.Submit stay well under this. */
const maxActivityBytes = 512 * 1024;

/**
 * @example
 * const teams = createTeamsApp({ appId: config.teams.appId, appPassword, core, logger, groups });
 * app.route('/', teams.app);
 * await chatCore.notify(teams.channel);
 */
export function createTeamsApp(opts: TeamsAppOptions): TeamsApp {
  const appId = opts.appId || undefined;
  const adapter = new CloudAdapter(
    new ConfigurationBotFrameworkAuthentication({
      MicrosoftAppId: appId ?? '',
      MicrosoftAppPassword: opts.appPassword ?? '',
      MicrosoftAppType: 'MultiTenant',
    }),
  );
  if (!appId) {
    opts.logger.warn(
      'teams: no TEAMS_APP_ID, so /teams/messages accepts unauthenticated activities',
    );
  }

  const pending = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    pending.add(settled);
    void settled.then(() => pending.delete(settled));
    return work;
  };

  const { core, logger, groups, baseUrl } = opts;
  const logic = createTurnLogic({ core, logger, groups, baseUrl });
  const app = new Hono();
  app.post(
    '/teams/messages',
    bodyLimit({
      maxSize: maxActivityBytes,
      onError: (c) =>
        c.json(errorBody(new WardenError('payload_too_large', 'The activity is too large.')), 413),
    }),
    botRoute({ adapter, logic, authRequired: appId !== undefined, logger: opts.logger, track }),
  );

  return {
    app,
    channel: createTeamsChannel({ adapter, appId, track, baseUrl }),
    async drain() {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
