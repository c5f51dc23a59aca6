import { describe, expect, it } from 'vitest';
import type { ChatMessenger, StepContext } from '../../../sdk/index.js';
import { notify } from './notify.step.js';

function context(chat?: ChatMessenger) {
  const lines: { message: string; fields?: Record<string, unknown> }[] = [];
  const logger = {
    info: (message: string, fields?: Record<string, unknown>) => lines.push({ message, fields }),
    warn: (message: string, fields?: Record<string, unknown>) => lines.push({ message, fields }),
  };
  const ctx: StepContext = {
    tenant: 'acme',
    http: () => Promise.reject(new Error('chat.notify needs no network of its own')),
    settings: {},
    secrets: {},
    logger,
    signal: new AbortController().signal,
    idempotencyKey: 'k',
    ...(chat ? { chat } : {}),
  };
  return { ctx, lines };
}

describe('chat.notify', () => {
  it("posts into the run's chat and says which platforms it reached", async () => {
    const posted: unknown[] = [];
    const { ctx, lines } = context({
      post: async (m) => {
        posted.push(m);
        return ['slack', 'teams'];
      },
    });
    const out = await notify.execute(ctx, { text: 'Restarted shard 3' });
    expect(out).toEqual({ delivered: 'chat', platforms: ['slack', 'teams'] });
    expect(posted).toEqual([{ text: 'Restarted shard 3', channel: undefined }]);
    expect(lines).toEqual([]);
  });

  it('writes the message to the step log when the tenant has no chat', async () => {
    for (const chat of [undefined, { post: async () => [] }]) {
      const { ctx, lines } = context(chat);
      const out = await notify.execute(ctx, { text: 'Restarted shard 3', channel: 'C0OPS' });
      expect(out).toEqual({ delivered: 'log' });
      expect(lines).toEqual([
        { message: 'Restarted shard 3', fields: { step: 'chat.notify', channel: 'C0OPS' } },
      ]);
    }
  });

  it('never fails the run for a refused post: the message goes to the log with the error', async () => {
    const { ctx, lines } = context({
      post: async () => {
        throw new Error('Slack answered channel_not_found');
      },
    });
    const out = await notify.execute(ctx, { text: 'Restarted shard 3' });
    expect(out).toEqual({ delivered: 'log', error: 'Slack answered channel_not_found' });
    expect(lines.map((l) => l.message)).toEqual([
      'chat.notify could not post; the message is in the log',
      'Restarted shard 3',
    ]);
  });

  it('accepts up to 4000 characters of text and rejects empty or longer text', () => {
    const ok = (v: unknown) => notify.input.safeParse(v).success;
    expect(ok({ text: 'x'.repeat(4000) })).toBe(true);
    expect(ok({ text: 'x'.repeat(4001) })).toBe(false);
    expect(ok({ text: '' })).toBe(false);
    expect(ok({ text: 'hi', chanel: 'typo' })).toBe(false);
  });

  it('describes the message in simulation without posting or logging it', async () => {
    const { ctx, lines } = context({
      post: async () => {
        throw new Error('simulation must not post');
      },
    });
    const plan = await notify.simulate(ctx, { text: 'Restarted shard 3' });
    expect(plan.summary).toBe("notify the run's thread: Restarted shard 3");
    expect(lines).toEqual([]);
  });
});
