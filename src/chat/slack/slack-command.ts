/**
 * `/playbook <text>`: the caller's verified identity and tenant go to `core.command`; an answer ready
 * within the deadline is the ack itself, a slower one is acked "Working on it…" and sent later
 * through the command's response_url.
 */
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import { toWardenError } from '../../errors.js';
import type { ChatCore } from '../core-port.js';
import type { ChatIdentity } from '../port.js';
import type { SlackRender } from './slack-render.js';

export interface PlaybookCommandDeps {
  core: ChatCore;
  render: SlackRender;
  logger: Logger;
  /** How long to wait for the core before acking "Working on it…". @defaultValue 2500 */
  deadlineMs?: number;
}

export const notConnected = 'This Slack workspace is not connected to a Warden tenant.';

/**
 * @example
 * registerPlaybookCommand(app, { core, render: createSlackRender(baseUrl), logger });
 */
export function registerPlaybookCommand(app: App, deps: PlaybookCommandDeps): void {
  const { core, render, logger } = deps;
  const ephemeral = (title: string, tone: 'info' | 'error' | 'warning' = 'error') =>
    render.command({ visibility: 'ephemeral', kind: 'notice', view: { title, lines: [], tone } });

  app.command('/playbook', async ({ command, ack, respond }) => {
    const tenant = core.tenantFor('slack', command.team_id);
    if (tenant === undefined) return ack(ephemeral(notConnected, 'warning'));
    const identity: ChatIdentity = {
      platform: 'slack',
      actor: `slack:${command.user_id}`,
      workspace: command.team_id,
      name: command.user_name,
    };
    const answer = core
      .command(tenant, identity, command.text.trim())
      .then(render.command, (err) => {
        const e = toWardenError(err);
        if (e.code === 'internal' || e.code === 'config_invalid') {
          logger.error({ err: e.cause ?? e, tenant }, 'slack command failed');
          return ephemeral('Warden could not answer that command; the operators have the details.');
        }
        return ephemeral(e.message);
      });

    const first = await withDeadline(answer, deps.deadlineMs ?? 2500);
    if (first !== late) return ack(first);
    await ack(ephemeral('Working on it…', 'info'));
    try {
      await respond(await answer);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      logger.warn({ reason, tenant }, 'slack command answer not delivered');
    }
  });
}

const late = Symbol('late');

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof late> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof late>((resolve) => {
    timer = setTimeout(() => resolve(late), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
