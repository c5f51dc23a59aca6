/**
 * Demo target: a small stand-in for the systems the demo playbooks act on. An ingest worker whose
 * receipt lag is stuck high until it is restarted, and a metering job whose hourly rollup is stale
 * until it is rerun; their admin endpoints; their metrics in the Prometheus text format; and just
 * enough of the Prometheus query API (`/api/v1/query`, instant queries) for `prometheus.expect`.
 * Every call is recorded at `GET /admin/calls`. Under `/chat/` it is also the demo's chat: a sink
 * speaking the Bot Framework connector protocol that Warden's Teams channel posts run threads and
 * approval cards to (chat-sink.ts; read them at `GET /chat`). Run it with `npm run demo-target`
 * (port `DEMO_TARGET_PORT`, default 3101, on 127.0.0.1), or in process with `startDemoTarget`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ChatMessage, createChatSink } from './chat-sink.js';

export interface DemoTargetOptions {
  /** 0 picks a free port. @defaultValue 3101 */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** How long a restart or a rollup rerun takes to bring its lag down. @defaultValue 2000 */
  recoveryMs?: number;
  /** Called after each recorded call (the command line prints them). */
  onCall?: (call: RecordedCall) => void;
}

export interface DemoTarget {
  /** Base URL, e.g. `http://127.0.0.1:3101`. */
  url: string;
  port: number;
  /** What Warden posted to the chat sink, oldest first. */
  chat(): readonly ChatMessage[];
  close(): Promise<void>;
}

export type { ChatMessage } from './chat-sink.js';

/** One request the target received (every one except `GET /admin/calls` itself). */
export interface RecordedCall {
  seq: number;
  at: string;
  method: string;
  path: string;
  /** The query string, with its `?`, or ''. */
  search: string;
  /** Parsed JSON, form fields as an object, other text as text, or null when there was none. */
  body: unknown;
  idempotencyKey: string | null;
  status: number;
  /** True when an `Idempotency-Key` seen before made this a replay that changed nothing. */
  replayed: boolean;
}

export const defaultPort = 3101;

const stuckReceiptLag = 120;
const healthyReceiptLag = 4;
const stuckMeteringLag = 900;
const healthyMeteringLag = 12;
const maxBodyBytes = 64 * 1024;
const maxIdempotencyKeys = 1000;

/** A gauge moving linearly from `from` to `to` over `overMs`, starting at `since`. */
interface Gauge {
  from: number;
  to: number;
  since: number;
  overMs: number;
}

type Action = 'restart' | 'rollup';

interface State {
  receiptLag: Gauge;
  meteringLag: Gauge;
  restarts: number;
  lastRestart: { shard: string; at: string } | null;
  rollupFresh: boolean;
  rollupReruns: number;
  /** While true the rollup job crashes: reruns answer 503 (the demo's auto-disable example). */
  rollupBroken: boolean;
  cachePurges: number;
  /** Actions `/admin/undo` can take back, latest last. */
  undoable: Action[];
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface Series {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labels: Record<string, string>;
  value: number;
}

const steady = (value: number): Gauge => ({ from: value, to: value, since: 0, overMs: 0 });

function level(g: Gauge, now: number): number {
  const progress = g.overMs <= 0 ? 1 : Math.min(1, Math.max(0, (now - g.since) / g.overMs));
  return Math.round((g.from + (g.to - g.from) * progress) * 10) / 10;
}

const moveTo = (g: Gauge, to: number, overMs: number, now: number): Gauge => ({
  from: level(g, now),
  to,
  since: now,
  overMs,
});

function stuckState(): State {
  return {
    receiptLag: steady(stuckReceiptLag),
    meteringLag: steady(stuckMeteringLag),
    restarts: 0,
    lastRestart: null,
    rollupFresh: false,
    rollupReruns: 0,
    rollupBroken: false,
    cachePurges: 0,
    undoable: [],
  };
}

const error = (status: number, code: string, message: string): Answer => ({
  status,
  body: { error: { code, message } },
});

/** Prometheus's own error shape, so `prometheus.expect` reports the message. */
const promError = (status: number, errorType: string, message: string): Answer => ({
  status,
  body: { status: 'error', errorType, error: message },
});

const aggregations: Record<string, (values: number[]) => number> = {
  max: (v) => Math.max(...v),
  min: (v) => Math.min(...v),
  sum: (v) => v.reduce((a, b) => a + b, 0),
  avg: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  count: (v) => v.length,
};
const aggregationNames = Object.keys(aggregations).join(', ');
const metricName = '[a-zA-Z_:][a-zA-Z0-9_:]*';
/** `name` or `op(name)`, spaces allowed around the parentheses. */
const queryShape = new RegExp(
  `^\\s*(?:(${Object.keys(aggregations).join('|')})\\s*\\(\\s*(${metricName})\\s*\\)` +
    `|(${metricName}))\\s*$`,
);

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

const escapeLabel = (v: string) =>
  v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');

/** The text exposition format (version 0.0.4): HELP and TYPE once per metric, then its samples. */
function exposition(series: Series[]): string {
  const lines: string[] = [];
  let last = '';
  for (const s of series) {
    if (s.name !== last) {
      lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
      last = s.name;
    }
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    lines.push(`${s.name}${labels.length ? `{${labels.join(',')}}` : ''} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads at most 64 KiB; undefined when the body is larger. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string): unknown {
  if (text === '') return null;
  // curl -d sends JSON labelled as a form; a body that opens like JSON is read as JSON.
  const looksLikeJson = /^\s*[[{]/.test(text);
  if (contentType.startsWith('application/x-www-form-urlencoded') && !looksLikeJson) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const field = (body: unknown, name: string): unknown =>
  body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)[name]
    : undefined;

/**
 * Starts the target; resolves once it listens.
 * @example
 * const target = await startDemoTarget({ port: 0 });
 * await fetch(`${target.url}/admin/restart`, { method: 'POST', body: '{"shard":"3"}' });
 * await target.close();
 */
export async function startDemoTarget(options: DemoTargetOptions = {}): Promise<DemoTarget> {
  const host = options.host ?? '127.0.0.1';
  const recoveryMs = options.recoveryMs ?? 2000;
  let state = stuckState();
  const calls: RecordedCall[] = [];
  const sink = createChatSink();
  /** Idempotency-Key + path → the first answer, replayed for repeats. */
  const seenKeys = new Map<string, Answer>();
  let origin = '';

  function series(now: number): Series[] {
    const instance = new URL(origin).host;
    return [
      {
        name: 'receipt_lag_seconds',
        help: 'Age of the oldest receipt the ingest worker has not processed yet.',
        type: 'gauge',
        labels: { job: 'ingest', instance },
        value: level(state.receiptLag, now),
      },
      {
        name: 'ingest_worker_restarts_total',
        help: 'Restarts of the ingest worker through POST /admin/restart.',
        type: 'counter',
        labels: { job: 'ingest', instance },
        value: state.restarts,
      },
      {
        name: 'metering_lag_seconds',
        help: 'Age of the newest usage the metering rollup has not folded in yet.',
        type: 'gauge',
        labels: { job: 'metering', instance },
        value: level(state.meteringLag, now),
      },
      {
        name: 'metering_rollup_reruns_total',
        help: 'Reruns of the hourly metering rollup through POST /admin/rollup/rerun.',
        type: 'counter',
        labels: { job: 'metering', instance },
        value: state.rollupReruns,
      },
    ];
  }

  /** An instant query: a metric name, optionally inside max, min, sum, avg or count. */
  function query(promql: string | null | undefined): Answer {
    if (!promql?.trim()) {
      return promError(400, 'bad_data', 'invalid parameter "query": no expression found in input');
    }
    const shape = queryShape.exec(promql);
    if (!shape) {
      return promError(
        400,
        'bad_data',
        `the demo target understands a metric name, optionally inside one of ${aggregationNames}; ` +
          `got: ${promql}`,
      );
    }
    const [, op, inner, bare] = shape;
    const now = Date.now();
    const matching = series(now).filter((s) => s.name === (inner ?? bare));
    const at = now / 1000;
    const result =
      op === undefined
        ? matching.map((s) => ({
            metric: { __name__: s.name, ...s.labels },
            value: [at, formatValue(s.value)],
          }))
        : matching.length === 0
          ? []
          : [
              {
                metric: {},
                value: [at, formatValue(aggregations[op]?.(matching.map((s) => s.value)) ?? 0)],
              },
            ];
    return { status: 200, body: { status: 'success', data: { resultType: 'vector', result } } };
  }

  function restart(body: unknown): Answer {
    const shard = field(body, 'shard');
    if (typeof shard !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(shard)) {
      return error(400, 'invalid', 'expected a JSON body {"shard": "<shard id>"}');
    }
    const now = Date.now();
    state.receiptLag = moveTo(state.receiptLag, healthyReceiptLag, recoveryMs, now);
    state.restarts += 1;
    state.lastRestart = { shard, at: new Date(now).toISOString() };
    state.undoable.push('restart');
    return {
      status: 202,
      body: { status: 'restarting', shard, restarts: state.restarts, recoversInMs: recoveryMs },
    };
  }

  function rerunRollup(): Answer {
    if (state.rollupBroken) {
      return error(
        503,
        'rollup_crashed',
        'the rollup job crashed (POST /admin/rollup/break {"broken": false} mends it)',
      );
    }
    state.meteringLag = moveTo(state.meteringLag, healthyMeteringLag, recoveryMs, Date.now());
    state.rollupFresh = true;
    state.rollupReruns += 1;
    state.undoable.push('rollup');
    return { status: 200, body: { status: 'completed', reruns: state.rollupReruns } };
  }

  function validateRollup(): Answer {
    if (state.rollupFresh) return { status: 200, body: { valid: true } };
    return {
      status: 409,
      body: {
        valid: false,
        reason: 'the hourly rollup is stale; rerun it with POST /admin/rollup/rerun',
      },
    };
  }

  /** Breaks (or mends) the rollup job. */
  function breakRollup(body: unknown): Answer {
    const broken = field(body, 'broken') ?? true;
    if (typeof broken !== 'boolean') return error(400, 'invalid', 'broken is true or false');
    state.rollupBroken = broken;
    return { status: 200, body: { rollup: broken ? 'broken' : 'working' } };
  }

  /** Purges the receipts API's edge cache in one region. */
  function purgeCache(body: unknown): Answer {
    const region = field(body, 'region');
    if (typeof region !== 'string' || !/^[a-z0-9-]{1,32}$/.test(region)) {
      return error(400, 'invalid', 'expected a JSON body {"region": "<region>"}');
    }
    state.cachePurges += 1;
    return { status: 200, body: { purged: region, purges: state.cachePurges } };
  }

  /** Takes back `action` (or the latest action): the worker is stuck again, or the rollup stale. */
  function undo(body: unknown): Answer {
    const wanted = field(body, 'action');
    if (wanted !== undefined && wanted !== 'restart' && wanted !== 'rollup') {
      return error(400, 'invalid', 'action is "restart" or "rollup" (or absent: the latest)');
    }
    const index =
      wanted === undefined ? state.undoable.length - 1 : state.undoable.lastIndexOf(wanted);
    const action = state.undoable[index];
    if (action === undefined) return { status: 200, body: { undone: null } };
    state.undoable.splice(index, 1);
    if (action === 'restart') state.receiptLag = steady(stuckReceiptLag);
    else {
      state.meteringLag = steady(stuckMeteringLag);
      state.rollupFresh = false;
    }
    return { status: 200, body: { undone: action } };
  }

  /** Back to the demo's start: the worker stuck and/or the rollup stale. */
  function stuck(body: unknown): Answer {
    const job = field(body, 'job');
    if (job !== undefined && job !== 'ingest' && job !== 'metering') {
      return error(400, 'invalid', 'job is "ingest" or "metering" (or absent: both)');
    }
    const fresh = stuckState();
    if (job === undefined) {
      const { restarts, lastRestart, rollupReruns, cachePurges } = state;
      state = { ...fresh, restarts, lastRestart, rollupReruns, cachePurges };
    } else if (job === 'ingest') {
      state.receiptLag = fresh.receiptLag;
      state.undoable = state.undoable.filter((a) => a !== 'restart');
    } else {
      state.meteringLag = fresh.meteringLag;
      state.rollupFresh = false;
      state.undoable = state.undoable.filter((a) => a !== 'rollup');
    }
    return { status: 200, body: overview() };
  }

  function overview() {
    const now = Date.now();
    return {
      ingest: {
        receiptLagSeconds: level(state.receiptLag, now),
        restarts: state.restarts,
        lastRestart: state.lastRestart,
      },
      metering: {
        meteringLagSeconds: level(state.meteringLag, now),
        rollup: state.rollupFresh ? 'fresh' : 'stale',
        reruns: state.rollupReruns,
        job: state.rollupBroken ? 'broken' : 'working',
      },
      cache: { purges: state.cachePurges },
    };
  }

  const routes: Record<string, Record<string, (body: unknown, url: URL) => Answer>> = {
    '/': { GET: () => ({ status: 200, body: { service: 'warden-demo-target', ...overview() } }) },
    '/healthz': { GET: () => ({ status: 200, body: { status: 'ok' } }) },
    '/metrics': {
      GET: () => ({
        status: 200,
        body: exposition(series(Date.now())),
        headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
      }),
    },
    '/api/v1/query': {
      GET: (_b, url) => query(url.searchParams.get('query')),
      POST: (body, url) => {
        const q = field(body, 'query');
        return query(typeof q === 'string' ? q : url.searchParams.get('query'));
      },
    },
    '/admin/restart': { POST: restart },
    '/admin/undo': { POST: undo },
    '/admin/rollup/rerun': { POST: rerunRollup },
    '/admin/rollup/validate': { GET: validateRollup },
    '/admin/rollup/break': { POST: breakRollup },
    '/admin/cache/purge': { POST: purgeCache },
    '/admin/stuck': { POST: stuck },
    '/admin/calls': {
      GET: (_b, url) => {
        const since = Number(url.searchParams.get('since') ?? 0) || 0;
        return { status: 200, body: { calls: calls.filter((c) => c.seq > since) } };
      },
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', origin);
    const text = await readBody(req);
    const body = text === undefined ? null : parseBody(text, req.headers['content-type'] ?? '');
    const chatAnswer = text === undefined ? undefined : sink.handle(method, url.pathname, body);
    if (chatAnswer) {
      const plain = typeof chatAnswer.body === 'string';
      res.writeHead(chatAnswer.status, {
        'content-type': 'application/json',
        ...chatAnswer.headers,
      });
      res.end(plain ? (chatAnswer.body as string) : JSON.stringify(chatAnswer.body));
      return;
    }
    const key = req.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' ? key : null;
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    const handler = route && Object.hasOwn(route, method) ? route[method] : undefined;
    let answer: Answer;
    let replayed = false;
    if (text === undefined) answer = error(413, 'too_large', 'the body is over 64 KiB');
    else if (!route) answer = error(404, 'not_found', `no route ${url.pathname}`);
    else if (!handler) {
      answer = error(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}`);
      answer.headers = { allow: Object.keys(route).join(', ') };
    } else if (
      method === 'POST' &&
      idempotencyKey &&
      seenKeys.has(`${idempotencyKey} ${url.pathname}`)
    ) {
      answer = seenKeys.get(`${idempotencyKey} ${url.pathname}`) as Answer;
      replayed = true;
    } else {
      answer = handler(body, url);
      if (method === 'POST' && idempotencyKey && url.pathname.startsWith('/admin/')) {
        if (seenKeys.size >= maxIdempotencyKeys)
          seenKeys.delete(seenKeys.keys().next().value ?? '');
        seenKeys.set(`${idempotencyKey} ${url.pathname}`, answer);
      }
    }
    if (!(method === 'GET' && url.pathname === '/admin/calls')) {
      const call: RecordedCall = {
        seq: calls.length + 1,
        at: new Date().toISOString(),
        method,
        path: url.pathname,
        search: url.search,
        body,
        idempotencyKey,
        status: answer.status,
        replayed,
      };
      calls.push(call);
      options.onCall?.(call);
    }
    const isText = typeof answer.body === 'string';
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
      ...answer.headers,
    });
    res.end(isText ? (answer.body as string) : JSON.stringify(answer.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal', message: String(err) } }));
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? defaultPort, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: origin,
    port,
    chat: () => sink.messages(),
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeIdleConnections();
      }),
  };
}

/** The command line: `npm run demo-target`; logs each call; stops on Ctrl-C. */
async function main(): Promise<void> {
  const raw = process.env.DEMO_TARGET_PORT ?? String(defaultPort);
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || port > 65535) {
    process.stderr.write(`DEMO_TARGET_PORT must be a port number (0-65535), not "${raw}"\n`);
    process.exit(2);
  }
  const target = await startDemoTarget({
    port,
    onCall: (c) => {
      const body = c.body === null ? '' : ` ${JSON.stringify(c.body)}`;
      const replay = c.replayed ? ' (replayed: same Idempotency-Key)' : '';
      process.stdout.write(
        `${c.at} ${c.method} ${c.path}${c.search}${body} → ${c.status}${replay}\n`,
      );
    },
  }).catch((err: NodeJS.ErrnoException) => {
    const why =
      err.code === 'EADDRINUSE'
        ? `port ${port} is in use. Fix: stop what listens there, or set DEMO_TARGET_PORT ` +
          '(and change 127.0.0.1:3101 in the playbooks and warden.yaml to match)'
        : err.message;
    process.stderr.write(`demo target: ${why}\n`);
    process.exit(1);
  });
  process.stdout.write(
    [
      `Demo target listening on ${target.url}`,
      `  ingest worker: stuck, receipt_lag_seconds ${stuckReceiptLag} (fix: POST /admin/restart)`,
      `  metering:      stale, metering_lag_seconds ${stuckMeteringLag} (fix: POST /admin/rollup/rerun)`,
      `  metrics:       ${target.url}/metrics`,
      `  calls:         ${target.url}/admin/calls (reset the demo: POST /admin/stuck)`,
      `  chat:          ${target.url}/chat (what Warden posted to the demo's Teams channel)`,
      '',
    ].join('\n'),
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      target.close().then(() => process.exit(0));
    });
  }
}

const invoked = process.argv[1];
if (invoked && import.meta.url === pathToFileURL(resolve(invoked)).href) await main();
