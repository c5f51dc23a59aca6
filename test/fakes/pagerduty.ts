/**
 * A fake PagerDuty REST API v2 on 127.0.0.1: checks the token, From and Accept headers, keeps
 * incident state and notes, and answers with PagerDuty-shaped bodies and error codes.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeStatus = 'triggered' | 'acknowledged' | 'resolved';

export type FakeNote = { id: string; content: string; by: string; createdAt: string };

export type FakeIncident = {
  id: string;
  number: number;
  title: string;
  status: FakeStatus;
  /** Status changes in order, with the `From` user who made them. */
  changes: { status: FakeStatus; by: string; at: string }[];
  notes: FakeNote[];
};

export type RecordedRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
};

export interface FakePagerDuty {
  /** Base URL to use as `apiUrl`, e.g. `http://127.0.0.1:41235`. */
  url: string;
  token: string;
  requests: RecordedRequest[];
  incidents: Map<string, FakeIncident>;
  addIncident(id: string, title?: string): FakeIncident;
  /** Answers the next request with this status and body (and headers), whatever it is. */
  failNext(status: number, body: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export type FakePagerDutyOptions = { token?: string; users?: string[]; incidents?: string[] };

const accept = 'application/vnd.pagerduty+json;version=2';
const site = 'https://acme.pagerduty.com';

/**
 * Starts the fake with a token, the users allowed in `From`, and triggered incidents.
 * @example
 * const pd = await startFakePagerDuty({ incidents: ['PT4KHLK'] });
 * // settings: { apiUrl: pd.url, from: 'oncall@example.com' }, secrets: { token: pd.token }
 */
export async function startFakePagerDuty(
  options: FakePagerDutyOptions = {},
): Promise<FakePagerDuty> {
  const token = options.token ?? 'pd-test-token';
  const users = new Set(options.users ?? ['oncall@example.com']);
  const incidents = new Map<string, FakeIncident>();
  const requests: RecordedRequest[] = [];
  const failures: { status: number; body: unknown; headers: Record<string, string> }[] = [];
  let sequence = 0;
  const nextId = (prefix: string) =>
    `${prefix}${(++sequence).toString(36).toUpperCase().padStart(6, '0')}`;

  const addIncident = (id: string, title = 'Receipt lag above 30s'): FakeIncident => {
    const incident: FakeIncident = {
      id,
      number: 1000 + incidents.size + 1,
      title,
      status: 'triggered',
      changes: [],
      notes: [],
    };
    incidents.set(id, incident);
    return incident;
  };
  for (const id of options.incidents ?? ['PT4KHLK']) addIncident(id);

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? '';
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    let body: unknown = raw;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // Kept as text; answered below as invalid input.
    }
    requests.push({ method, path, headers: req.headers, body });

    const failure = failures.shift();
    if (failure) {
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
      res.end(typeof failure.body === 'string' ? failure.body : JSON.stringify(failure.body));
      return;
    }
    if (req.headers.authorization !== `Token token=${token}`) {
      return error(res, 401, 2006, 'Authentication failed');
    }
    if (req.headers.accept !== accept) {
      return error(res, 400, 2001, 'Invalid Input Provided', [`Accept must be ${accept}`]);
    }
    const from = req.headers.from;
    if (method !== 'GET') {
      if (!from)
        return error(res, 400, 2011, 'You must specify a requester_id to perform this action');
      if (typeof from !== 'string' || !users.has(from))
        return error(res, 400, 1008, 'Requester User Not Found');
      if (
        !req.headers['content-type']?.startsWith('application/json') ||
        typeof body !== 'object'
      ) {
        return error(res, 400, 2001, 'Invalid Input Provided', ['Request body must be JSON']);
      }
    }

    const match = /^\/incidents\/([A-Za-z0-9]+)(\/notes)?$/.exec(path);
    const incident = match ? incidents.get(match[1] as string) : undefined;
    if (!match || !incident) return error(res, 404, 2100, 'Not Found');
    const by = String(from);
    const now = new Date().toISOString();

    if (!match[2] && method === 'GET') return send(res, 200, { incident: view(incident) });
    if (!match[2] && method === 'PUT') {
      const change = (body as { incident?: { type?: unknown; status?: unknown } } | null)?.incident;
      if (change?.type !== 'incident_reference' && change?.type !== 'incident') {
        return error(res, 400, 2001, 'Invalid Input Provided', [
          'Incident type must be incident_reference',
        ]);
      }
      if (change.status !== 'acknowledged' && change.status !== 'resolved') {
        return error(res, 400, 1003, 'Invalid Status Provided');
      }
      if (incident.status === 'resolved') return error(res, 400, 1001, 'Incident Already Resolved');
      incident.status = change.status;
      incident.changes.push({ status: change.status, by, at: now });
      return send(res, 200, { incident: view(incident) });
    }
    if (match[2] && method === 'POST') {
      const content = (body as { note?: { content?: unknown } } | null)?.note?.content;
      if (typeof content !== 'string' || content.trim() === '') {
        return error(res, 400, 2001, 'Invalid Input Provided', ['Note content cannot be empty']);
      }
      if (content.length > 25_000) {
        return error(res, 400, 2001, 'Invalid Input Provided', [
          'Content is too long (maximum is 25000 characters)',
        ]);
      }
      const note: FakeNote = { id: nextId('PN'), content, by, createdAt: now };
      incident.notes.push(note);
      return send(res, 201, {
        note: {
          id: note.id,
          user: userRef(by),
          channel: { summary: 'The PagerDuty website or APIs' },
          content,
          created_at: now,
        },
      });
    }
    return error(res, 404, 2100, 'Not Found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  function view(incident: FakeIncident) {
    const last = incident.changes.at(-1);
    const acks = incident.changes.filter((c) => c.status === 'acknowledged');
    return {
      id: incident.id,
      type: 'incident',
      summary: `[#${incident.number}] ${incident.title}`,
      self: `${url}/incidents/${incident.id}`,
      html_url: `${site}/incidents/${incident.id}`,
      incident_number: incident.number,
      title: incident.title,
      status: incident.status,
      urgency: 'high',
      incident_key: `key-${incident.id.toLowerCase()}`,
      created_at: '2025-01-01T00:00:00Z',
      updated_at: last?.at ?? '2025-01-01T00:00:00Z',
      last_status_change_at: last?.at ?? '2025-01-01T00:00:00Z',
      last_status_change_by: last ? userRef(last.by) : null,
      service: {
        id: 'PSVC001',
        type: 'service_reference',
        summary: 'Receipts ingest',
        self: `${url}/services/PSVC001`,
        html_url: `${site}/service-directory/PSVC001`,
      },
      assignments:
        incident.status === 'resolved'
          ? []
          : [{ at: '2025-01-01T00:00:00Z', assignee: userRef('oncall@example.com') }],
      acknowledgements:
        incident.status === 'acknowledged'
          ? acks.map((a) => ({ at: a.at, acknowledger: userRef(a.by) }))
          : [],
    };
  }

  return {
    url,
    token,
    requests,
    incidents,
    addIncident,
    failNext(status, body, headers = {}) {
      failures.push({ status, body, headers });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function userRef(email: string) {
  const id = `PU${email
    .split('@')[0]
    ?.toUpperCase()
    .replace(/[^A-Z0-9]/g, '')
    .slice(0, 5)}`;
  return {
    id,
    type: 'user_reference',
    summary: email,
    self: `https://api.pagerduty.com/users/${id}`,
    html_url: `${site}/users/${id}`,
  };
}

function error(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  errors?: string[],
): void {
  send(res, status, { error: errors ? { message, code, errors } : { message, code } });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
