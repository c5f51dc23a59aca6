/** The wait plugin: pauses a run between steps. */
import { definePlugin } from '../../sdk/index.js';
import { sleep } from './steps/sleep.step.js';

/**
 * @example
 * // playbook: uses: wait.sleep
 */
export const waitPlugin = definePlugin({
  name: 'wait',
  version: '1.0.0',
  description: 'Pauses a run for a number of seconds.',
  steps: { sleep },
});
