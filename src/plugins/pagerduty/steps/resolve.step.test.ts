import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePagerDuty, startFakePagerDuty } from '../../../../test/fakes/pagerduty.js';
import { testStepContext } from '../../../../test/fakes/step-context.js';
import { resolve } from './resolve.step.js';

describe('pagerduty.resolve', () => {
  let pd: FakePagerDuty;
  beforeAll(async () => {
    pd = await startFakePagerDuty({ incidents: ['PRES001'] });
  });
  afterAll(() => pd.close());
  const ctx = () =>
    testStepContext({
      settings: { apiUrl: pd.url, from: 'oncall@example.com' },
      secrets: { token: pd.token },
    });

  it('resolves an incident and PagerDuty records who did it', async () => {
    const output = await resolve.execute(ctx(), resolve.input.parse({ incident: 'PRES001' }));
    expect(output).toEqual({
      incident: 'PRES001',
      status: 'resolved',
      url: 'https://acme.pagerduty.com/incidents/PRES001',
    });
    expect(pd.incidents.get('PRES001')?.changes).toMatchObject([
      { status: 'resolved', by: 'oncall@example.com' },
    ]);
  });

  it('succeeds when the incident is already resolved, so a retry is safe', async () => {
    const output = await resolve.execute(ctx(), { incident: 'PRES001' });
    expect(output).toEqual({ incident: 'PRES001', status: 'resolved', url: null });
    expect(pd.incidents.get('PRES001')?.changes).toHaveLength(1);
  });

  it('fails with the PagerDuty message when the incident does not exist', async () => {
    await expect(resolve.execute(ctx(), { incident: 'PGONE01' })).rejects.toThrow(
      'HTTP 404, code 2100 Not Found',
    );
  });

  it('simulates without sending any request', async () => {
    const before = pd.requests.length;
    const plan = await resolve.simulate(ctx(), { incident: 'PRES001' });
    expect(plan.summary).toBe('would resolve PagerDuty incident PRES001 as oncall@example.com');
    expect(pd.requests.length).toBe(before);
  });

  it('declares one incident target, cost 1, a write that cannot be undone', () => {
    expect(resolve.targets({ incident: 'PRES001' })).toEqual(['incident:PRES001']);
    expect(resolve.cost?.({ incident: 'PRES001' })).toBe(1);
    expect(resolve).toMatchObject({ risk: 'write', reversible: false, idempotent: true });
  });
});
