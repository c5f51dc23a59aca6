import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePagerDuty, startFakePagerDuty } from '../../../test/fakes/pagerduty.js';
import { testStepContext } from '../../../test/fakes/step-context.js';
import { createPagerDutyClient, PagerDutyError } from './client.js';
import { pagerDutySettings } from './settings.js';

describe('createPagerDutyClient', () => {
  let pd: FakePagerDuty;
  beforeAll(async () => {
    pd = await startFakePagerDuty({ incidents: ['PABC001', 'PABC002', 'PABC003'] });
  });
  afterAll(() => pd.close());
  const ctx = (secrets: Record<string, string> = { token: pd.token }) =>
    testStepContext({ settings: { apiUrl: pd.url, from: 'oncall@example.com' }, secrets });

  it('sends the token, From and the v2 Accept header with an incident reference', async () => {
    await createPagerDutyClient(ctx()).setStatus('PABC001', 'acknowledged');
    const request = pd.requests.at(-1);
    expect(request).toMatchObject({
      method: 'PUT',
      path: '/incidents/PABC001',
      body: { incident: { type: 'incident_reference', status: 'acknowledged' } },
    });
    expect(request?.headers).toMatchObject({
      authorization: `Token token=${pd.token}`,
      from: 'oncall@example.com',
      accept: 'application/vnd.pagerduty+json;version=2',
      'content-type': 'application/json',
    });
  });

  it('throws a clear error and sends nothing when the token secret is missing', () => {
    const before = pd.requests.length;
    expect(() => createPagerDutyClient(ctx({}))).toThrow('pagerduty needs the secret "token"');
    expect(pd.requests.length).toBe(before);
  });

  it('reports a rejected token with the PagerDuty message and a hint', async () => {
    const err = await createPagerDutyClient(ctx({ token: 'wrong' }))
      .setStatus('PABC002', 'acknowledged')
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'PagerDuty refused PUT /incidents/PABC002: HTTP 401, code 2006 Authentication failed — check the pagerduty "token" secret',
    );
    expect(err).toMatchObject({ status: 401, code: 2006, retryable: false });
    expect(pd.incidents.get('PABC002')?.status).toBe('triggered');
  });

  it('reports an unknown incident as not found', async () => {
    await expect(createPagerDutyClient(ctx()).addNote('PNOPE99', 'hello')).rejects.toThrow(
      'PagerDuty refused POST /incidents/PNOPE99/notes: HTTP 404, code 2100 Not Found',
    );
  });

  it('reports an unknown acting user with the code PagerDuty uses', async () => {
    const c = testStepContext({
      settings: { apiUrl: pd.url, from: 'stranger@example.com' },
      secrets: { token: pd.token },
    });
    await expect(createPagerDutyClient(c).setStatus('PABC003', 'resolved')).rejects.toThrow(
      'HTTP 400, code 1008 Requester User Not Found',
    );
  });

  it('marks an unreachable API as retryable', async () => {
    const c = testStepContext({
      settings: { apiUrl: 'http://127.0.0.1:1', from: 'oncall@example.com' },
      secrets: { token: pd.token },
    });
    const err = await createPagerDutyClient(c)
      .setStatus('PABC003', 'acknowledged')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'PagerDutyError', retryable: true });
  });

  it('marks server errors and rate limits as retryable and says when to retry', async () => {
    pd.failNext(500, { error: { message: 'An internal error has occurred.', code: 2000 } });
    const internal = await createPagerDutyClient(ctx())
      .setStatus('PABC003', 'acknowledged')
      .catch((e: unknown) => e);
    expect(internal).toMatchObject({ status: 500, code: 2000, retryable: true });

    pd.failNext(
      429,
      { error: { message: 'Rate Limit Exceeded', code: 2020 } },
      { 'retry-after': '30' },
    );
    await expect(createPagerDutyClient(ctx()).addNote('PABC003', 'x')).rejects.toThrow(
      'HTTP 429, code 2020 Rate Limit Exceeded — rate limited, retry after 30',
    );
  });

  it('keeps the text of an error body that is not PagerDuty JSON', async () => {
    pd.failNext(502, '<html><h1>502 Bad Gateway</h1></html>');
    const err = await createPagerDutyClient(ctx())
      .setStatus('PABC003', 'acknowledged')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PagerDutyError);
    expect((err as Error).message).toBe(
      'PagerDuty refused PUT /incidents/PABC003: HTTP 502, <html><h1>502 Bad Gateway</h1></html>',
    );
  });

  it('refuses an API host the tenant did not allow without retrying', async () => {
    const c = testStepContext({
      settings: { from: 'oncall@example.com' },
      secrets: { token: pd.token },
    });
    const before = pd.requests.length;
    const err = await createPagerDutyClient(c)
      .setStatus('PABC003', 'acknowledged')
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'PagerDuty at https://api.pagerduty.com could not be reached: host api.pagerduty.com is not allowed for this plugin',
    );
    expect(err).toMatchObject({ retryable: false });
    expect(pd.requests.length).toBe(before);
  });
});

describe('pagerDutySettings', () => {
  it('defaults the API to api.pagerduty.com and requires the acting user email', () => {
    expect(pagerDutySettings.parse({ from: 'bot@acme.example' })).toEqual({
      apiUrl: 'https://api.pagerduty.com',
      from: 'bot@acme.example',
    });
    expect(pagerDutySettings.safeParse({}).success).toBe(false);
    expect(pagerDutySettings.safeParse({ from: 'not-an-email' }).success).toBe(false);
    expect(pagerDutySettings.safeParse({ from: 'a@b.example', apiUrl: 'ftp://x' }).success).toBe(
      false,
    );
    // A misspelt key would otherwise fall back to the default API without a word.
    const typo = { from: 'a@b.example', apiURL: 'http://127.0.0.1:8080' };
    expect(pagerDutySettings.safeParse(typo).success).toBe(false);
  });
});
