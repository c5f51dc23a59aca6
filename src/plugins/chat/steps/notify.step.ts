/** chat.notify: tells people something; for now it writes the message to the step's log. */
import { defineStep, z } from '../../../sdk/index.js';

/**
 * Until chat delivery lands this logs the message and answers `{ delivered: 'log' }`.
 * @example
 * // playbook: uses: chat.notify
 * //   with: { text: "Restarted ingest shard {{ alert.labels.shard }}" }
 */
export const notify = defineStep({
  description: 'Posts a message to the tenant channel (for now: to the run log).',
  input: z.strictObject({
    text: z.string().min(1).max(4000),
    channel: z.string().min(1).max(200).optional(),
  }),
  risk: 'none',
  reversible: false,
  idempotent: true,
  targets: () => [],
  simulate: (_ctx, i) => ({
    summary: `notify ${i.channel ?? 'the tenant channel'}: ${i.text.slice(0, 80)}`,
  }),
  async execute(ctx, i) {
    ctx.logger.info(i.text, { step: 'chat.notify', channel: i.channel ?? null });
    return { delivered: 'log' };
  },
});
