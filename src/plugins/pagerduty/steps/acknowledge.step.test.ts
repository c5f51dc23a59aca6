import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePagerDuty, startFakePagerDuty } from '../../../../test/fakes/pagerduty.js';
import { testStepContext } from '../../../../test/fakes/step-context.js';
import { acknowledge } from './acknowledge.step.js';

describe('pagerduty.acknowledge', () => {
  let pd: FakePagerDuty;
  beforeAll(async () => {
    pd = await startFakePagerDuty({ incidents: ['PACK001', 'PACK002'] });
  });
  afterAll(() => pd.close());
  const ctx = () =>
    testStepContext({
      settings: { apiUrl: pd.url, from: 'oncall@example.com' },
      secrets: { token: pd.token },
    });

  it('acknowledges a triggered incident as the configured user', async () => {
    const output = await acknowledge.execute(
      ctx(),
      acknowledge.input.parse({ incident: 'PACK001' }),
    );
    expect(output).toEqual({
      incident: 'PACK001',
      status: 'acknowledged',
      url: 'https://acme.pagerduty.com/incidents/PACK001',
    });
    expect(pd.incidents.get('PACK001')).toMatchObject({
      status: 'acknowledged',
      changes: [{ status: 'acknowledged', by: 'oncall@example.com' }],
    });
  });

  it('succeeds again on an incident it already acknowledged', async () => {
    const output = await acknowledge.execute(ctx(), { incident: 'PACK001' });
    expect(output.status).toBe('acknowledged');
  });

  it('fails clearly when the incident is already resolved', async () => {
    const incident = pd.incidents.get('PACK002');
    if (incident) incident.status = 'resolved';
    await expect(acknowledge.execute(ctx(), { incident: 'PACK002' })).rejects.toThrow(
      'PagerDuty refused PUT /incidents/PACK002: HTTP 400, code 1001 Incident Already Resolved',
    );
    expect(incident?.status).toBe('resolved');
  });

  it('simulates without sending any request', async () => {
    const before = pd.requests.length;
    const plan = await acknowledge.simulate(ctx(), { incident: 'PACK001' });
    expect(plan.summary).toBe('would acknowledge PagerDuty incident PACK001 as oncall@example.com');
    expect(pd.requests.length).toBe(before);
  });

  it('refuses an incident id that could change the request path', () => {
    for (const incident of ['../users', 'PACK001/notes', '', 'P?x=1']) {
      expect(acknowledge.input.safeParse({ incident }).success, incident).toBe(false);
    }
  });

  it('declares one incident target, cost 1, a write that cannot be undone', () => {
    expect(acknowledge.targets({ incident: 'PACK001' })).toEqual(['incident:PACK001']);
    expect(acknowledge.cost?.({ incident: 'PACK001' })).toBe(1);
    expect(acknowledge).toMatchObject({ risk: 'write', reversible: false });
  });
});
