/**
 * A fake Slack Web API on 127.0.0.1, speaking the wire format Bolt's WebClient uses: `POST
 * /api/<method>`, form-encoded, objects (`blocks`) as JSON strings, `Authorization: Bearer`. It records
 * every call, answers chat.* and usergroups.* like Slack, and takes response_url posts at
 * `/respond/<id>`. `signSlack` signs requests the way Slack does (v0).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackApiCall {
  method: string;
  /** Form fields; JSON-valued ones (`blocks`, `attachments`, `metadata`) parsed. */
  params: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}

export interface RespondCall {
  /** The `<id>` of `/respond/<id>`. */
  id: string;
  body: Record<string, unknown>;
}

export interface SlackUserGroup {
  id: string;
  handle: string;
  /** Member user ids. */
  users: string[];
  /** @defaultValue the fake's team */
  teamId?: string;
}

export interface FakeSlackApi {
  /** Root to give Bolt as `slackApiUrl`: `http://127.0.0.1:PORT/api/`. */
  apiUrl: string;
  /** A response_url for `id`: `http://127.0.0.1:PORT/respond/<id>`. */
  responseUrl(id: string): string;
  token: string;
  calls: SlackApiCall[];
  responses: RespondCall[];
  userGroups: SlackUserGroup[];
  /** Calls of one method. */
  callsTo(method: string): SlackApiCall[];
  /** Answers the next call of `method` with `{ ok: false, error }`. */
  failNext(method: string, error: string): void;
  close(): Promise<void>;
}

export interface FakeSlackApiOptions {
  /** @defaultValue 'xoxb-test-token' */
  token?: string;
  userGroups?: SlackUserGroup[];
}

const jsonFields = new Set(['blocks', 'attachments', 'metadata']);

/**
 * @example
 * const slack = await startFakeSlackApi({ userGroups: [{ id: 'S01', handle: 'oncall', users: ['U1'] }] });
 * createSlackApp({ botToken: slack.token, apiUrl: slack.apiUrl, … });
 */
export async function startFakeSlackApi(options: FakeSlackApiOptions = {}): Promise<FakeSlackApi> {
  const token = options.token ?? 'xoxb-test-token';
  const calls: SlackApiCall[] = [];
  const responses: RespondCall[] = [];
  const userGroups = [...(options.userGroups ?? [])];
  const failures = new Map<string, string>();
  let seq = 0;
  const nextTs = () => `${1_700_000_000 + ++seq}.${String(seq).padStart(6, '0')}`;

  const answer = (method: string, params: Record<string, unknown>): Record<string, unknown> => {
    const failure = failures.get(method);
    if (failure) {
      failures.delete(method);
      return { ok: false, error: failure };
    }
    switch (method) {
      case 'chat.postMessage': {
        if (!params.channel) return { ok: false, error: 'channel_not_found' };
        const ts = nextTs();
        return { ok: true, channel: params.channel, ts, message: { ts, text: params.text } };
      }
      case 'chat.update':
        if (!params.channel || !params.ts) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: params.channel, ts: params.ts, text: params.text };
      case 'usergroups.list':
        return {
          ok: true,
          usergroups: userGroups
            .filter((g) => !params.team_id || (g.teamId ?? params.team_id) === params.team_id)
            .map((g) => ({ id: g.id, handle: g.handle, name: g.handle, team_id: params.team_id })),
        };
      case 'usergroups.users.list': {
        const group = userGroups.find((g) => g.id === params.usergroup);
        return group ? { ok: true, users: group.users } : { ok: false, error: 'no_such_subteam' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };

    const respondId = /^\/respond\/([^/]+)$/.exec(url.pathname)?.[1];
    if (req.method === 'POST' && respondId) {
      responses.push({ id: respondId, body: JSON.parse(raw) as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ok');
    }
    const method = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname)?.[1];
    if (req.method !== 'POST' || !method) return send(404, { ok: false, error: 'not_found' });

    const params: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(raw)) {
      params[key] = jsonFields.has(key) ? JSON.parse(value) : value;
    }
    calls.push({ method, params, headers: req.headers });
    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(200, { ok: false, error: 'invalid_auth' });
    }
    return send(200, answer(method, params));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${base}/api/`,
    responseUrl: (id) => `${base}/respond/${id}`,
    token,
    calls,
    responses,
    userGroups,
    callsTo: (method) => calls.filter((c) => c.method === method),
    failNext: (method, error) => void failures.set(method, error),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * The headers Slack sends with a request: `v0=` HMAC-SHA256 over `v0:<ts>:<body>`.
 * @example
 * const headers = signSlack(secret, body, Math.floor(Date.now() / 1000));
 */
export function signSlack(
  secret: string,
  body: string,
  ts: number,
): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const hex = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${hex}`, 'x-slack-request-timestamp': String(ts) };
}

/** A button click on an approval card, as Slack posts it to `/slack/events` (form-encoded `payload`). */
export function slackClickBody(click: {
  user: string;
  team: string;
  channel: string;
  ticket: string;
  /** The card's message ts. @defaultValue '1700000000.000100' */
  messageTs?: string;
  responseUrl: string;
  /** @defaultValue 'warden_approve' */
  action?: string;
}): string {
  const ts = click.messageTs ?? '1700000000.000100';
  const payload = {
    type: 'block_actions',
    user: { id: click.user, username: click.user.toLowerCase(), team_id: click.team },
    api_app_id: 'A0WARDEN',
    container: { type: 'message', message_ts: ts, channel_id: click.channel },
    team: { id: click.team, domain: click.team.toLowerCase() },
    channel: { id: click.channel, name: 'ops' },
    message: { type: 'message', ts, text: 'needs approval' },
    response_url: click.responseUrl,
    trigger_id: '4.5.6',
    actions: [
      {
        type: 'button',
        block_id: 'warden_ticket',
        action_id: click.action ?? 'warden_approve',
        value: JSON.stringify({ ticket: click.ticket }),
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
