import { describe, expect, it } from 'vitest';
import { WardenError } from '../errors.js';
import { readJsonBody } from './json-body.js';

const json = { 'content-type': 'application/json' };
const bytes = (text: string) => new TextEncoder().encode(text);

function post(body: RequestInit['body'], headers: Record<string, string> = json): Request {
  return new Request('http://x/', { method: 'POST', headers, body });
}

/** A body that hands out `chunks` one read at a time (then `after`) and counts the reads. */
function streamed(chunks: Uint8Array[], after: 'end' | 'forever' | Error = 'end') {
  const stats = { pulls: 0 };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[stats.pulls++];
        if (chunk) controller.enqueue(chunk);
        else if (after === 'forever') controller.enqueue(new Uint8Array(4));
        else if (after === 'end') controller.close();
        else controller.error(after);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, stats };
}

function streamedPost(stream: ReadableStream<Uint8Array>, headers: Record<string, string> = json) {
  return new Request('http://x/', { method: 'POST', headers, body: stream, duplex: 'half' });
}

async function refusal(pending: Promise<unknown>): Promise<WardenError> {
  const outcome = await pending.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof WardenError)) throw new Error(`expected a WardenError, got ${outcome}`);
  return outcome;
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('readJsonBody', () => {
  it('returns the parsed value and the exact bytes received when the body is valid JSON', async () => {
    const text = '{ "b" : 1,\n\t"a": "é\\u00e9", "n": [1.50, -0e0] }';
    const { raw, value } = await readJsonBody(post(text));
    expect(raw.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(value).toEqual({ b: 1, a: 'éé', n: [1.5, -0] });
  });

  it('accepts a top-level scalar when the document is one', async () => {
    await expect(readJsonBody(post('42'))).resolves.toMatchObject({ value: 42 });
    await expect(readJsonBody(post('"hi"'))).resolves.toMatchObject({ value: 'hi' });
  });

  it('joins a body that arrives in chunks, even when a character is split between them', async () => {
    const whole = bytes('{"text":"€uro"}');
    const { stream } = streamed([
      whole.subarray(0, 10),
      whole.subarray(10, 11),
      whole.subarray(11),
    ]);
    const { raw, value } = await readJsonBody(streamedPost(stream));
    expect(raw.equals(whole)).toBe(true);
    expect(value).toEqual({ text: '€uro' });
  });

  it('accepts a leading UTF-8 byte order mark and keeps it in the raw bytes', async () => {
    const body = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{"a":1}')]);
    const { raw, value } = await readJsonBody(post(body, json));
    expect(raw.length).toBe(10);
    expect(value).toEqual({ a: 1 });
  });

  describe('media type', () => {
    it.each([
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON;charset="UTF-8"',
      'application/json; charset=utf8',
      'application/vnd.pagerduty+json',
      'application/problem+json; charset=utf-8',
      'application/vnd.api.v2+json',
    ])('accepts %s', async (type) => {
      const { value } = await readJsonBody(post('{"ok":true}', { 'content-type': type }));
      expect(value).toEqual({ ok: true });
    });

    it.each([
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json-seq',
      'application/jsonx',
      'text/json',
      'application/+json',
    ])('refuses %s with 415 naming what was sent and what is expected', async (type) => {
      const err = await refusal(readJsonBody(post('{"ok":true}', { 'content-type': type })));
      expect(err.code).toBe('unsupported_media_type');
      expect(err.status).toBe(415);
      expect(err.message).toContain(type.split(';')[0]);
      expect(err.message).toContain('application/json');
      expect(err.message).not.toContain('…');
    });

    it('refuses a request without a Content-Type and says none was sent', async () => {
      const err = await refusal(readJsonBody(post(bytes('{}'), {})));
      expect(err.code).toBe('unsupported_media_type');
      expect(err.message).toMatch(/no Content-Type/);
    });

    it('names at most 80 characters of an overlong Content-Type', async () => {
      const type = `text/${'x'.repeat(500)}`;
      const err = await refusal(readJsonBody(post('{}', { 'content-type': type })));
      expect(err.message).toContain(`${type.slice(0, 80)}…`);
      expect(err.message).not.toContain(type.slice(0, 81));
    });

    it('refuses a JSON body declared in a charset other than UTF-8', async () => {
      const type = 'application/json; charset=iso-8859-1';
      const err = await refusal(readJsonBody(post('{}', { 'content-type': type })));
      expect(err.code).toBe('unsupported_media_type');
      expect(err.message).toContain('iso-8859-1');
    });

    it('refuses the media type before reading any of the body', async () => {
      const { stream, stats } = streamed([bytes('{}')]);
      const err = await refusal(readJsonBody(streamedPost(stream, { 'content-type': 'text/xml' })));
      expect(err.code).toBe('unsupported_media_type');
      expect(stats.pulls).toBe(0);
    });
  });

  describe('size', () => {
    it('refuses a declared Content-Length over the limit without reading the body', async () => {
      const { stream, stats } = streamed([bytes('{}')], 'forever');
      const headers = { ...json, 'content-length': '1048577' };
      const err = await refusal(readJsonBody(streamedPost(stream, headers)));
      expect(err.code).toBe('payload_too_large');
      expect(err.status).toBe(413);
      expect(stats.pulls).toBe(0);
    });

    it('stops reading an endless body as soon as it passes the limit', async () => {
      const { stream, stats } = streamed([], 'forever');
      const err = await refusal(readJsonBody(streamedPost(stream), { maxBytes: 10 }));
      expect(err.code).toBe('payload_too_large');
      expect(err.message).toContain('10 bytes');
      // 4-byte chunks: the third passes 10 bytes; at most one chunk beyond the limit was taken.
      expect(stats.pulls).toBeLessThanOrEqual(4);
    });

    it('refuses a body one byte over the default 1 MiB limit when no length is declared', async () => {
      const body = new Uint8Array(1024 * 1024 + 1).fill(0x20);
      const err = await refusal(readJsonBody(post(body)));
      expect(err.code).toBe('payload_too_large');
      expect(err.message).toContain('1048576 bytes');
    });

    it('accepts a body of exactly maxBytes', async () => {
      const { value } = await readJsonBody(post('[1,2,3]'), { maxBytes: 7 });
      expect(value).toEqual([1, 2, 3]);
      const err = await refusal(readJsonBody(post('[1,2,3] '), { maxBytes: 7 }));
      expect(err.code).toBe('payload_too_large');
    });

    it.each([
      ['an empty body', ''],
      ['no body at all', null],
    ])('answers invalid_json for %s', async (_, body) => {
      const err = await refusal(readJsonBody(post(body)));
      expect(err.code).toBe('invalid_json');
      expect(err.status).toBe(400);
      expect(err.message).toBe('The request body is empty; expected a JSON document.');
    });
  });

  describe('syntax', () => {
    it.each([
      '{"token":"hunter2",}',
      "{'token':'hunter2'}",
      '{"token":"hunter2"',
      '{"token":"hunter2"} trailing',
      'hunter2',
      '   ',
    ])('answers invalid_json without echoing the body for %s', async (body) => {
      const err = await refusal(readJsonBody(post(body)));
      expect(err.code).toBe('invalid_json');
      expect(err.status).toBe(400);
      expect(err.message).toBe('The request body is not valid JSON.');
      expect(err.cause).toBeInstanceOf(SyntaxError);
    });

    it.each([
      ['a 0xff byte', [0xff]],
      ['a lone continuation byte', [0x80]],
      ['a truncated sequence', [0xe2, 0x82]],
      ['an overlong encoding', [0xc0, 0xaf]],
      ['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ])('answers invalid_json for invalid UTF-8: %s', async (_, bad) => {
      const body = new Uint8Array([...bytes('{"a":"'), ...bad, ...bytes('"}')]);
      const err = await refusal(readJsonBody(post(body)));
      expect(err.code).toBe('invalid_json');
      expect(err.message).toBe('The request body is not valid UTF-8.');
    });

    it('answers bad_request when the body stream fails midway', async () => {
      const { stream } = streamed([bytes('{"a":')], new Error('socket hang up'));
      const err = await refusal(readJsonBody(streamedPost(stream)));
      expect(err.code).toBe('bad_request');
      expect(err.message).not.toContain('socket');
    });

    it('refuses a request whose body was already read', async () => {
      const request = post('{}');
      await request.text();
      const err = await refusal(readJsonBody(request));
      expect(err.code).toBe('internal');
    });
  });

  describe('unsafe keys', () => {
    const hostile =
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},' +
      '"nested":{"prototype":1,"kept":2,"deeper":[{"__proto__":{"polluted":true},"id":3}]}}';

    it('drops __proto__, constructor and prototype keys at every depth', async () => {
      const { value } = await readJsonBody(post(hostile));
      const doc = value as { nested: { deeper: object[] } };
      for (const key of ['__proto__', 'constructor']) expect(Object.hasOwn(doc, key)).toBe(false);
      expect(Object.hasOwn(doc.nested, 'prototype')).toBe(false);
      expect(Object.hasOwn(doc.nested.deeper[0] as object, '__proto__')).toBe(false);
      expect(value).toEqual({ nested: { kept: 2, deeper: [{ id: 3 }] } });
    });

    it('keeps Object.prototype clean, also when the value is later merged into another', async () => {
      const { value } = await readJsonBody(post(hostile));
      // Object.assign sets through the __proto__ setter: an own "__proto__" key would swap the
      // merged object's prototype.
      const merged: Record<string, unknown> = Object.assign({}, value);
      expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
      expect(merged.polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
    });

    it('keeps the dropped keys in the raw bytes, so signatures still verify', async () => {
      const { raw } = await readJsonBody(post(hostile));
      expect(raw.toString('utf8')).toBe(hostile);
    });
  });

  describe('shape limits', () => {
    it('accepts nesting of exactly maxDepth and refuses one level more with 422', async () => {
      await expect(readJsonBody(post(nested(32)))).resolves.toBeDefined();
      const err = await refusal(readJsonBody(post(nested(33))));
      expect(err.code).toBe('invalid');
      expect(err.status).toBe(422);
      expect(err.message).toContain('32 levels');
    });

    it.each([
      ['closed arrays', nested(100_000)],
      ['unclosed arrays', '['.repeat(100_000)],
      ['objects', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`],
    ])('answers 422 rather than crashing for 100,000 nested %s', async (_, body) => {
      const err = await refusal(readJsonBody(post(body)));
      expect(err.code).toBe('invalid');
    });

    it('answers 413 rather than crashing for nesting too deep to fit in maxBytes', async () => {
      const err = await refusal(readJsonBody(post(nested(1_000_000))));
      expect(err.code).toBe('payload_too_large');
    });

    it('ignores brackets, commas and escaped quotes inside strings', async () => {
      const body = '{"a":"[[{{,,,\\"[[[,,"}';
      const { value } = await readJsonBody(post(body), { maxDepth: 1, maxKeys: 1 });
      expect(value).toEqual({ a: '[[{{,,,"[[[,,' });
    });

    it('ends a string at a quote that follows an escaped backslash', async () => {
      // JSON text: {"a":"x\\","b":[[1]]} — the string ends after x\\, so b nests to depth 3.
      const body = '{"a":"x\\\\","b":[[1]]}';
      await expect(readJsonBody(post(body), { maxDepth: 3 })).resolves.toMatchObject({
        value: { a: 'x\\', b: [[1]] },
      });
      const err = await refusal(readJsonBody(post(body), { maxDepth: 2 }));
      expect(err.code).toBe('invalid');
    });

    it('leaves an unterminated string to the parser rather than scanning it as structure', async () => {
      const err = await refusal(readJsonBody(post('{"a":"[[[[,,,,'), { maxDepth: 2, maxKeys: 2 }));
      expect(err.code).toBe('invalid_json');
    });

    it('counts object keys and array elements together against maxKeys', async () => {
      await expect(
        readJsonBody(post('{"a":1,"b":[1],"c":{}}'), { maxKeys: 4 }),
      ).resolves.toBeDefined();
      const err = await refusal(readJsonBody(post('{"a":1,"b":[1,2],"c":{}}'), { maxKeys: 4 }));
      expect(err.code).toBe('invalid');
      expect(err.status).toBe(422);
      expect(err.message).toContain('4 keys');
    });

    it('counts nothing for empty containers', async () => {
      const { value } = await readJsonBody(post('[ [ ] , { } , [] ]'), { maxKeys: 3 });
      expect(value).toEqual([[], {}, []]);
    });

    it('applies the default of 10,000 keys and array elements', async () => {
      const list = (n: number) => `[${Array.from({ length: n }, () => '0').join(',')}]`;
      await expect(readJsonBody(post(list(10_000)))).resolves.toBeDefined();
      const err = await refusal(readJsonBody(post(list(10_001))));
      expect(err.code).toBe('invalid');
      expect(err.message).toContain('10000');
    });
  });
});
