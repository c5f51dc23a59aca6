/**
 * A fake Bot Framework connector (the service behind a Teams serviceUrl) on 127.0.0.1: send to a
 * conversation, reply to an activity, update an activity — each answered `{ id }` and recorded
 * with its decoded conversation id, as botframework-connector calls them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ConnectorCall = 'send' | 'reply' | 'update';

export interface RecordedActivity {
  call: ConnectorCall;
  method: 'POST' | 'PUT';
  /** Decoded, e.g. `19:ops@thread.tacv2;messageid=1700000000001`. */
  conversationId: string;
  /** The activity replied to (reply) or replaced (update). */
  activityId?: string;
  /** The id the connector answered with. */
  id: string;
  /** The path prefix before /v3 (Teams' region, e.g. `/amer`). */
  prefix: string;
  authorization: string | undefined;
  activity: Record<string, unknown>;
}

export interface FakeBotConnector {
  /** Base URL, e.g. `http://127.0.0.1:41235`. */
  url: string;
  /** A Teams-like service URL under the base: `<url>/amer/`. */
  serviceUrl: string;
  activities: RecordedActivity[];
  /** The Adaptive Cards in every recorded activity, in order. */
  cards(): unknown[];
  /** Answers the next `times` requests with this status, whatever they are. @defaultValue 1 */
  failNext(status: number, times?: number): void;
  close(): Promise<void>;
}

const route = /^(.*)\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/;

/**
 * @example
 * const connector = await startFakeBotConnector();
 * // activity.serviceUrl = connector.serviceUrl; … connector.activities[0].call === 'reply'
 */
export async function startFakeBotConnector(): Promise<FakeBotConnector> {
  const activities: RecordedActivity[] = [];
  const failures: number[] = [];
  let sequence = 0;

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const failure = failures.shift();
    if (failure !== undefined) return answer(failure, { error: { code: 'ServiceError' } });

    const match = route.exec(new URL(req.url ?? '/', 'http://connector').pathname);
    const method = req.method;
    if (!match || (method !== 'POST' && method !== 'PUT') || (method === 'PUT' && !match[3])) {
      return answer(404, { error: { code: 'NotFound', message: `${method} ${req.url}` } });
    }
    let activity: Record<string, unknown>;
    try {
      activity = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(400, { error: { code: 'BadArgument', message: 'Invalid JSON' } });
    }
    const activityId = match[3] === undefined ? undefined : decodeURIComponent(match[3]);
    const call: ConnectorCall = method === 'PUT' ? 'update' : activityId ? 'reply' : 'send';
    const id = call === 'update' ? (activityId as string) : String(1_700_000_000_000 + ++sequence);
    activities.push({
      call,
      method,
      conversationId: decodeURIComponent(match[2] as string),
      ...(activityId === undefined ? {} : { activityId }),
      id,
      prefix: match[1] ?? '',
      authorization: req.headers.authorization,
      activity,
    });
    answer(call === 'send' ? 201 : 200, { id });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    serviceUrl: `${url}/amer/`,
    activities,
    cards: () =>
      activities.flatMap(({ activity }) =>
        ((activity.attachments ?? []) as Array<{ contentType?: string; content?: unknown }>)
          .filter((a) => a.contentType === 'application/vnd.microsoft.card.adaptive')
          .map((a) => a.content),
      ),
    failNext: (status, times = 1) => {
      for (let i = 0; i < times; i++) failures.push(status);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
