import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePagerDuty, startFakePagerDuty } from '../../../../test/fakes/pagerduty.js';
import { testStepContext } from '../../../../test/fakes/step-context.js';
import { note } from './note.step.js';

describe('pagerduty.note', () => {
  let pd: FakePagerDuty;
  beforeAll(async () => {
    pd = await startFakePagerDuty({ incidents: ['PNOTE01'] });
  });
  afterAll(() => pd.close());
  const ctx = () =>
    testStepContext({
      settings: { apiUrl: pd.url, from: 'oncall@example.com' },
      secrets: { token: pd.token },
    });

  it('adds the note to the incident and returns its id and time', async () => {
    const content = 'Warden restarted shard 3; receipt lag back under 30s.';
    const output = await note.execute(ctx(), note.input.parse({ incident: 'PNOTE01', content }));
    const stored = pd.incidents.get('PNOTE01')?.notes;
    expect(stored).toEqual([
      { id: output.note, content, by: 'oncall@example.com', createdAt: output.created_at },
    ]);
    expect(output.incident).toBe('PNOTE01');
    expect(pd.requests.at(-1)?.body).toEqual({ note: { content } });
  });

  it('accepts 25000 characters and refuses more or a blank note', () => {
    expect(note.input.safeParse({ incident: 'PNOTE01', content: 'x'.repeat(25_000) }).success).toBe(
      true,
    );
    expect(note.input.safeParse({ incident: 'PNOTE01', content: 'x'.repeat(25_001) }).success).toBe(
      false,
    );
    expect(note.input.safeParse({ incident: 'PNOTE01', content: '  \n' }).success).toBe(false);
  });

  it('surfaces the PagerDuty validation errors', async () => {
    pd.failNext(400, {
      error: {
        message: 'Invalid Input Provided',
        code: 2001,
        errors: ['Note content cannot be empty'],
      },
    });
    await expect(note.execute(ctx(), { incident: 'PNOTE01', content: 'x' })).rejects.toThrow(
      'HTTP 400, code 2001 Invalid Input Provided (Note content cannot be empty)',
    );
  });

  it('simulates without sending any request', async () => {
    const before = pd.requests.length;
    const plan = await note.simulate(ctx(), { incident: 'PNOTE01', content: 'hello' });
    expect(plan.summary).toBe(
      'would add a 5-character note to PagerDuty incident PNOTE01 as oncall@example.com',
    );
    expect(pd.requests.length).toBe(before);
  });

  it('declares one incident target, cost 1, and that a retry would add it twice', () => {
    expect(note.targets({ incident: 'PNOTE01', content: 'x' })).toEqual(['incident:PNOTE01']);
    expect(note.cost?.({ incident: 'PNOTE01', content: 'x' })).toBe(1);
    expect(note).toMatchObject({ risk: 'write', reversible: false, idempotent: false });
  });
});
