/**
 * Breakers end to end: a playbook disables itself after exactly N consecutive failures (not N−1),
 * on a spike of denials, and when its alert re-fires soon after a "successful" run; triggers for a
 * disabled playbook are receipted as skipped; re-enabling is receipted and starts clean.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { currentVersions } from '../../src/storage/playbooks.js';
import { createProbe } from '../fakes/probe-plugin.js';
import { describeEngines } from '../helpers/database.js';
import { startGuarded } from '../helpers/guarded.js';

const playbook = (name: string, spec: string, extra = '') => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on:
    - alert: { match: { alertname: ${name} } }
${spec}
  steps:
    - { id: act, uses: probe.touch, with: { label: ${name}${extra} } }
`;

describeEngines('breakers', ({ db }) => {
  const probe = createProbe();
  let g: Awaited<ReturnType<typeof startGuarded>>;
  const t = 'acme';

  beforeAll(async () => {
    g = await startGuarded({
      db: db(),
      extraPlugins: [probe.plugin],
      tenants: [
        {
          id: t,
          playbooks: {
            flaky: playbook(
              'flaky',
              '  autoDisable: { consecutiveFailures: 3 }',
              ', fail: "{{ alert.labels.fail }}"',
            ),
            denied: playbook(
              'denied',
              '  environment: production\n  budgets: { allowedEnvironments: [staging] }\n  autoDisable: { denials: { count: 3, window: 30m } }',
            ),
            mitigate: playbook('mitigate', '  autoDisable: { refireWithin: 15m }'),
            rate: playbook(
              'rate',
              '  autoDisable: { failureRate: { above: 0.5, window: 1h, minRuns: 4 } }',
              ', fail: "{{ alert.labels.fail }}"',
            ),
            stampede: playbook(
              'stampede',
              '  autoDisable: { consecutiveFailures: 3 }',
              ', fail: "yes"',
            ),
          },
        },
      ],
    });
  });

  afterAll(async () => {
    await g?.close();
  });

  const disabled = async (name: string) =>
    (await currentVersions(db().knex, t)).find((v) => v.name === name)?.disabled;
  const fireAndWait = async (labels: Record<string, string>, alert = {}) => {
    const runs = await g.fire(t, labels, alert);
    await g.idle();
    return runs;
  };

  it('trips after exactly 3 consecutive failures, skips triggers while disabled, and re-enables', async () => {
    await fireAndWait({ alertname: 'flaky', fail: 'yes' });
    await fireAndWait({ alertname: 'flaky', fail: 'yes' });
    expect(await disabled('flaky')).toBe(false);
    await fireAndWait({ alertname: 'flaky', fail: 'no' }); // a success resets the streak
    await fireAndWait({ alertname: 'flaky', fail: 'yes' });
    await fireAndWait({ alertname: 'flaky', fail: 'yes' });
    expect(await disabled('flaky')).toBe(false);
    await fireAndWait({ alertname: 'flaky', fail: 'yes' });
    expect(await disabled('flaky')).toBe(true);
    const [trip] = (await g.receipts(t, 'playbook.disabled')).filter((r) => r.playbook === 'flaky');
    expect(trip).toMatchObject({ actor: 'breaker', rule: 'consecutiveFailures' });
    expect(trip?.figures).toMatchObject({ count: 3, limit: 3 });

    expect(await fireAndWait({ alertname: 'flaky', fail: 'no' })).toEqual([]);
    const skipped = await g.receipts(t, 'trigger.skipped');
    expect(skipped.at(-1)).toMatchObject({ reason: 'playbook_disabled' });
    expect(String(skipped.at(-1)?.playbook)).toMatch(/^flaky@sha256:/);

    const enabled = await g.api(t, 'admin', 'POST', '/playbooks/flaky/enable', { reason: 'fixed' });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ disabled: false, changed: true });
    expect((await g.receipts(t, 'playbook.enabled')).at(-1)).toMatchObject({ playbook: 'flaky' });
    // Starts clean: one more failure does not trip it again.
    const [run] = await fireAndWait({ alertname: 'flaky', fail: 'yes' });
    expect((await g.run(t, run as string)).status).toBe('failed');
    expect(await disabled('flaky')).toBe(false);
  });

  it('trips on a failure rate above the limit only once minRuns runs settled', async () => {
    for (const fail of ['yes', 'yes', 'yes']) await fireAndWait({ alertname: 'rate', fail });
    expect(await disabled('rate'), '3 of 3 failed, but fewer than minRuns (4)').toBe(false);
    await fireAndWait({ alertname: 'rate', fail: 'no' });
    expect(await disabled('rate'), '3 of 4 failed: above 0.5').toBe(true);
    const trips = (await g.receipts(t, 'playbook.disabled')).filter((r) => r.playbook === 'rate');
    expect(trips).toHaveLength(1);
    expect(trips[0]).toMatchObject({ actor: 'breaker', rule: 'failureRate' });
  });

  it('does not trip at exactly the failure-rate limit, and trips past it', async () => {
    await g.api(t, 'admin', 'POST', '/playbooks/rate/enable', { reason: 'fixed' });
    for (const fail of ['no', 'yes', 'no', 'yes']) await fireAndWait({ alertname: 'rate', fail });
    expect(await disabled('rate'), '2 of 4 failed: 0.5 is not above 0.5').toBe(false);
    await fireAndWait({ alertname: 'rate', fail: 'yes' });
    expect(await disabled('rate'), '3 of 5 failed').toBe(true);
  });

  it('trips once, with one receipt, when failing runs settle at the same time', async () => {
    const runs = (
      await Promise.all(Array.from({ length: 12 }, () => g.fire(t, { alertname: 'stampede' })))
    ).flat();
    await g.idle();
    expect(runs).toHaveLength(12);
    expect(await disabled('stampede')).toBe(true);
    const trips = (await g.receipts(t, 'playbook.disabled')).filter(
      (r) => r.playbook === 'stampede',
    );
    expect(trips).toHaveLength(1);
    expect(trips[0]).toMatchObject({ rule: 'consecutiveFailures' });
    for (const id of runs) expect((await g.run(t, id)).status).toBe('failed');
    expect(await fireAndWait({ alertname: 'stampede' })).toEqual([]);
  });

  it('trips on a spike of denials', async () => {
    await fireAndWait({ alertname: 'denied' });
    await fireAndWait({ alertname: 'denied' });
    expect(await disabled('denied')).toBe(false);
    await fireAndWait({ alertname: 'denied' });
    expect(await disabled('denied')).toBe(true);
    const trip = (await g.receipts(t, 'playbook.disabled')).find((r) => r.playbook === 'denied');
    expect(trip).toMatchObject({ rule: 'denials' });
  });

  it('trips when the alert re-fires soon after a run that mitigated it, cancelling that run', async () => {
    const fingerprint = 'fp-refire-1';
    const [first] = await fireAndWait(
      { alertname: 'mitigate' },
      { fingerprint, startsAt: '2026-11-24T00:00:00.000Z' },
    );
    expect((await g.run(t, first as string)).status).toBe('succeeded');
    // Another alert (another fingerprint) does not count.
    await fireAndWait({ alertname: 'mitigate' }, { fingerprint: 'fp-other' });
    expect(await disabled('mitigate')).toBe(false);
    const [again] = await fireAndWait(
      { alertname: 'mitigate' },
      { fingerprint, startsAt: '2026-11-24T00:05:00.000Z' },
    );
    const r = await g.run(t, again as string);
    expect(r.status).toBe('cancelled');
    expect(r.error).toMatch(/refire/);
    expect(await disabled('mitigate')).toBe(true);
    expect(probe.calls.filter((c) => c.label === 'mitigate')).toHaveLength(2);
    const trip = (await g.receipts(t, 'playbook.disabled')).find((x) => x.playbook === 'mitigate');
    expect(trip).toMatchObject({ rule: 'refire', figures: { fingerprint, run: first } });
  });
});
