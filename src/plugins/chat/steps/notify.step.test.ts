import { describe, expect, it } from 'vitest';
import type { StepContext } from '../../../sdk/index.js';
import { notify } from './notify.step.js';

function context() {
  const lines: { message: string; fields?: Record<string, unknown> }[] = [];
  const logger = {
    info: (message: string, fields?: Record<string, unknown>) => lines.push({ message, fields }),
    warn: () => {},
  };
  const ctx: StepContext = {
    tenant: 'acme',
    http: () => Promise.reject(new Error('no network in chat.notify yet')),
    settings: {},
    secrets: {},
    logger,
    signal: new AbortController().signal,
    idempotencyKey: 'k',
  };
  return { ctx, lines };
}

describe('chat.notify', () => {
  it('writes the message to the step log and says it was delivered there', async () => {
    const { ctx, lines } = context();
    const out = await notify.execute(ctx, { text: 'Restarted shard 3', channel: 'C0OPS' });
    expect(out).toEqual({ delivered: 'log' });
    expect(lines).toEqual([
      { message: 'Restarted shard 3', fields: { step: 'chat.notify', channel: 'C0OPS' } },
    ]);
  });

  it('accepts up to 4000 characters of text and rejects empty or longer text', () => {
    const ok = (v: unknown) => notify.input.safeParse(v).success;
    expect(ok({ text: 'x'.repeat(4000) })).toBe(true);
    expect(ok({ text: 'x'.repeat(4001) })).toBe(false);
    expect(ok({ text: '' })).toBe(false);
    expect(ok({ text: 'hi', chanel: 'typo' })).toBe(false);
  });

  it('describes the message in simulation without logging it', async () => {
    const { ctx, lines } = context();
    const plan = await notify.simulate(ctx, { text: 'Restarted shard 3' });
    expect(plan.summary).toBe('notify the tenant channel: Restarted shard 3');
    expect(lines).toEqual([]);
  });
});
