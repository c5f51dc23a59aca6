/** Incident-status: the one shape of the steps that move an incident to a status (ack, resolve). */
import { defineStep, z } from '../../../sdk/index.js';
import { createPagerDutyClient } from '../client.js';
import { incidentId } from '../incident-id.js';
import { readSettings } from '../settings.js';

/**
 * @example
 * export const resolve = incidentStatusStep('resolved', 'resolve', 'Resolves a PagerDuty incident.');
 */
export function incidentStatusStep(
  status: 'acknowledged' | 'resolved',
  verb: string,
  description: string,
) {
  return defineStep({
    description,
    input: z.strictObject({ incident: incidentId }),
    risk: 'write',
    reversible: false,
    idempotent: true,
    targets: (input) => [`incident:${input.incident}`],
    cost: () => 1,
    simulate(ctx, input) {
      const { apiUrl, from } = readSettings(ctx.settings);
      return {
        summary: `would ${verb} PagerDuty incident ${input.incident} as ${from}`,
        effects: [{ request: `PUT /incidents/${input.incident}`, server: apiUrl, status }],
      };
    },
    execute: (ctx, input) => createPagerDutyClient(ctx).setStatus(input.incident, status),
  });
}
