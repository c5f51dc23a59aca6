/** `pagerduty.resolve`: resolves an incident; resolving a resolved incident succeeds. */
import { defineStep, z } from '../../../sdk/index.js';
import { createPagerDutyClient } from '../client.js';
import { incidentId } from '../incident-id.js';
import { readSettings } from '../settings.js';

/**
 * @example
 * // playbook: { uses: pagerduty.resolve, with: { incident: "{{ event.data.id }}" } }
 * await resolve.execute(ctx, { incident: 'PT4KHLK' }); // { incident, status: 'resolved', url }
 */
export const resolve = defineStep({
  description: 'Resolves a PagerDuty incident.',
  input: z.strictObject({ incident: incidentId }),
  risk: 'write',
  reversible: false,
  idempotent: true,
  targets: (input) => [`incident:${input.incident}`],
  cost: () => 1,
  simulate(ctx, input) {
    const { apiUrl, from } = readSettings(ctx.settings);
    return {
      summary: `would resolve PagerDuty incident ${input.incident} as ${from}`,
      effects: [
        { request: `PUT /incidents/${input.incident}`, server: apiUrl, status: 'resolved' },
      ],
    };
  },
  execute: (ctx, input) => createPagerDutyClient(ctx).setStatus(input.incident, 'resolved'),
});
