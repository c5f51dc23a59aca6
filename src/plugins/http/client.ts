/** Client: sends one JSON request through the step's HTTP client and reads a bounded answer. */
import type { HttpClient, Json } from '../../sdk/index.js';

/** The most of an answer kept in a step's output (and so in its receipt). */
export const maxAnswerBytes = 64 * 1024;

export interface JsonRequest {
  method: string;
  url: string;
  headers?: Record<string, string> | undefined;
  body?: Json | undefined;
  idempotencyKey: string;
  signal: AbortSignal;
}

export type JsonAnswer = {
  status: number;
  /** Parsed when the answer is JSON and whole; otherwise its text, cut at 64 KiB. */
  body: Json;
  truncated: boolean;
};

/** Reads at most `limit` bytes of the body as text, never splitting a UTF-8 character. */
async function readBounded(response: Response, limit: number) {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size <= limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  const truncated = size > limit;
  if (truncated) await reader.cancel();
  const bytes = Buffer.concat(chunks).subarray(0, limit);
  return { text: new TextDecoder().decode(bytes, { stream: truncated }), truncated };
}

function isJson(response: Response): boolean {
  const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

function parsed(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/**
 * Sends `body` as JSON with the step's idempotency key; answers with the status and the body.
 * @example
 * const answer = await sendJson(ctx.http, { method: 'POST', url, body: { shard: 3 },
 *   idempotencyKey: ctx.idempotencyKey, signal: ctx.signal });
 */
export async function sendJson(http: HttpClient, request: JsonRequest): Promise<JsonAnswer> {
  const headers = new Headers(request.headers);
  headers.set('idempotency-key', request.idempotencyKey);
  if (!headers.has('accept')) headers.set('accept', 'application/json, text/*;q=0.9, */*;q=0.8');
  const hasBody = request.body !== undefined;
  if (hasBody && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const response = await http(request.url, {
    method: request.method,
    headers,
    body: hasBody ? JSON.stringify(request.body) : null,
    signal: request.signal,
  });
  const { text, truncated } = await readBounded(response, maxAnswerBytes);
  const json = isJson(response) && !truncated && text !== '';
  return { status: response.status, body: json ? parsed(text) : text, truncated };
}
