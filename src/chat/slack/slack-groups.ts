/**
 * Slack user groups for `group:<handle>` approvers: handle → id (`usergroups.list`) and members
 * (`usergroups.users.list`), each cached for a minute per team, so a burst of clicks costs two calls.
 */
import type { App } from '@slack/bolt';
import { slackCall } from './slack-call.js';

type SlackClient = App['client'];

export interface SlackGroupsOptions {
  client: SlackClient;
  /** Milliseconds since the epoch. @defaultValue Date.now */
  now?: () => number;
  /** @defaultValue 60_000 */
  ttlMs?: number;
}

export interface SlackGroups {
  /**
   * The entries of `groups` (`group:<handle>` or a bare handle) whose Slack user group in `teamId`
   * contains `userId`, as given. Unknown handles contain nobody.
   */
  groupsOf(teamId: string, userId: string, groups: string[]): Promise<string[]>;
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/**
 * @example
 * const groups = createSlackGroups({ client: app.client });
 * await groups.groupsOf('T0ACME', 'U012AB3CD', ['group:oncall-ingest']); // ['group:oncall-ingest']
 */
export function createSlackGroups(options: SlackGroupsOptions): SlackGroups {
  const { client } = options;
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? 60_000;
  const cache = new Map<string, Cached<unknown>>();

  /** One in-flight call per key; failures are not cached. */
  function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.value as Promise<T>;
    const value = load();
    cache.set(key, { at: now(), value });
    value.catch(() => {
      if (cache.get(key)?.value === value) cache.delete(key);
    });
    return value;
  }

  const handles = (teamId: string) =>
    cached(`${teamId}\0handles`, async () => {
      const res = await slackCall('usergroups.list', () =>
        client.usergroups.list({ team_id: teamId }),
      );
      return new Map(
        (res.usergroups ?? []).flatMap((g) => (g.handle && g.id ? [[g.handle, g.id]] : [])),
      );
    });

  const members = (teamId: string, groupId: string) =>
    cached(`${teamId}\0members\0${groupId}`, async () => {
      const res = await slackCall('usergroups.users.list', () =>
        client.usergroups.users.list({ team_id: teamId, usergroup: groupId }),
      );
      return new Set(res.users ?? []);
    });

  return {
    async groupsOf(teamId, userId, groups) {
      if (groups.length === 0) return [];
      const ids = await handles(teamId);
      const found = await Promise.all(
        groups.map(async (entry) => {
          const id = ids.get(entry.replace(/^group:/, ''));
          return id !== undefined && (await members(teamId, id)).has(userId) ? [entry] : [];
        }),
      );
      return found.flat();
    },
  };
}
