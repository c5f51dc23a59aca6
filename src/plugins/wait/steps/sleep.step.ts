/** wait.sleep: pauses the run for a while (letting a restart settle); stops early when aborted. */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { defineStep, z } from '../../../sdk/index.js';

/**
 * @example
 * // playbook: uses: wait.sleep
 * //   with: { seconds: 30 }
 */
export const sleep = defineStep({
  description: 'Waits the given number of seconds (at most an hour).',
  input: z.strictObject({ seconds: z.number().min(0).max(3600) }),
  risk: 'none',
  reversible: false,
  idempotent: true,
  targets: () => [],
  simulate: (_ctx, i) => ({ summary: `wait ${i.seconds}s` }),
  async execute(ctx, i) {
    await sleepFor(i.seconds * 1000, undefined, { signal: ctx.signal });
    return { sleptSeconds: i.seconds };
  },
});
