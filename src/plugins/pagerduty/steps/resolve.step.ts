/** `pagerduty.resolve`: resolves an incident; resolving a resolved incident succeeds. */
import { incidentStatusStep } from './incident-status.js';

/**
 * @example
 * // playbook: { uses: pagerduty.resolve, with: { incident: "{{ event.data.id }}" } }
 * await resolve.execute(ctx, { incident: 'PT4KHLK' }); // { incident, status: 'resolved', url }
 */
export const resolve = incidentStatusStep('resolved', 'resolve', 'Resolves a PagerDuty incident.');
