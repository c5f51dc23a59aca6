/** The chat plugin: messages for people from inside a playbook. */
import { definePlugin } from '../../sdk/index.js';
import { notify } from './steps/notify.step.js';

/**
 * @example
 * // playbook: uses: chat.notify
 */
export const chatPlugin = definePlugin({
  name: 'chat',
  version: '0.1.0',
  description: "Sends messages into the run's thread in the tenant's chat.",
  capabilities: ['chat'],
  steps: { notify },
});
