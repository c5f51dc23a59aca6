import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { TenantConfig } from '../config.js';
import { openChat } from './chat.js';
import { createChatCore } from './core.js';

const tenant = (id: string, chat: Partial<TenantConfig['chat']>) =>
  ({ id, chat: { operators: [], ...chat } }) as unknown as TenantConfig;
const teams = {
  tenantId: 'aad-1',
  serviceUrl: 'http://127.0.0.1:9/',
  conversationId: 'c',
  groups: {},
};
// Neither opening chat nor creating the core touches these until a request arrives.
const unused = {
  knex: {},
  ledger: { subscribe: () => () => {} },
  catalog: new Map(),
  guard: {},
  queue: {},
} as never;
const logger = pino({ level: 'silent' });

describe('chat composition', () => {
  it('refuses two tenants claiming one workspace', () => {
    expect(() =>
      createChatCore({
        ...(unused as object),
        logger,
        tenants: [
          tenant('a', { slack: { teamId: 'T1', channel: 'C1' } }),
          tenant('b', { slack: { teamId: 'T1', channel: 'C2' } }),
        ],
      } as never),
    ).toThrow(/both claim the chat workspace slack:T1/);
  });

  it('keeps unauthenticated Teams off a non-loopback address, and on for loopback', async () => {
    const config = (host: string) => ({
      host,
      publicUrl: 'http://x',
      slack: {},
      teams: {},
      tenants: [tenant('a', { teams })],
    });
    const open = await openChat({
      ...(unused as object),
      logger,
      config: config('0.0.0.0'),
    } as never);
    expect(open.routes).toHaveLength(0);
    const local = await openChat({
      ...(unused as object),
      logger,
      config: config('127.0.0.1'),
    } as never);
    expect(local.routes).toHaveLength(1);
  });
});
