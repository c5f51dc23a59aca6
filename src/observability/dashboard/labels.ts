/** Labels: machine words (reasons, statuses, bucket starts) as the dashboard writes them. */

const words: Record<string, string> = {
  actions_per_hour_exceeded: 'Actions per hour exceeded',
  blast_radius_exceeded: 'Blast radius exceeded',
  cost_per_run_exceeded: 'Cost per run exceeded',
  environment_not_allowed: 'Environment not allowed',
  approval_rejected: 'Approval rejected',
  approval_expired: 'Approval expired',
  awaiting_approval: 'Awaiting approval',
  approval_required: 'Approval required',
};

const sentence = (text: string) => {
  const spaced = text.replace(/[_-]+/g, ' ').trim();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
};

/**
 * @example
 * reasonLabel('step_failed:probe.touch') // 'Step failed: probe.touch'
 * reasonLabel('policy:destructive-needs-approval') // 'Policy: destructive needs approval'
 */
export function reasonLabel(reason: string): string {
  const known = words[reason];
  if (known) return known;
  if (reason.startsWith('step_failed:')) return `Step failed: ${reason.slice(12)}`;
  const colon = reason.indexOf(':');
  if (colon > 0)
    return `${sentence(reason.slice(0, colon))}: ${sentence(reason.slice(colon + 1)).toLowerCase()}`;
  return sentence(reason);
}

/** `succeeded` → `Succeeded`, `awaiting_approval` → `Awaiting approval`. */
export const statusLabel = (status: string): string => words[status] ?? sentence(status);

const hourFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const dayFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'short',
});

/** A bucket's axis label: `14:00` for hours, `3 Mar` for days (UTC). */
export const bucketLabel = (start: string, bucketSeconds: number): string =>
  (bucketSeconds < 86_400 ? hourFormat : dayFormat).format(new Date(start));
