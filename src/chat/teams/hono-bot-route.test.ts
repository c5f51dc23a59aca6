import {
  ActivityTypes,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type TurnContext,
} from 'botbuilder';
import { Hono } from 'hono';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { botRoute } from './hono-bot-route.js';

const logger = pino({ level: 'silent' });

function route(logic: (context: TurnContext) => Promise<void>, appId = '') {
  const adapter = new CloudAdapter(
    new ConfigurationBotFrameworkAuthentication({ MicrosoftAppId: appId }),
  );
  const app = new Hono();
  const turns: string[] = [];
  const track = <T>(work: Promise<T>) => work;
  app.post(
    '/teams/messages',
    botRoute({
      adapter,
      logic: async (context) => {
        turns.push(context.activity.type);
        await logic(context);
      },
      authRequired: appId !== '',
      logger,
      track,
    }),
  );
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.request('/teams/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { post, turns };
}

const invoke = {
  type: 'invoke',
  name: 'adaptiveCard/action',
  id: 'a1',
  channelId: 'msteams',
  serviceUrl: 'http://127.0.0.1:9/amer/',
  conversation: { id: '19:ops@thread.tacv2' },
  from: { id: '29:1alice' },
  recipient: { id: '28:bot' },
  value: { action: { type: 'Action.Execute', verb: 'approve', data: { ticket: 't1' } } },
};

describe('botRoute', () => {
  it('answers with the invoke response the turn set', async () => {
    const body = {
      statusCode: 200,
      type: 'application/vnd.microsoft.activity.message',
      value: 'ok',
    };
    const { post } = route(async (context) => {
      await context.sendActivity({
        type: ActivityTypes.InvokeResponse,
        value: { status: 200, body },
      });
    });
    const res = await post(invoke);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(body);
  });

  it('refuses a body that is not JSON or not an activity, in the error shape', async () => {
    const { post, turns } = route(async () => {});
    const notJson = await post('{"type":');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const noType = await post({ text: 'list' });
    expect(noType.status).toBe(400);
    expect(await noType.json()).toMatchObject({ error: { code: 'bad_request' } });
    expect((await post([invoke])).status).toBe(400);
    expect(turns).toEqual([]);
  });

  it('requires a Bearer JWT when an app id is configured, before any turn runs', async () => {
    const { post, turns } = route(async () => {}, 'warden-app-id');
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer not-a-jwt' },
      { authorization: 'Basic a.b.c' },
    ]) {
      const res = await post(invoke, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toEqual({
        error: { code: 'unauthenticated', message: 'A valid Bot Framework token is required.' },
      });
    }
    expect(turns).toEqual([]);
  });

  it('hides what a failing turn threw', async () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const { post } = route(async () => {
        throw new Error('db password is hunter2');
      });
      const res = await post(invoke);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'internal' } });
      expect(text).not.toContain('hunter2');
    } finally {
      quiet.mockRestore();
    }
  });
});
