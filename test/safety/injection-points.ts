/**
 * Injection points and fixtures for the injection suite: hostile values, the channels that carry
 * them into a run (alert labels, annotations, signed event bodies, chat and API parameters), and
 * every free input of every built-in plugin step, each written as a playbook would write it.
 */

import { plugins } from '../../src/plugins/index.js';
import { escapePromqlString } from '../../src/plugins/prometheus/promql.js';

/** The hostile values, and a control the steps take (so that "nothing was called" can fail). */
export const fixtures = {
  template: '{{ playbook.name }}',
  'template without spaces': '{{playbook.name}}',
  shell: '"; rm -rf /',
  traversal: '../../etc/passwd',
  'encoded traversal': '%2e%2e/%2e%2e/etc/passwd',
  __proto__: '__proto__',
  constructor: 'constructor',
  '100 KB': 'x'.repeat(100 * 1024),
  NUL: 'a\u0000b',
  RTL: 'invoice\u202Egnp.exe',
  CRLF: 'x\r\nx-injected: yes',
  control: '7',
} as const;
export type FixtureName = keyof typeof fixtures;
export const fixtureNames = Object.keys(fixtures) as FixtureName[];

/** How a value reaches a run, and the placeholder a playbook uses to read it. */
export const channels = {
  labels: '{{ alert.labels.v }}',
  annotations: '{{ alert.annotations.v }}',
  event: '{{ event.data.v }}',
  /** `/playbook run <name> v=…` in Slack. */
  chat: '{{ params.v }}',
  /** `POST /api/v1/playbooks/<name>/run` with `{"params": {"v": …}}`. */
  api: '{{ params.v }}',
} as const;
export type Channel = keyof typeof channels;
export const channelNames = Object.keys(channels) as Channel[];

/** Where the local fakes listen (filled in once they run). */
export interface Targets {
  /** The HTTP target's `host:port`. */
  http: string;
}

/** One free input of one plugin step: the `with:` a playbook gives it, around the value `v`. */
export interface InjectionPoint {
  id: string;
  uses: string;
  with(v: string, targets: Targets): Record<string, unknown>;
  /**
   * How the step escapes a value placed inside this input (its `escapes`): what arrives is the
   * escaped value, still inside the string the playbook wrote.
   */
  escape?: (v: string) => string;
}

/**
 * Every free input of every built-in step. `v` is a placeholder when a playbook is written, and
 * the value itself when the test works out what the step should have received.
 */
export const points: InjectionPoint[] = [
  {
    id: 'http-body',
    uses: 'http.request',
    with: (v, t) => ({
      method: 'POST',
      url: `http://${t.http}/admin/restart`,
      headers: { 'x-point': 'http-body' },
      body: { shard: v, note: `shard ${v} restarted` },
    }),
  },
  {
    id: 'http-path',
    uses: 'http.request',
    with: (v, t) => ({
      method: 'POST',
      url: `http://${t.http}/admin/shards/${v}/restart`,
      headers: { 'x-point': 'http-path' },
    }),
  },
  {
    id: 'http-header',
    uses: 'http.request',
    with: (v, t) => ({
      method: 'POST',
      url: `http://${t.http}/admin/restart`,
      headers: { 'x-point': 'http-header', 'x-shard': v },
    }),
  },
  {
    id: 'prometheus-query',
    uses: 'prometheus.query',
    with: (v) => ({ query: `sum(up{shard="${v}"})` }),
    escape: escapePromqlString,
  },
  {
    id: 'prometheus-expect',
    uses: 'prometheus.expect',
    with: (v) => ({ query: 'max(inject_expect)', below: v }),
  },
  {
    id: 'kubernetes-scale',
    uses: 'kubernetes.scale',
    with: (v) => ({ deployment: v, replicas: 2 }),
  },
  {
    id: 'kubernetes-replicas',
    uses: 'kubernetes.scale',
    with: (v) => ({ deployment: 'inject-replicas', namespace: 'default', replicas: v }),
  },
  {
    id: 'kubernetes-restart',
    uses: 'kubernetes.rolloutRestart',
    with: (v) => ({ deployment: v }),
  },
  { id: 'pagerduty-ack', uses: 'pagerduty.acknowledge', with: (v) => ({ incident: v }) },
  { id: 'pagerduty-resolve', uses: 'pagerduty.resolve', with: (v) => ({ incident: `R${v}` }) },
  {
    id: 'pagerduty-note',
    uses: 'pagerduty.note',
    with: (v) => ({ incident: 'PINJECT', content: v }),
  },
  { id: 'chat-notify', uses: 'chat.notify', with: (v) => ({ text: v }) },
  { id: 'wait-sleep', uses: 'wait.sleep', with: (v) => ({ seconds: v }) },
];
export type PointId = (typeof points)[number]['id'];

/** Every `plugin.step` the registry has: the points must cover them all. */
export const builtInSteps = plugins.flatMap((p) =>
  Object.keys(p.steps).map((s) => `${p.name}.${s}`),
);

/**
 * Where each fixture is expected to execute, as inert data (every other point denies it with
 * `invalid_input`): free text goes through, names, ids and numbers refuse anything but the
 * control, and what no HTTP request could carry is refused before anything is sent.
 */
const free = ['http-body', 'http-header', 'prometheus-query', 'pagerduty-note', 'chat-notify'];
const inUrl = ['http-path', ...free];
const names = ['kubernetes-scale', 'kubernetes-restart', 'pagerduty-ack', 'pagerduty-resolve'];
const strict = [...names, 'prometheus-expect', 'kubernetes-replicas'];
export const executesAt: Record<FixtureName, readonly string[]> = {
  template: inUrl,
  'template without spaces': inUrl,
  shell: inUrl,
  // A `..` segment would walk out of the path the playbook wrote: refused in a URL.
  traversal: free,
  'encoded traversal': free,
  __proto__: inUrl,
  // A valid deployment name and incident id: sent as one, and found (the fakes have it).
  constructor: [...inUrl, ...names],
  // Beyond an HTTP header's, a PromQL query's, a note's and a chat message's limits.
  '100 KB': ['http-body'],
  // No control character in a URL or a header.
  NUL: ['http-body', 'prometheus-query', 'pagerduty-note', 'chat-notify'],
  // Not Latin-1, so no HTTP header can carry it.
  RTL: ['http-path', 'http-body', 'prometheus-query', 'pagerduty-note', 'chat-notify'],
  CRLF: ['http-body', 'prometheus-query', 'pagerduty-note', 'chat-notify'],
  control: [...inUrl, ...strict],
};

/**
 * Fixtures a channel refuses at the door (4xx or a chat error, no trigger, no run): alert fields
 * have a 16 KiB limit, JSON bodies may not carry U+0000 (PostgreSQL cannot store it), and chat
 * arguments are words (`key=value` split on whitespace).
 */
export const refusedAtDoor: Record<Channel, readonly FixtureName[]> = {
  labels: ['100 KB', 'NUL'],
  annotations: ['100 KB', 'NUL'],
  event: ['NUL'],
  chat: ['template', 'shell', 'CRLF', 'NUL'],
  api: ['NUL'],
};
