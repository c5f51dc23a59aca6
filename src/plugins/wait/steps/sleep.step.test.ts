import { describe, expect, it } from 'vitest';
import type { StepContext } from '../../../sdk/index.js';
import { sleep } from './sleep.step.js';

function context(signal: AbortSignal): StepContext {
  const http = () => Promise.reject(new Error('no network in wait.sleep'));
  const logger = { info: () => {}, warn: () => {} };
  return { tenant: 'acme', http, settings: {}, secrets: {}, logger, signal, idempotencyKey: 'k' };
}

describe('wait.sleep', () => {
  it('waits about as long as asked', async () => {
    const started = performance.now();
    const out = await sleep.execute(context(new AbortController().signal), { seconds: 0.1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(out).toEqual({ sleptSeconds: 0.1 });
  });

  it('stops early when the step is aborted', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = sleep.execute(context(controller.signal), { seconds: 3600 });
    setTimeout(() => controller.abort(new Error('kill switch')), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('accepts 0 to 3600 seconds and nothing else', () => {
    const ok = (v: unknown) => sleep.input.safeParse(v).success;
    expect(ok({ seconds: 0 })).toBe(true);
    expect(ok({ seconds: 3600 })).toBe(true);
    expect(ok({ seconds: 3601 })).toBe(false);
    expect(ok({ seconds: -1 })).toBe(false);
    expect(ok({ seconds: '30' })).toBe(false);
    expect(ok({})).toBe(false);
  });

  it('describes the wait in simulation and touches no target', async () => {
    const ctx = { tenant: 'acme', settings: {}, logger: { info: () => {}, warn: () => {} } };
    expect(await sleep.simulate(ctx, { seconds: 30 })).toEqual({ summary: 'wait 30s' });
    expect(sleep.targets({ seconds: 30 })).toEqual([]);
  });
});
