/** http.request: one HTTP call with a JSON body to a host the tenant allowed. */
import { defineStep, z } from '../../../sdk/index.js';
import { sendJson } from '../client.js';

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Set by Warden or by the transport; a playbook may not override them. */
const reservedHeaders = [
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'idempotency-key',
];

const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name')
  .refine((name) => !reservedHeaders.includes(name.toLowerCase()), {
    error: (issue) => `header ${String(issue.input)} is set by Warden and may not be overridden`,
  });

// What an HTTP field value may carry (RFC 9110: tab, visible ASCII, space, obs-text), so that a
// label is sent as it is or refused here — never cut at CR/LF, never failing the request later.
const headerValue = z
  .string()
  .max(8192)
  .refine((value) => !/[\r\n\0]/.test(value), 'a header value may not contain CR, LF or NUL')
  .refine(
    (value) => /^[\t\x20-\x7e\x80-\xff]*$/.test(value),
    'a header value may contain only tab, printable ASCII and Latin-1 characters',
  );

/** The path of a URL as written, before parsing resolves `.`/`..` segments and drops controls. */
const rawPath = (url: string) =>
  url.replace(/^[a-z][a-z\d+.-]*:[/\\]*[^/\\?#]*/i, '').split(/[?#]/, 1)[0] ?? '';
/** A `.` or `..` segment, also written `%2e` or after a backslash, as URL parsing resolves them. */
const dotSegment = /(?:^|[/\\])(?:\.|%2e){1,2}(?=$|[/\\])/i;

// Checked as written, before URL parsing drops CR/LF/tab or resolves `..` segments.
const httpUrl = z
  .string()
  .max(8192, 'a URL is at most 8192 characters (servers refuse longer request lines)')
  .refine(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    (url) => !/[\u0000-\u001f\u007f]/.test(url),
    'a URL may not contain control characters (parsing would drop or alter them)',
  )
  .refine(
    (url) => !dotSegment.test(rawPath(url)),
    'a URL may not contain "." or ".." path segments (a value could walk out of the path written)',
  )
  .pipe(
    z
      .url({ protocol: /^https?$/, error: 'expected an absolute http:// or https:// URL' })
      .refine((url) => {
        if (!URL.canParse(url)) return true; // reported by the check above
        const { username, password } = new URL(url);
        return username === '' && password === '';
      }, 'credentials may not be written in the URL (they would land in receipts)'),
  );

const input = z
  .strictObject({
    method: z.enum(methods).default('POST'),
    url: httpUrl,
    headers: z.record(headerName, headerValue).optional(),
    body: z.json().optional(),
    /** Statuses that count as success. @defaultValue any 2xx */
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  })
  .refine((i) => i.method !== 'GET' || i.body === undefined, {
    path: ['body'],
    message: 'a GET request has no body',
  });

function expected(status: number, expectStatus: number[] | undefined): boolean {
  return expectStatus ? expectStatus.includes(status) : status >= 200 && status < 300;
}

/**
 * Sends one request; fails on an unexpected status.
 * @example
 * // playbook: uses: http.request
 * //   with: { method: POST, url: "https://ingest.internal/admin/restart", body: { shard: 3 } }
 */
export const request = defineStep({
  description: 'Sends one HTTP request with a JSON body and checks the status it answers.',
  input,
  risk: 'write',
  reversible: false,
  targets: (i) => {
    const url = new URL(i.url);
    return [`${url.origin}${url.pathname}`];
  },
  cost: () => 1,
  simulate: (_ctx, i) => ({
    summary: `${i.method} ${i.url}`,
    effects: [{ method: i.method, url: i.url, ...(i.body === undefined ? {} : { body: i.body }) }],
  }),
  async execute(ctx, i) {
    const answer = await sendJson(ctx.http, {
      method: i.method,
      url: i.url,
      headers: i.headers,
      body: i.body,
      idempotencyKey: ctx.idempotencyKey,
      signal: ctx.signal,
    });
    if (!expected(answer.status, i.expectStatus)) {
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      const want = i.expectStatus?.join(', ') ?? '2xx';
      const excerpt = text ? `: ${text.slice(0, 200)}` : '';
      throw new Error(`${i.method} ${i.url} answered ${answer.status}, expected ${want}${excerpt}`);
    }
    return answer;
  },
});
