/**
 * Blocks: the chat views rendered as Slack Block Kit messages — pure functions from a view to
 * `{ text, blocks }`, within Slack's documented limits, with user text mrkdwn-escaped and cut with
 * "…" (the limits and their check live in block-kit-check.ts).
 */
import type { types } from '@slack/bolt';
import {
  approvalProgress,
  approvalText,
  clean,
  formatUtc,
  humanize,
  listOf,
  moreLine,
  noticeText,
  oneLine,
  outcomeOf,
  type RenderOptions,
  receiptText,
  reportLinkText,
  resolveUrl,
  runText,
  simulationText,
  statusIcon,
  toneIcons,
  truncate,
  unixSeconds,
} from '../render-text.js';
import type {
  ApprovalCardView,
  Link,
  NoticeView,
  ReceiptLineView,
  ReportLinkView,
  RunSummaryView,
  SimulationView,
} from '../views.js';
import { blockKitLimits } from './block-kit-check.js';

export type Block = types.KnownBlock;
type SectionBlock = types.SectionBlock;

/** What `chat.postMessage` / `chat.update` / `respond()` take: notification text and blocks. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** The Approve / Reject buttons' ids, and the block that holds them. */
export const APPROVE_ACTION_ID = 'warden_approve';
export const REJECT_ACTION_ID = 'warden_reject';
export const TICKET_BLOCK_ID = 'warden_ticket';

/** The ticket id in an Approve / Reject button's `value` (`{"ticket":"…"}`), if it is one. */
export function ticketOfValue(value: string | undefined): string | undefined {
  try {
    const ticket = (JSON.parse(value ?? '') as { ticket?: unknown } | null)?.ticket;
    return typeof ticket === 'string' && ticket !== '' ? ticket : undefined;
  } catch {
    return undefined;
  }
}

// ---- mrkdwn ---------------------------------------------------------------------------------

/** Escapes the three characters Slack mrkdwn reserves; the result is safe to interpolate. */
function esc(text: string): string {
  return clean(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts escaped text without leaving half an entity (`&am…`). */
function cut(escaped: string, max: number): string {
  return truncate(escaped, max).replace(/&[a-z]{0,3}…$/, '…');
}

/** User text as one escaped, cut line. */
function line(text: string, max: number): string {
  return cut(esc(oneLine(text)), max);
}

function code(text: string, max = 200): string {
  const inner = line(text, max).replace(/`/g, "'");
  return inner ? `\`${inner}\`` : '';
}

/** A viewer-local date (`<!date^…>`), UTC text as its fallback. */
function date(iso: string): string {
  const unix = unixSeconds(iso);
  return unix === undefined
    ? line(iso, 100)
    : `<!date^${unix}^{date_short_pretty} {time}|${formatUtc(iso)}>`;
}

/** `<url|label>` for an http(s) link; the label and the path as text otherwise. */
function link(l: Link, opts: RenderOptions): string {
  const label = line(l.label, 100) || 'link';
  const url = resolveUrl(l.url, opts.baseUrl);
  if (!url || url.length > 2000) return `${label} (${code(l.url, 150)})`;
  const href = url
    .replace(/&/g, '&amp;')
    .replace(/</g, '%3C')
    .replace(/>/g, '%3E')
    .replace(/\|/g, '%7C');
  return `<${href}|${label}>`;
}

// ---- blocks ---------------------------------------------------------------------------------

function header(text: string): Block {
  const plain = truncate(oneLine(text), blockKitLimits.headerText) || 'Warden';
  return { type: 'header', text: { type: 'plain_text', text: plain, emoji: true } };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text, verbatim: true } };
}

function context(parts: string[]): Block {
  const elements = parts
    .filter((p) => p !== '')
    .slice(0, blockKitLimits.contextElements)
    .map((p) => ({ type: 'mrkdwn' as const, text: p, verbatim: true }));
  return { type: 'context', elements };
}

/**
 * Items packed into as few sections as fit `sectionText` (at most `maxSections`), the first one
 * titled; items past `maxItems`, or that do not fit, are counted in a last "… and N more" line.
 * No items, no block.
 */
function sections(title: string, items: string[], maxItems = 10, noun = '', maxSections = 1) {
  const lines = items.filter((i) => i !== '');
  const max = blockKitLimits.sectionText - 40;
  const out: SectionBlock[] = [];
  let current = title;
  for (const [i, raw] of lines.entries()) {
    const next = cut(raw, max - title.length - 1);
    const joined = current ? `${current}\n${next}` : next;
    if (i < maxItems && joined.length <= max) {
      current = joined;
      continue;
    }
    if (i >= maxItems || out.length + 1 >= maxSections) {
      out.push(section(`${current}\n${moreLine(lines.length - i, noun)}`));
      return out;
    }
    out.push(section(current));
    current = next;
  }
  return lines.length ? [...out, section(current)] : [];
}

/** Named values side by side; empty ones left out. */
function fields(pairs: Record<string, string>): SectionBlock {
  const shown = Object.entries(pairs).filter(([, value]) => value !== '');
  return {
    type: 'section',
    fields: shown.slice(0, blockKitLimits.fieldsPerSection).map(([name, value]) => ({
      type: 'mrkdwn',
      text: `*${name}*\n${cut(value, blockKitLimits.fieldText - name.length - 3)}`,
      verbatim: true,
    })),
  };
}

function message(text: string, blocks: Block[]): SlackMessage {
  return {
    text: cut(esc(text), 300) || 'Warden',
    blocks: blocks.slice(0, blockKitLimits.blocksPerMessage),
  };
}

// ---- messages -------------------------------------------------------------------------------

function decisionBlock(view: ApprovalCardView): Block {
  if (view.status !== 'pending') {
    const outcome = outcomeOf(view);
    return context([
      `${outcome.icon} ${line(outcome.text, 1500)}${outcome.at ? ` · ${date(outcome.at)}` : ''}`,
    ]);
  }
  const value = JSON.stringify({ ticket: view.ticketId });
  if (value.length > blockKitLimits.buttonValue) {
    return context(['⚠️ This ticket id is too long for a Slack button: decide it in Warden.']);
  }
  const button = (action_id: string, label: string, style: 'primary' | 'danger') => ({
    type: 'button' as const,
    action_id,
    text: { type: 'plain_text' as const, text: label, emoji: true },
    style,
    value,
  });
  return {
    type: 'actions',
    block_id: TICKET_BLOCK_ID,
    elements: [
      button(APPROVE_ACTION_ID, 'Approve', 'primary'),
      button(REJECT_ACTION_ID, 'Reject', 'danger'),
    ],
  };
}

/**
 * The approval card: the blocked step, why, next steps, evidence, rollback, who may approve and
 * until when; Approve / Reject buttons while pending, the outcome once decided.
 * @example await client.chat.postMessage({ channel, thread_ts, ...approvalMessage(view, { baseUrl }) });
 */
export function approvalMessage(view: ApprovalCardView, opts: RenderOptions = {}): SlackMessage {
  const title =
    view.status === 'pending'
      ? `⚠️ ${view.playbook} needs approval`
      : `${outcomeOf(view).icon} ${view.playbook}: ${view.status}`;
  const targets = listOf(
    view.targets.map((t) => code(t, 150)),
    10,
  );
  const step = [
    `*Step* ${code(view.stepId)} · ${code(view.uses)}`,
    line(view.summary, 1000),
    targets && `*Targets:* ${targets}`,
  ];
  const why = view.reasons.map((r) => bullet(r.text, 1000));
  const next = view.nextSteps.map((s) => bullet(s, 500));
  const evidence = view.evidence.map((l) => `• ${link(l, opts)}`);
  const deny = '⛔ A guardrail denied this step; an approval overrides the deny.';
  return message(approvalText(view), [
    header(title),
    section(step.filter(Boolean).join('\n')),
    ...(view.outcome === 'deny' ? [context([deny])] : []),
    ...sections('*Why*', why, 10, 'reasons'),
    ...sections('*Next steps*', next, 10, 'steps'),
    ...sections('*Evidence*', evidence, 15, 'links'),
    ...sections('*Rollback*', [line(view.rollback, 1500)]),
    fields({
      Approvers: listOf(
        view.approvers.map((a) => line(a, 100)),
        10,
      ),
      Approvals: [approvalProgress(view), ...view.approvals.map((a) => line(a.actor, 100))].join(
        ' · ',
      ),
      Expires: date(view.expiresAt),
      'Input digest': code(view.inputDigest),
    }),
    context([
      `Ticket ${code(view.ticketId)}`,
      `run ${code(view.runId)}`,
      `tenant ${code(view.tenant)}`,
    ]),
    decisionBlock(view),
  ]);
}

function bullet(text: string, max: number): string {
  const l = line(text, max);
  return l && `• ${l}`;
}

/** `✅ \`step-1\` · \`http.request\`` */
const stepLine = (icon: string, id: string, uses: string) =>
  `${icon ? `${icon} ` : ''}${code(id, 100)} · ${code(uses, 100)}`;

/** A run's summary: the thread's first message, updated as the run moves. */
export function runSummaryMessage(view: RunSummaryView, opts: RenderOptions = {}): SlackMessage {
  const title = `${statusIcon(view.status)} ${view.playbook} v${view.version} · ${humanize(view.status)}`;
  const steps = view.steps.map((s) => {
    const why = s.reasons?.length ? `: ${s.reasons.join(', ')}` : '';
    const decision = s.decision ? ` (${humanize(s.decision)}${why})` : '';
    return `${stepLine(statusIcon(s.status), s.id, s.uses)} — ${line(`${humanize(s.status)}${decision}`, 400)}`;
  });
  const links = listOf(
    view.links.map((l) => link(l, opts)),
    10,
    ' · ',
  );
  const finished = view.finishedAt ? `finished ${date(view.finishedAt)}` : '';
  return message(runText(view), [
    header(title),
    section(`*Trigger:* ${line(view.trigger, 1000) || '—'}`),
    ...sections(`*Steps* (${view.steps.length})`, steps, 60, 'steps', 4),
    ...sections('*Error*', [line(view.error ?? '', 2000)]),
    ...(links ? [section(`*Links:* ${links}`)] : []),
    context([
      `Run ${code(view.runId)}`,
      `tenant ${code(view.tenant)}`,
      `started ${date(view.startedAt)}`,
      finished,
    ]),
  ]);
}

/** What a playbook would do now, step by step, without doing it. */
export function simulationMessage(view: SimulationView): SlackMessage {
  const trigger = view.wouldTrigger === null ? 'unknown' : view.wouldTrigger ? 'yes' : 'no';
  const outcome = `${statusIcon(view.outcome)} *Outcome:* ${line(humanize(view.outcome), 100)}`;
  const steps = view.steps.slice(0, 15).map((s) => {
    const targets = listOf(
      s.targets.map((t) => code(t, 100)),
      10,
    );
    const budgets = s.budgets ? ` · *Budgets:* ${line(s.budgets, 300)}` : '';
    const lines = [
      `${stepLine(statusIcon(s.decision), s.id, s.uses)} — *${line(humanize(s.decision), 50)}*`,
      line(s.summary, 500),
      targets && `*Targets:* ${targets}`,
      `*Cost:* ${s.cost} · *Risk:* ${line(s.risk, 50)}${budgets}`,
      s.reasons.length ? `*Reasons:* ${line(s.reasons.join(', '), 500)}` : '',
    ];
    return section(lines.filter(Boolean).join('\n'));
  });
  const hidden = view.steps.length - steps.length;
  const denied = view.denied && [
    `⛔ *Plan denied* at ${code(view.denied.step)}: ${line(humanize(view.denied.reason), 200)}`,
    line(view.denied.detail, 1500),
  ];
  return message(simulationText(view), [
    header(`🧪 Simulation: ${view.playbook} v${view.version}`),
    section(`${outcome} · *Would trigger:* ${trigger}`),
    ...steps,
    ...(hidden > 0 ? [section(moreLine(hidden, 'steps'))] : []),
    ...(denied ? [section(denied.filter(Boolean).join('\n'))] : []),
    context([`Receipt ${code(view.receiptId)}`, `tenant ${code(view.tenant)}`]),
  ]);
}

/** One receipt, as a small reply in the run's thread. */
export function receiptMessage(view: ReceiptLineView): SlackMessage {
  return message(receiptText(view), [
    context([
      `🧾 *${line(view.kind, 100)}* #${view.seq} · ${line(view.summary, 1500)}`,
      `digest ${code(view.digest, 150)} · receipt ${code(view.id)}`,
    ]),
  ]);
}

/** The weekly trust report's signed link. */
export function reportLinkMessage(view: ReportLinkView, opts: RenderOptions = {}): SlackMessage {
  return message(reportLinkText(view), [
    section(
      `📊 *Trust report* for ${code(view.tenant)}, week ${line(view.week, 50)}\n${link({ label: 'Open the report', url: view.url }, opts)}`,
    ),
    context([`Link expires ${date(view.expiresAt)}`, `receipt ${code(view.receiptId)}`]),
  ]);
}

/** A command's short answer. */
export function noticeMessage(view: NoticeView): SlackMessage {
  const title = `${toneIcons[view.tone]} *${line(view.title, 300) || humanize(view.tone)}*`;
  const lines = view.lines.map((l) => line(l, 1000));
  const blocks = sections(title, lines, 30, 'lines', 3);
  return message(noticeText(view), blocks.length ? blocks : [section(title)]);
}

/** `/playbook approvals`: one entry per ticket; deciding happens on the ticket's own card. */
export function approvalsListMessage(views: ApprovalCardView[]): SlackMessage {
  const shown = views.slice(0, 20);
  const pending = views.filter((v) => v.status === 'pending').length;
  const entries = shown.flatMap((v): Block[] => {
    const when = v.status === 'pending' ? `expires ${date(v.expiresAt)}` : v.status;
    const lines = [
      `*${line(v.playbook, 200)}* · ${stepLine('', v.stepId, v.uses)}`,
      line(v.summary, 500),
      `${outcomeOf(v).icon} ${approvalProgress(v)} · ${when}`,
    ];
    return [
      section(lines.filter(Boolean).join('\n')),
      context([`Ticket ${code(v.ticketId)}`, `run ${code(v.runId)}`]),
    ];
  });
  const more = views.length - shown.length;
  return message(`${pending} approval${pending === 1 ? '' : 's'} waiting`, [
    header(`✋ Approvals waiting: ${pending}`),
    ...(views.length === 0 ? [section('No approvals are waiting.')] : entries),
    ...(more > 0 ? [section(moreLine(more, 'tickets'))] : []),
  ]);
}
