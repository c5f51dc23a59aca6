/** PagerDuty REST API v2 client: incident status changes and notes through the step's fetch. */
import type { StepContext } from '../../sdk/index.js';
import { readSettings } from './settings.js';

export type IncidentStatus = 'acknowledged' | 'resolved';

export type StatusChange = { incident: string; status: string; url: string | null };

export type AddedNote = { incident: string; note: string; created_at: string };

/** A refused or failed request; `code` is PagerDuty's error code when the body carried one. */
export class PagerDutyError extends Error {
  override readonly name = 'PagerDutyError';
  readonly status: number | undefined;
  readonly code: number | undefined;
  readonly retryable: boolean;

  constructor(
    message: string,
    options: { status?: number; code?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.code = options.code;
    const s = options.status ?? 0;
    this.retryable = options.retryable ?? (s >= 500 || s === 429 || s === 408);
  }
}

export interface PagerDutyClient {
  setStatus(incident: string, status: IncidentStatus): Promise<StatusChange>;
  addNote(incident: string, content: string): Promise<AddedNote>;
}

const requestTimeoutMs = 30_000;
/** PagerDuty's codes for "already in that state": the change the step wanted has happened. */
const alreadyCodes: Record<IncidentStatus, number> = { resolved: 1001, acknowledged: 1002 };

/**
 * A client acting as `settings.from` with the tenant's `token` secret (required).
 * @example
 * await createPagerDutyClient(ctx).setStatus('PT4KHLK', 'acknowledged');
 */
export function createPagerDutyClient(
  ctx: Pick<StepContext, 'http' | 'settings' | 'secrets' | 'signal'>,
): PagerDutyClient {
  const { apiUrl, from } = readSettings(ctx.settings);
  const token = ctx.secrets.token;
  if (!token) {
    throw new Error(
      'pagerduty needs the secret "token" (plugins.pagerduty.secrets.token): a REST API key that may write incidents',
    );
  }
  const base = apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;

  async function call(method: string, path: string, body: unknown): Promise<unknown> {
    const url = new URL(path, base);
    let response: Response;
    let text: string;
    try {
      response = await ctx.http(url, {
        method,
        headers: {
          authorization: `Token token=${token}`,
          from,
          accept: 'application/vnd.pagerduty+json;version=2',
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(requestTimeoutMs)]),
      });
      text = await response.text();
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      // Network trouble and timeouts may pass; a host the tenant did not allow will not.
      const message = `PagerDuty at ${url.origin} could not be reached: ${(err as Error)?.message ?? err}`;
      throw new PagerDutyError(message, { retryable: isTransient(err), cause: err });
    }
    if (!response.ok) throw refusal(`${method} /${path}`, response, text);
    try {
      return JSON.parse(text);
    } catch {
      throw new PagerDutyError(
        `PagerDuty answered ${method} /${path} with a body that is not JSON`,
        {
          status: response.status,
        },
      );
    }
  }

  return {
    async setStatus(incident, status) {
      const path = `incidents/${encodeURIComponent(incident)}`;
      try {
        const body = await call('PUT', path, { incident: { type: 'incident_reference', status } });
        const updated = (body as { incident?: { status?: unknown; html_url?: unknown } }).incident;
        return {
          incident,
          status: typeof updated?.status === 'string' ? updated.status : status,
          url: typeof updated?.html_url === 'string' ? updated.html_url : null,
        };
      } catch (err) {
        if (err instanceof PagerDutyError && err.code === alreadyCodes[status]) {
          return { incident, status, url: null };
        }
        throw err;
      }
    },
    async addNote(incident, content) {
      const path = `incidents/${encodeURIComponent(incident)}/notes`;
      const body = await call('POST', path, { note: { content } });
      const note = (body as { note?: { id?: unknown; created_at?: unknown } }).note;
      if (typeof note?.id !== 'string') {
        throw new PagerDutyError(`PagerDuty answered POST /${path} without a note id`);
      }
      const createdAt = typeof note.created_at === 'string' ? note.created_at : '';
      return { incident, note: note.id, created_at: createdAt };
    },
  };
}

/** Network failures and timeouts (also when wrapped, as the step HTTP client does) may pass. */
function isTransient(err: unknown): boolean {
  const e = err as { name?: unknown; cause?: { name?: unknown } } | null;
  return (
    err instanceof TypeError || e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError'
  );
}

/** Turns an error response into a sentence: status, PagerDuty code, message and details. */
function refusal(request: string, response: Response, text: string): PagerDutyError {
  let code: number | undefined;
  let detail = text.slice(0, 200);
  try {
    const { error } = JSON.parse(text) as {
      error?: { message?: string; code?: number; errors?: string[] };
    };
    if (error?.message) {
      code = typeof error.code === 'number' ? error.code : undefined;
      const extra =
        Array.isArray(error.errors) && error.errors.length ? ` (${error.errors.join('; ')})` : '';
      detail = `${code === undefined ? '' : `code ${code} `}${error.message}${extra}`;
    }
  } catch {
    // Not PagerDuty's JSON (a proxy page, say): the raw text is the best we have.
  }
  let hint = '';
  if (response.status === 401) hint = ' — check the pagerduty "token" secret';
  if (response.status === 429) {
    hint = ` — rate limited, retry after ${response.headers.get('retry-after') ?? 'a while'}`;
  }
  const message = `PagerDuty refused ${request}: HTTP ${response.status}, ${detail}${hint}`;
  return new PagerDutyError(message, { status: response.status, code });
}
