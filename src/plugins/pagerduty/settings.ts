/** PagerDuty plugin settings: the REST API root and the user the actions are recorded as. */
import { z } from '../../sdk/index.js';

/**
 * The tenant's `plugins.pagerduty` settings; the `token` secret is read separately.
 * @example
 * pagerDutySettings.parse({ from: 'oncall-bot@acme.example' });
 * // { apiUrl: 'https://api.pagerduty.com', from: 'oncall-bot@acme.example' }
 */
export const pagerDutySettings = z.strictObject({
  /** REST API root; the step context must allow its host. @defaultValue 'https://api.pagerduty.com' */
  apiUrl: z
    .url({
      protocol: /^https?$/,
      error: 'expected an http(s) URL such as https://api.pagerduty.com',
    })
    .default('https://api.pagerduty.com'),
  /** Email of the PagerDuty user the changes are made as (the `From` header). */
  from: z.email({ error: 'expected the email address of a PagerDuty user' }),
});

export type PagerDutySettings = z.output<typeof pagerDutySettings>;

/**
 * Validates a step context's settings, with a message that names the plugin.
 * @example
 * const { apiUrl, from } = readSettings(ctx.settings);
 */
export function readSettings(settings: unknown): PagerDutySettings {
  const parsed = pagerDutySettings.safeParse(settings);
  if (!parsed.success) {
    throw new Error(`pagerduty settings are invalid: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
