/** chat.notify: tells people something, in the run's thread in the tenant's chat. */
import { defineStep, type Json, z } from '../../../sdk/index.js';

/**
 * Posts the message into the run's thread in the tenant's Slack and/or Teams channel (or into
 * `channel`) and answers `{ delivered: 'chat', platforms }`. A tenant without chat gets the message
 * in the step's log (`{ delivered: 'log' }`). A message is never worth failing a run for: when the
 * platform refuses, the message goes to the log and the answer carries the error.
 * @example
 * // playbook: uses: chat.notify
 * //   with: { text: "Restarted ingest shard {{ alert.labels.shard }}" }
 */
export const notify = defineStep({
  description: "Posts a message into the run's thread in the tenant's chat (else to the run log).",
  input: z.strictObject({
    text: z.string().min(1).max(4000),
    channel: z.string().min(1).max(200).optional(),
  }),
  risk: 'none',
  reversible: false,
  idempotent: true,
  targets: () => [],
  simulate: (_ctx, i) => ({
    summary: `notify ${i.channel ?? "the run's thread"}: ${i.text.slice(0, 80)}`,
  }),
  async execute(ctx, i): Promise<Json> {
    const channel = i.channel ?? null;
    let error: string | undefined;
    if (ctx.chat) {
      try {
        const platforms = await ctx.chat.post({ text: i.text, channel: i.channel });
        if (platforms.length > 0) return { delivered: 'chat', platforms };
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        ctx.logger.warn('chat.notify could not post; the message is in the log', { error });
      }
    }
    ctx.logger.info(i.text, { step: 'chat.notify', channel });
    return error === undefined ? { delivered: 'log' } : { delivered: 'log', error };
  },
});
