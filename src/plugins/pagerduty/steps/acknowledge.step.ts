/** `pagerduty.acknowledge`: acknowledges an incident, which stops its escalation. */
import { incidentStatusStep } from './incident-status.js';

/**
 * @example
 * // playbook: { uses: pagerduty.acknowledge, with: { incident: "{{ event.data.id }}" } }
 * await acknowledge.execute(ctx, { incident: 'PT4KHLK' }); // { incident, status: 'acknowledged', url }
 */
export const acknowledge = incidentStatusStep(
  'acknowledged',
  'acknowledge',
  'Acknowledges a PagerDuty incident, so that it stops escalating.',
);
