import { describe, expect, it } from 'vitest';
import type { TriggerEvent } from '../triggers/trigger-event.js';
import { labelMatches, playbookMatches } from './match.js';
import { type Playbook, playbookSchema } from './playbook-schema.js';

const playbook = (on: unknown[]): Playbook =>
  playbookSchema.parse({
    apiVersion: 'warden/v1',
    kind: 'Playbook',
    metadata: { name: 'p' },
    spec: { on, steps: [{ id: 's', uses: 'wait.sleep', with: { seconds: 0 } }] },
  });

const trigger = (over: Partial<TriggerEvent>): TriggerEvent => ({
  id: 't',
  tenant: 'acme',
  source: 'alertmanager',
  kind: 'alert',
  status: 'firing',
  fingerprint: 'f',
  dedupKey: 'k',
  labels: { alertname: 'ReceiptLag', severity: 'critical', env: 'prod' },
  annotations: {},
  startsAt: null,
  endsAt: null,
  eventType: null,
  data: null,
  links: {},
  receivedAt: '',
  bodyDigest: '',
  resolves: null,
  receiptId: '',
  ...over,
});

describe('labelMatches', () => {
  it('supports equality, negation and anchored regexes', () => {
    expect(labelMatches('prod', 'prod')).toBe(true);
    expect(labelMatches('prod', 'production')).toBe(false);
    expect(labelMatches('!=dev', 'prod')).toBe(true);
    expect(labelMatches('!=dev', 'dev')).toBe(false);
    expect(labelMatches('=~prod|staging', 'staging')).toBe(true);
    expect(labelMatches('=~prod', 'production')).toBe(false);
    expect(labelMatches('!~dev.*', 'devbox')).toBe(false);
    expect(labelMatches('', undefined)).toBe(true);
  });
});

describe('playbookMatches', () => {
  it('matches a firing alert whose labels satisfy every matcher', () => {
    const p = playbook([
      { alert: { match: { alertname: 'ReceiptLag', severity: '=~critical|page' } } },
    ]);
    expect(playbookMatches(p, trigger({}))).toBe(true);
    expect(
      playbookMatches(p, trigger({ labels: { alertname: 'ReceiptLag', severity: 'info' } })),
    ).toBe(false);
  });

  it('does not start runs for resolved alerts or for another source', () => {
    const p = playbook([{ alert: { source: 'grafana', match: { alertname: 'ReceiptLag' } } }]);
    expect(playbookMatches(p, trigger({ source: 'grafana', status: 'resolved' }))).toBe(false);
    expect(playbookMatches(p, trigger({ source: 'alertmanager' }))).toBe(false);
    expect(playbookMatches(p, trigger({ source: 'grafana' }))).toBe(true);
  });

  it('matches events by source and type', () => {
    const p = playbook([{ event: { source: 'deploys', type: 'rollback_requested' } }]);
    const event = (source: string, type: string) =>
      trigger({
        source: 'events',
        kind: 'event',
        status: 'received',
        labels: { source },
        eventType: type,
      });
    expect(playbookMatches(p, event('deploys', 'rollback_requested'))).toBe(true);
    expect(playbookMatches(p, event('deploys', 'deployed'))).toBe(false);
    expect(playbookMatches(p, event('billing', 'rollback_requested'))).toBe(false);
  });

  it('matches only its own cron ticks', () => {
    const p = playbook([{ cron: '*/15 * * * *' }]);
    const tick = (playbookName: string, cron: string) =>
      trigger({
        source: 'cron',
        kind: 'cron',
        status: 'fired',
        labels: { playbook: playbookName, cron },
      });
    expect(playbookMatches(p, tick('p', '*/15 * * * *'))).toBe(true);
    expect(playbookMatches(p, tick('other', '*/15 * * * *'))).toBe(false);
    expect(playbookMatches(p, tick('p', '0 * * * *'))).toBe(false);
  });
});
