/** JSON body: reads a webhook body once, within limits, keeping its exact bytes for signatures. */
import { WardenError } from '../errors.js';

export interface JsonBodyLimits {
  /**
   * Largest body accepted, in bytes; a larger one is refused with `payload_too_large`.
   * @defaultValue 1_048_576 (1 MiB)
   */
  maxBytes?: number;
  /**
   * Deepest nesting of objects and arrays accepted (`[]` is depth 1, `[[]]` depth 2).
   * @defaultValue 32
   */
  maxDepth?: number;
  /**
   * Most object keys plus array elements accepted, counted over the whole document.
   * @defaultValue 10_000
   */
  maxKeys?: number;
}

export interface JsonBody {
  /** The body exactly as received: verify HMAC signatures over these bytes, never re-serialise. */
  raw: Buffer;
  /** The parsed document, without `__proto__`, `constructor` or `prototype` keys. */
  value: unknown;
}

const defaultLimits = { maxBytes: 1024 * 1024, maxDepth: 32, maxKeys: 10_000 } as const;

const expected = 'expected application/json (or application/*+json)';
const jsonMediaType = /^application\/(?:[a-z0-9!#$%&'*.^_`|~+-]+\+)?json$/;
const unsafeKeys = new Set(['__proto__', 'constructor', 'prototype']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and parses a JSON request body, refusing wrong media types, oversized bodies (before or
 * while reading), malformed JSON or UTF-8, and documents nested or sized beyond the limits.
 *
 * Throws a {@link WardenError}: `unsupported_media_type`, `payload_too_large`, `invalid_json`,
 * `invalid` (a limit on depth or keys) or `bad_request` (the body stream failed).
 *
 * @example
 * const { raw, value } = await readJsonBody(c.req.raw, { maxBytes: 256 * 1024 });
 * verifySignature(raw, c.req.header('x-pagerduty-signature'));
 */
export async function readJsonBody(
  request: Request,
  limits: JsonBodyLimits = {},
): Promise<JsonBody> {
  const maxBytes = limits.maxBytes ?? defaultLimits.maxBytes;
  const maxDepth = limits.maxDepth ?? defaultLimits.maxDepth;
  const maxKeys = limits.maxKeys ?? defaultLimits.maxKeys;

  assertJsonContentType(request.headers.get('content-type'));
  const declared = request.headers.get('content-length')?.trim();
  if (declared && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge(maxBytes);

  const raw = await readAtMost(request, maxBytes);
  if (raw.length === 0) {
    throw new WardenError('invalid_json', 'The request body is empty; expected a JSON document.');
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch (cause) {
    throw new WardenError('invalid_json', 'The request body is not valid UTF-8.', { cause });
  }
  assertWithinShape(text, maxDepth, maxKeys);
  try {
    return { raw, value: JSON.parse(text, dropUnsafeKeys) };
  } catch (cause) {
    if (cause instanceof WardenError) throw cause;
    // The SyntaxError quotes the body, so it stays in `cause` and out of the answer.
    throw new WardenError('invalid_json', 'The request body is not valid JSON.', { cause });
  }
}

function assertJsonContentType(header: string | null): void {
  const [type = '', ...params] = (header ?? '').split(';');
  const mediaType = type.trim().toLowerCase();
  if (!jsonMediaType.test(mediaType)) {
    const sent = mediaType ? `Content-Type ${clip(mediaType)}` : 'no Content-Type';
    throw new WardenError('unsupported_media_type', `The request has ${sent}; ${expected}.`);
  }
  for (const param of params) {
    const [name = '', value = ''] = param.split('=', 2).map((part) => part.trim().toLowerCase());
    const charset = value.replace(/^"(.*)"$/, '$1');
    if (name === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      throw new WardenError(
        'unsupported_media_type',
        `The request body is declared as charset ${clip(charset)}; JSON must be UTF-8.`,
      );
    }
  }
}

/** Reads the stream chunk by chunk and stops as soon as the total passes `maxBytes`. */
async function readAtMost(request: Request, maxBytes: number): Promise<Buffer> {
  if (request.bodyUsed) throw new WardenError('internal', 'The request body was already read.');
  if (request.body === null) return Buffer.alloc(0);
  // On refusal the stream is released, not cancelled (as Hono's bodyLimit does): cancelling
  // destroys the socket, and a client still uploading may then get a reset instead of the 413.
  // @hono/node-server drains or closes the connection once the answer is sent.
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks, size);
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof WardenError) throw cause;
    throw new WardenError('bad_request', 'The request body could not be read.', { cause });
  } finally {
    reader.releaseLock();
  }
}

/** One pass over the text, no recursion: refuses deep nesting and too many keys before parsing. */
function assertWithinShape(text: string, maxDepth: number, maxKeys: number): void {
  let depth = 0;
  let keys = 0;
  let justOpened = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === ' ' || char === '\n' || char === '\r' || char === '\t') continue;
    // The first member of a non-empty container; later ones each follow a comma.
    if (justOpened && char !== ']' && char !== '}') keys++;
    justOpened = false;
    if (char === '[' || char === '{') {
      depth++;
      justOpened = true;
      if (depth > maxDepth) {
        throw new WardenError(
          'invalid',
          `The JSON document is nested deeper than ${maxDepth} levels.`,
        );
      }
    } else if (char === ']' || char === '}') depth--;
    else if (char === ',') keys++;
    else if (char === '"') i = closingQuote(text, i);
    if (keys > maxKeys) {
      throw new WardenError(
        'invalid',
        `The JSON document has more than ${maxKeys} keys and array elements in total.`,
      );
    }
  }
}

/** Index of the quote that closes the string opened at `open` (or the end of the text). */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at !== -1; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text[at - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return text.length;
}

function dropUnsafeKeys(key: string, value: unknown): unknown {
  if (key.includes('\u0000') || (typeof value === 'string' && value.includes('\u0000'))) {
    throw new WardenError('invalid', 'The JSON document contains U+0000, which cannot be stored.');
  }
  return unsafeKeys.has(key) ? undefined : value;
}

function tooLarge(maxBytes: number): WardenError {
  return new WardenError('payload_too_large', `The request body is larger than ${maxBytes} bytes.`);
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
