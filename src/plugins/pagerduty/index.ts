/** The PagerDuty plugin: acknowledge, resolve and annotate incidents through the REST API v2. */
import { definePlugin, hostOf } from '../../sdk/index.js';
import { pagerDutySettings } from './settings.js';
import { acknowledge } from './steps/acknowledge.step.js';
import { note } from './steps/note.step.js';
import { resolve } from './steps/resolve.step.js';

/**
 * @example
 * // warden.yaml: plugins: { pagerduty: { from: "warden@acme.example", secrets: { token: env:ACME_PD_TOKEN } } }
 * // playbook:   - { id: ack, uses: pagerduty.acknowledge, with: { incident: "{{ event.data.id }}" } }
 */
export const pagerDutyPlugin = definePlugin({
  name: 'pagerduty',
  version: '1.0.0',
  description: 'Acknowledges, resolves and adds notes to PagerDuty incidents.',
  settings: pagerDutySettings,
  hosts: (settings) => hostOf(settings.apiUrl ?? 'https://api.pagerduty.com'),
  secrets: ['token'],
  steps: { acknowledge, resolve, note },
});
