/**
 * Injection requests: what the injection suite's local fakes received, and what each executed
 * injection point must have sent with its value exactly as delivered — each matcher claims the
 * requests it explains, so that whatever is left was sent by nothing a playbook wrote.
 */

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { escapePromqlString } from '../../src/plugins/prometheus/promql.js';

export interface HttpCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP target recording every request it gets, with its raw path. */
export async function startHttpTarget() {
  const calls: HttpCall[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    calls.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    calls,
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export type Matcher = { fake: 'http' | 'prometheus' | 'kubernetes' | 'pagerduty'; what: string };
export interface Seen {
  http: HttpCall[];
  prometheus: Array<{ method: string; path: string; query: string | null }>;
  kubernetes: Array<{ method: string; path: string; body: unknown }>;
  pagerduty: Array<{ method: string; path: string; body: unknown }>;
}

const deployments = '/apis/apps/v1/namespaces/default/deployments';
const fieldOf = (body: unknown, ...path: string[]) =>
  path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], body);

/**
 * What each executed point must have sent, with `v` exactly as delivered; each matcher claims
 * (removes) the requests it explains, so that nothing else may have been sent.
 */
export function claim(point: string, v: string, seen: Seen): Matcher[] {
  const take = <K extends keyof Seen>(
    fake: K,
    what: string,
    test: (r: Seen[K][number]) => boolean,
  ) => {
    const list = seen[fake] as Array<Seen[K][number]>;
    const taken = list.filter(test);
    seen[fake] = list.filter((r) => !taken.includes(r)) as Seen[K];
    return taken.length > 0 ? [] : [{ fake, what } as Matcher];
  };
  const httpFrom = (id: string, test: (c: HttpCall) => boolean) =>
    take('http', `${id} request`, (c) => c.headers['x-point'] === id && test(c));
  switch (point) {
    case 'http-body':
      return httpFrom(
        'http-body',
        (c) =>
          c.path === '/admin/restart' &&
          isDeepStrictEqual(JSON.parse(c.body), { shard: v, note: `shard ${v} restarted` }),
      );
    case 'http-path':
      return httpFrom(
        'http-path',
        (c) =>
          c.path.startsWith('/admin/shards/') &&
          decodeURIComponent(c.path) === `/admin/shards/${v}/restart`,
      );
    case 'http-header':
      return httpFrom('http-header', (c) => c.headers['x-shard'] === v);
    case 'prometheus-query':
      // Inside its string literal, escaped (the step's `escapes`): the query around it is intact.
      return take(
        'prometheus',
        'the query',
        (q) => q.query === `sum(up{shard="${escapePromqlString(v)}"})`,
      );
    case 'prometheus-expect':
      return take('prometheus', 'the check', (q) => q.query === 'max(inject_expect)');
    case 'kubernetes-scale':
      return take('kubernetes', 'the scale', (r) => r.path === `${deployments}/${v}/scale`);
    case 'kubernetes-replicas':
      return [
        ...take(
          'kubernetes',
          'the new count',
          (r) =>
            r.path === `${deployments}/inject-replicas/scale` &&
            r.method !== 'GET' &&
            fieldOf(r.body, 'spec', 'replicas') === Number(v),
        ),
        ...take('kubernetes', 'the read', (r) => r.path === `${deployments}/inject-replicas/scale`),
      ];
    case 'kubernetes-restart':
      return take('kubernetes', 'the restart', (r) => r.path === `${deployments}/${v}`);
    case 'pagerduty-ack':
    case 'pagerduty-resolve': {
      const [incident, status] =
        point === 'pagerduty-ack' ? [v, 'acknowledged'] : [`R${v}`, 'resolved'];
      return take(
        'pagerduty',
        `the ${status}`,
        (r) =>
          r.path === `/incidents/${incident}` && fieldOf(r.body, 'incident', 'status') === status,
      );
    }
    case 'pagerduty-note':
      return take(
        'pagerduty',
        'the note',
        (r) => r.path === '/incidents/PINJECT/notes' && fieldOf(r.body, 'note', 'content') === v,
      );
    default:
      return []; // chat.notify and wait.sleep call nothing outside
  }
}
