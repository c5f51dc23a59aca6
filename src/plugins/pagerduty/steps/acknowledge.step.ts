/** `pagerduty.acknowledge`: acknowledges an incident, which stops its escalation. */
import { defineStep, z } from '../../../sdk/index.js';
import { createPagerDutyClient } from '../client.js';
import { incidentId } from '../incident-id.js';
import { readSettings } from '../settings.js';

/**
 * @example
 * // playbook: { uses: pagerduty.acknowledge, with: { incident: "{{ event.data.id }}" } }
 * await acknowledge.execute(ctx, { incident: 'PT4KHLK' }); // { incident, status: 'acknowledged', url }
 */
export const acknowledge = defineStep({
  description: 'Acknowledges a PagerDuty incident, so that it stops escalating.',
  input: z.strictObject({ incident: incidentId }),
  risk: 'write',
  reversible: false,
  idempotent: true,
  targets: (input) => [`incident:${input.incident}`],
  cost: () => 1,
  simulate(ctx, input) {
    const { apiUrl, from } = readSettings(ctx.settings);
    return {
      summary: `would acknowledge PagerDuty incident ${input.incident} as ${from}`,
      effects: [
        { request: `PUT /incidents/${input.incident}`, server: apiUrl, status: 'acknowledged' },
      ],
    };
  },
  execute: (ctx, input) => createPagerDutyClient(ctx).setStatus(input.incident, 'acknowledged'),
});
