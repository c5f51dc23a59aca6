/**
 * Cross-tenant client: how tenant B talks to the app in the cross-tenant suite — its bearer
 * tokens, its dashboard session, its Slack workspace and Teams tenant (signed as each platform
 * signs), and its own hook credentials on another tenant's paths. Every answer carries all B got
 * back: the body (Posture Pack files decoded) and whatever chat posted anywhere because of it.
 */
import { createHmac } from 'node:crypto';
import type { FakeBotConnector } from '../fakes/bot-connector.js';
import { type FakeSlackApi, signSlack, slackClickBody } from '../fakes/slack-api.js';
import type { Answer, CrossTenantContext } from './cross-tenant-cases.js';

/** Where a tenant's chat lives. */
export interface ChatPlace {
  team: string;
  channel: string;
  aad: string;
  conversation: string;
}

export interface TenantClientOptions {
  app: { request(path: string, init?: RequestInit): Response | Promise<Response> };
  /** The client tenant's token of a scope. */
  token(who: 'ingest' | 'read' | 'admin'): string;
  /** Its chat workspace, and its operator there (`U0…` in Slack, the AAD object id in Teams). */
  chat: ChatPlace & { slackUser: string; aadUser: string };
  /** Its own ingest secrets (Standard Webhooks `whsec_…`, PagerDuty). */
  secrets: { whsec: string; pd: string };
  slackSigningSecret: string;
  slack: FakeSlackApi;
  connector: FakeBotConnector;
  /** Waits for runs and for what chat was told of them. */
  idle(): Promise<void>;
}

export type TenantClient = Omit<CrossTenantContext, 'a' | 'b' | 'state'>;

const csrfOf = (html: string) => html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '';
const cookieOf = (res: Response, name: string) =>
  res.headers
    .getSetCookie()
    .find((l) => l.startsWith(`${name}=`))
    ?.split(';')[0] ?? '';

async function answer(res: Response, request: string, extra = ''): Promise<Answer> {
  const type = res.headers.get('content-type') ?? '';
  let text = await res.text();
  const files = type.includes('json') && text.includes('contentBase64') && JSON.parse(text).files;
  if (Array.isArray(files)) {
    // A Posture Pack: every file, decoded.
    text += files
      .map((f: { contentBase64: string }) => Buffer.from(f.contentBase64, 'base64').toString())
      .join('\n');
  }
  return { status: res.status, text: text + extra, request, location: res.headers.get('location') };
}

/**
 * @example
 * const b = createTenantClient({ app, token: (who) => tokens.get('bravo')[who], chat, … });
 * await b.api('read', 'GET', `/runs/${runOfA}`); // { status: 404, text: '…', request: '…' }
 */
export function createTenantClient(o: TenantClientOptions): TenantClient {
  const { app, chat, slack, connector } = o;
  let sequence = 0;

  /** Signs in with a token through the form; the session cookie, and the sign-in's answer. */
  async function signIn(presented: string) {
    const form = await app.request('/dashboard/login');
    const res = await app.request('/dashboard/login', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: cookieOf(form, 'warden_dashboard_login'),
      },
      body: new URLSearchParams({ _csrf: csrfOf(await form.text()), token: presented }),
    });
    return { cookie: cookieOf(res, 'warden_dashboard'), res };
  }
  const sessions = new Map<string, string>();

  /** What chat posted anywhere since `mark`, as text. */
  const chatMark = () => ({
    slack: slack.calls.length,
    responses: slack.responses.length,
    teams: connector.activities.length,
  });
  async function chatSince(mark: ReturnType<typeof chatMark>) {
    await o.idle();
    return JSON.stringify([
      slack.calls.slice(mark.slack).map((c) => c.params),
      slack.responses.slice(mark.responses).map((r) => r.body),
      connector.activities.slice(mark.teams).map((x) => [x.conversationId, x.activity]),
    ]);
  }

  async function postSlack(body: string, request: string): Promise<Answer> {
    const mark = chatMark();
    const res = await app.request('/slack/events', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...signSlack(o.slackSigningSecret, body, Math.floor(Date.now() / 1000)),
      },
      body,
    });
    const text = await res.text();
    return { status: res.status, text: text + (await chatSince(mark)), request };
  }

  /** An activity from the client's Teams tenant, by its operator, in its channel. */
  async function postTeams(over: Record<string, unknown>, request: string): Promise<Answer> {
    const mark = chatMark();
    const activity = {
      type: 'message',
      id: String(1_699_000_000_000 + ++sequence),
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: connector.serviceUrl,
      from: { id: `29:1${chat.aadUser}`, aadObjectId: chat.aadUser, name: chat.aadUser },
      conversation: {
        id: chat.conversation,
        conversationType: 'channel',
        isGroup: true,
        tenantId: chat.aad,
      },
      recipient: { id: '28:warden-bot', name: 'Warden' },
      channelData: { tenant: { id: chat.aad }, channel: { id: chat.conversation } },
      ...over,
    };
    const res = await app.request('/teams/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });
    const text = await res.text();
    return { status: res.status, text: text + (await chatSince(mark)), request };
  }

  /** Credentials the client holds for a hook source, over exactly these body bytes. */
  function hookCredentials(source: string, body: string): Record<string, string> {
    if (source === 'alertmanager' || source === 'grafana') {
      return { authorization: `Bearer ${o.token('ingest')}` };
    }
    if (source === 'pagerduty') {
      return {
        'x-pagerduty-signature': `v1=${createHmac('sha256', o.secrets.pd).update(body).digest('hex')}`,
      };
    }
    const id = `msg_client_${++sequence}`;
    const ts = String(Math.floor(Date.now() / 1000));
    const key = Buffer.from(o.secrets.whsec.slice('whsec_'.length), 'base64');
    const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
    return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` };
  }

  return {
    async api(who, method, path, body) {
      const res = await app.request(`/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${o.token(who)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return answer(res, `${method} ${path} ${JSON.stringify(body ?? null)}`);
    },

    async dashboard(who, method, path, form) {
      if (who === 'none') {
        if (method === 'POST') return answer((await signIn(o.token('read'))).res, 'sign in');
        return answer(await app.request(path), path);
      }
      let cookie = sessions.get(who);
      if (!cookie) {
        cookie = (await signIn(o.token(who))).cookie;
        sessions.set(who, cookie);
      }
      if (method === 'GET') return answer(await app.request(path, { headers: { cookie } }), path);
      const page = await (await app.request('/dashboard', { headers: { cookie } })).text();
      const res = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ ...form, _csrf: csrfOf(page) }),
      });
      return answer(res, `${path} ${JSON.stringify(form)}`);
    },

    slack: (text) =>
      postSlack(
        new URLSearchParams({
          team_id: chat.team,
          channel_id: chat.channel,
          user_id: chat.slackUser,
          user_name: chat.slackUser.toLowerCase(),
          command: '/playbook',
          text,
          api_app_id: 'A0WARDEN',
          response_url: slack.responseUrl(`cmd-${++sequence}`),
          trigger_id: '1.2.3',
        }).toString(),
        text,
      ),

    slackClick(ticket) {
      const body = slackClickBody({
        user: chat.slackUser,
        team: chat.team,
        channel: chat.channel,
        ticket,
        responseUrl: slack.responseUrl(`click-${++sequence}`),
      });
      return postSlack(body, ticket);
    },

    teams: (text) => postTeams({ text: `<at>Warden</at> ${text}` }, text),

    teamsClick: (ticket) =>
      postTeams(
        {
          type: 'invoke',
          name: 'adaptiveCard/action',
          value: {
            action: { type: 'Action.Execute', verb: 'approve', data: { ticket } },
            trigger: 'manual',
          },
        },
        ticket,
      ),

    async hook(tenant, source) {
      const body = JSON.stringify(
        source === 'events/deploys'
          ? { type: 'rollback_requested', data: { service: 'api' } }
          : { version: '4', status: 'firing', alerts: [] },
      );
      const path = `/hooks/${tenant}/${source}`;
      const res = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...hookCredentials(source, body) },
        body,
      });
      return answer(res, path);
    },

    get: async (path) => answer(await app.request(path), path),
  };
}
