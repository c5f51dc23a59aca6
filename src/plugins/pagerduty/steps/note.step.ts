/** `pagerduty.note`: adds a note to an incident's timeline. */
import { defineStep, z } from '../../../sdk/index.js';
import { createPagerDutyClient } from '../client.js';
import { incidentId } from '../incident-id.js';
import { readSettings } from '../settings.js';

/**
 * @example
 * // playbook: { uses: pagerduty.note, with: { incident: "{{ event.data.id }}", content: "Restarted shard 3" } }
 * await note.execute(ctx, { incident: 'PT4KHLK', content: 'Restarted shard 3' });
 * // { incident: 'PT4KHLK', note: 'PWL7QXS', created_at: '2025-…' }
 */
export const note = defineStep({
  description: "Adds a note to a PagerDuty incident's timeline.",
  input: z.strictObject({
    incident: incidentId,
    content: z
      .string()
      .max(25_000)
      .refine((s) => s.trim() !== '', 'expected the text of the note'),
  }),
  risk: 'write',
  reversible: false,
  // PagerDuty's REST API takes no idempotency key: a retried note would be added twice.
  idempotent: false,
  targets: (input) => [`incident:${input.incident}`],
  cost: () => 1,
  simulate(ctx, input) {
    const { apiUrl, from } = readSettings(ctx.settings);
    return {
      summary: `would add a ${input.content.length}-character note to PagerDuty incident ${input.incident} as ${from}`,
      effects: [
        {
          request: `POST /incidents/${input.incident}/notes`,
          server: apiUrl,
          content: input.content,
        },
      ],
    };
  },
  execute: (ctx, input) => createPagerDutyClient(ctx).addNote(input.incident, input.content),
});
