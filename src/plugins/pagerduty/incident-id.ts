/** The `incident` input shared by the PagerDuty steps. */
import { z } from '../../sdk/index.js';

/**
 * A PagerDuty incident ID (letters and digits, as in `PT4KHLK`): nothing that could alter the path.
 * @example
 * z.strictObject({ incident: incidentId }).parse({ incident: 'PT4KHLK' });
 */
export const incidentId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{1,64}$/, 'expected a PagerDuty incident ID such as PT4KHLK');
