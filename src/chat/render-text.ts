/**
 * Render-text: the platform-neutral sentences both chat renderers share — cleaning and cutting user
 * text, times, links, status icons, a decision's outcome line, and the one-line summaries used as
 * Slack's notification text and as an Adaptive Card's `fallbackText`.
 */
import type {
  ApprovalCardView,
  NoticeView,
  ReceiptLineView,
  ReportLinkView,
  RunSummaryView,
  SimulationView,
} from './views.js';

/** Options every renderer accepts. */
export interface RenderOptions {
  /** Warden's public base URL; relative links (`/api/v1/runs/…`) are made absolute with it. */
  baseUrl?: string | undefined;
}

const ELLIPSIS = '…';

/** Drops control characters (keeping newlines and tabs) and normalises line ends. */
export function clean(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** One line: whitespace runs (newlines included) become one space. */
export function oneLine(text: string): string {
  return clean(text).replace(/\s+/g, ' ').trim();
}

/**
 * Cuts `text` to at most `max` UTF-16 units, ending with "…" when cut, never splitting a surrogate
 * pair.
 * @example truncate('abcdef', 4) // 'abc…'
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - ELLIPSIS.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, Math.max(0, end)).trimEnd()}${ELLIPSIS}`;
}

/** `… and 12 more` */
export function moreLine(hidden: number, noun = ''): string {
  return `${ELLIPSIS} and ${hidden} more${noun ? ` ${noun}` : ''}`;
}

/**
 * The first `max` items joined, the rest counted.
 * @example listOf(['a', 'b', 'c'], 2) // 'a, b … and 1 more'
 */
export function listOf(items: string[], max: number, separator = ', '): string {
  const shown = items.filter((i) => i !== '');
  const more = shown.length > max ? ` ${moreLine(shown.length - max)}` : '';
  return shown.slice(0, max).join(separator) + more;
}

/** `2026-11-23 14:05 UTC`; the input unchanged when it is not a date. */
export function formatUtc(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Seconds since the epoch, or undefined when `iso` is not a date. */
export function unixSeconds(iso: string): number | undefined {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * An absolute http(s) URL for a link, or undefined when it cannot be one (a relative link without a
 * base URL, another scheme such as `javascript:`).
 * @example resolveUrl('/api/v1/runs/r1', 'https://warden.example') // 'https://warden.example/api/v1/runs/r1'
 */
export function resolveUrl(url: string, baseUrl?: string): string | undefined {
  try {
    const resolved = baseUrl ? new URL(url, baseUrl) : new URL(url);
    return resolved.protocol === 'https:' || resolved.protocol === 'http:'
      ? resolved.href
      : undefined;
  } catch {
    return undefined;
  }
}

const statusIcons: Record<string, string> = {
  queued: '🕒',
  pending: '🕒',
  running: '⏳',
  awaiting_approval: '✋',
  needs_approval: '✋',
  approval_required: '✋',
  succeeded: '✅',
  allow: '✅',
  planned: '✅',
  failed: '❌',
  denied: '⛔',
  deny: '⛔',
  would_be_denied: '⛔',
  cancelled: '🚫',
  skipped: '⏭️',
  rolled_back: '↩️',
};

/** An icon for a run, step or decision status; `•` for one it does not know. */
export function statusIcon(status: string): string {
  return statusIcons[status] ?? '•';
}

/** `awaiting_approval` → `awaiting approval` */
export function humanize(code: string): string {
  return code.replace(/_/g, ' ');
}

export const toneIcons: Record<NoticeView['tone'], string> = {
  info: 'ℹ️',
  success: '✅',
  warning: '⚠️',
  error: '❌',
};

/** `1 of 2 approvals` */
export function approvalProgress(view: ApprovalCardView): string {
  return `${view.approvals.length} of ${view.minApprovals} approval${view.minApprovals === 1 ? '' : 's'}`;
}

/** The decided card's outcome: icon, sentence and (when known) the ISO time it happened. */
export function outcomeOf(view: ApprovalCardView): { icon: string; text: string; at?: string } {
  const at = view.decided?.at;
  const withAt = (icon: string, text: string) => (at ? { icon, text, at } : { icon, text });
  if (view.status === 'approved') {
    const who = view.approvals.map((a) => a.actor);
    if (who.length === 0 && view.decided?.actor) who.push(view.decided.actor);
    return withAt('✅', who.length ? `Approved by ${who.join(', ')}` : 'Approved');
  }
  if (view.status === 'rejected') {
    const who = view.decided?.actor;
    return withAt('❌', who ? `Rejected by ${who}` : 'Rejected');
  }
  if (view.status === 'expired') {
    return withAt('⌛', `Expired with ${approvalProgress(view)}`);
  }
  return { icon: '✋', text: `Waiting for approval (${approvalProgress(view)})` };
}

/** `checkout-restart needs approval: restart (kubernetes.rollout-restart)` */
export function approvalText(view: ApprovalCardView): string {
  const head =
    view.status === 'pending'
      ? `${view.playbook} needs approval`
      : `${view.playbook}: ${outcomeOf(view).text.toLowerCase()}`;
  return oneLine(`${head}: ${view.stepId} (${view.uses}) — ${view.summary}`);
}

export function runText(view: RunSummaryView): string {
  return oneLine(`${view.playbook} v${view.version} ${humanize(view.status)} — ${view.trigger}`);
}

export function simulationText(view: SimulationView): string {
  return oneLine(`Simulation of ${view.playbook} v${view.version}: ${humanize(view.outcome)}`);
}

export function receiptText(view: ReceiptLineView): string {
  return oneLine(`Receipt #${view.seq} ${view.kind}: ${view.summary}`);
}

export function reportLinkText(view: ReportLinkView): string {
  return oneLine(`Trust report for ${view.tenant}, week ${view.week}`);
}

export function noticeText(view: NoticeView): string {
  return oneLine(`${toneIcons[view.tone]} ${view.title}`);
}
