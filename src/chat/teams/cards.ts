/**
 * Cards: the chat views rendered as Adaptive Cards 1.5 for Teams — pure functions from a view to a
 * card. User text goes into RichTextBlock TextRuns, which Adaptive Cards never read as Markdown;
 * TextBlocks carry only Warden's own words and links. No action styles or media (Teams ignores or
 * refuses them), and every card is cut to fit Teams' message size.
 */
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

type Color = 'Good' | 'Attention' | 'Warning' | 'Accent';
type Spacing = 'None' | 'Small' | 'Medium';

interface TextRun {
  type: 'TextRun';
  text: string;
  weight?: 'Bolder';
  size?: 'Medium' | 'Large';
  fontType?: 'Monospace';
  color?: Color;
  isSubtle?: boolean;
}
interface RichTextBlock {
  type: 'RichTextBlock';
  inlines: TextRun[];
  spacing?: Spacing;
  separator?: boolean;
}
interface TextBlock {
  type: 'TextBlock';
  text: string;
  wrap: true;
  weight?: 'Bolder';
  spacing?: Spacing;
}
interface FactSet {
  type: 'FactSet';
  facts: Array<{ title: string; value: string }>;
  spacing?: Spacing;
}
interface Container {
  type: 'Container';
  items: CardElement[];
  spacing?: Spacing;
  separator?: boolean;
}
interface ActionSubmit {
  type: 'Action.Submit';
  title: string;
  data: { warden: 'approval'; verb: 'approve' | 'reject'; ticket: string };
}
interface ActionExecute {
  type: 'Action.Execute';
  id: string;
  title: string;
  verb: 'approve' | 'reject';
  data: { ticket: string };
  fallback: ActionSubmit;
}
interface ActionOpenUrl {
  type: 'Action.OpenUrl';
  title: string;
  url: string;
}
interface ActionSet {
  type: 'ActionSet';
  actions: Array<ActionExecute | ActionOpenUrl>;
  spacing?: Spacing;
}
export type CardElement = TextBlock | RichTextBlock | FactSet | Container | ActionSet;

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  version: '1.5';
  fallbackText: string;
  body: CardElement[];
}

/**
 * The most JSON characters a card may take. Teams limits a bot message by its UTF-16 size (40 KB in
 * older docs, 100 KB now): 18,000 characters is 36 KB, leaving room for the activity around it.
 */
export const teamsCardMaxChars = 18_000;

/** The Approve / Reject Action.Execute ids on an approval card. */
export const APPROVE_ACTION = 'warden-approve';
export const REJECT_ACTION = 'warden-reject';

// ---- elements -------------------------------------------------------------------------------

/** Caps on text and list lengths, shrunk together when a card is too big. */
function capsAt(scale: number) {
  const n = (x: number) => Math.max(1, Math.floor(x * scale));
  return { text: n(1000), short: n(200), items: n(10), links: n(10), steps: n(30), tickets: n(15) };
}
type Caps = ReturnType<typeof capsAt>;

function run(text: string, style: Omit<TextRun, 'type' | 'text'> = {}): TextRun {
  return { type: 'TextRun', text, ...style };
}
const mono = (text: string, max: number) =>
  run(truncate(oneLine(text), max) || '—', { fontType: 'Monospace' });
const bold = (text: string) => run(text, { weight: 'Bolder' });
const subtle = (text: string) => run(text, { isSubtle: true });
/** `✅ step-1 · http.request`, ids in monospace. */
const stepRuns = (icon: string, id: string, uses: string) => [
  icon ? `${icon} ` : '',
  mono(id, 100),
  ' · ',
  mono(uses, 100),
];

/** Literal text: TextRuns are not Markdown, so `*`, `<`, `[x](y)` show as typed. */
function rich(
  inlines: Array<TextRun | string>,
  extra: Omit<RichTextBlock, 'type' | 'inlines'> = {},
): RichTextBlock {
  const runs = inlines
    .map((i) => (typeof i === 'string' ? run(i) : i))
    .filter((r) => r.text !== '');
  return { type: 'RichTextBlock', inlines: runs.length ? runs : [run('—')], ...extra };
}
const para = (text: string, max: number) => rich([truncate(clean(text).trim(), max)]);

function heading(text: string, color?: Color): RichTextBlock {
  const style = { size: 'Large', weight: 'Bolder', ...(color ? { color } : {}) } as const;
  return rich([run(truncate(oneLine(text), 200), style)]);
}

/** A titled group; no items, no group. */
function group(title: string, items: CardElement[]): CardElement[] {
  if (items.length === 0) return [];
  return [
    {
      type: 'Container',
      spacing: 'Medium',
      items: [{ type: 'TextBlock', text: title, weight: 'Bolder', wrap: true }, ...items],
    },
  ];
}

/** One bullet per item, the rest counted. */
function bullets(
  items: string[],
  max: number,
  caps: Caps,
  noun = '',
  mark = '• ',
): RichTextBlock[] {
  const shown = items.map((i) => truncate(oneLine(i), caps.text)).filter((i) => i !== '');
  const out = shown.slice(0, max).map((i) => rich([`${mark}${i}`], { spacing: 'Small' }));
  return shown.length > max
    ? [...out, rich([moreLine(shown.length - max, noun)], { spacing: 'Small' })]
    : out;
}

/** Markdown-safe text for a link label or a fact: no brackets, angle brackets or emphasis marks. */
function mdSafe(text: string, max: number): string {
  const safe = oneLine(text)
    .replace(/\[/g, '(')
    .replace(/\]/g, ')')
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/[*`~\\]/g, (c) => ({ '*': '∗', '`': "'", '~': '∼', '\\': '⧵' })[c] ?? c);
  return truncate(safe, max);
}

/** `[label](url)` for an http(s) link; the label and the path as literal text otherwise. */
function linkBlock(l: Link, opts: RenderOptions, caps: Caps): CardElement {
  const url = resolveUrl(l.url, opts.baseUrl);
  const label = mdSafe(l.label, 100) || 'link';
  if (!url || url.length > 2000)
    return rich([`• ${truncate(oneLine(l.label), 100)} `, mono(l.url, caps.short)]);
  const href = url.replace(/[()<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return { type: 'TextBlock', text: `- [${label}](${href})`, wrap: true, spacing: 'Small' };
}

function links(items: Link[], opts: RenderOptions, caps: Caps): CardElement[] {
  const out = items.slice(0, caps.links).map((l) => linkBlock(l, opts, caps));
  return [...out, ...more(items.length - out.length, 'links')];
}

/** Facts with a value; values made Markdown-safe (Teams reads them as Markdown). */
function facts(caps: Caps, pairs: Record<string, string>): FactSet {
  const shown = Object.entries(pairs).filter(([, v]) => v !== '');
  return {
    type: 'FactSet',
    spacing: 'Medium',
    facts: shown.map(([title, value]) => ({ title, value: mdSafe(value, caps.text) })),
  };
}

/** `… and N more` as a block, when N > 0. */
const more = (hidden: number, noun: string) => (hidden > 0 ? [rich([moreLine(hidden, noun)])] : []);

/** The card at the largest scale that fits `teamsCardMaxChars`. */
function sizedCard(fallbackText: string, build: (caps: Caps) => CardElement[]): AdaptiveCard {
  let card: AdaptiveCard | undefined;
  for (const scale of [1, 0.5, 0.25, 0.1, 0.05]) {
    card = {
      type: 'AdaptiveCard',
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      version: '1.5',
      fallbackText: truncate(fallbackText, 300) || 'Warden',
      body: build(capsAt(scale)),
    };
    if (JSON.stringify(card).length <= teamsCardMaxChars) return card;
  }
  return card as AdaptiveCard;
}

// ---- cards ---------------------------------------------------------------------------------

function approvalActions(view: ApprovalCardView): ActionSet {
  const action = (verb: 'approve' | 'reject', id: string, title: string): ActionExecute => {
    const fallback: ActionSubmit = {
      type: 'Action.Submit',
      title,
      data: { warden: 'approval', verb, ticket: view.ticketId },
    };
    return { type: 'Action.Execute', id, title, verb, data: { ticket: view.ticketId }, fallback };
  };
  const actions = [
    action('approve', APPROVE_ACTION, 'Approve'),
    action('reject', REJECT_ACTION, 'Reject'),
  ];
  return { type: 'ActionSet', spacing: 'Medium', actions };
}

const outcomeColors: Record<ApprovalCardView['status'], Color> = {
  pending: 'Accent',
  approved: 'Good',
  rejected: 'Attention',
  expired: 'Warning',
};

function outcomeBlock(view: ApprovalCardView, caps: Caps): RichTextBlock {
  const { icon, text, at } = outcomeOf(view);
  const line = `${icon} ${truncate(text, caps.text)}${at ? ` · ${formatUtc(at)}` : ''}`;
  return rich([run(line, { weight: 'Bolder', color: outcomeColors[view.status] })], {
    spacing: 'Medium',
  });
}

/**
 * The approval card: the blocked step, why, next steps, evidence, rollback, approvers, approvals
 * and expiry; Approve / Reject (`Action.Execute`, falling back to `Action.Submit`) while pending,
 * the outcome once decided.
 * @example const card = approvalCard(view, { baseUrl: 'https://warden.example.com' });
 */
export function approvalCard(view: ApprovalCardView, opts: RenderOptions = {}): AdaptiveCard {
  const pending = view.status === 'pending';
  const title = pending
    ? `⚠️ ${view.playbook} needs approval`
    : `${outcomeOf(view).icon} ${view.playbook}: ${view.status}`;
  const deny = '⛔ A guardrail denied this step; an approval overrides the deny.';
  return sizedCard(approvalText(view), (caps) => [
    heading(title),
    rich([bold('Step '), mono(view.stepId, caps.short), ' · ', mono(view.uses, caps.short)]),
    para(view.summary, caps.text),
    ...(view.targets.length ? [rich([bold('Targets: '), listOf(view.targets, caps.items)])] : []),
    ...(view.outcome === 'deny' ? [rich([run(deny, { color: 'Warning' })])] : []),
    ...group(
      'Why',
      bullets(
        view.reasons.map((r) => r.text),
        caps.items,
        caps,
        'reasons',
      ),
    ),
    ...group('Next steps', bullets(view.nextSteps, caps.items, caps, 'steps')),
    ...group('Evidence', links(view.evidence, opts, caps)),
    ...group('Rollback', clean(view.rollback).trim() ? [para(view.rollback, caps.text)] : []),
    facts(caps, {
      Approvers: listOf(view.approvers, caps.items),
      Approvals: [approvalProgress(view), ...view.approvals.map((a) => a.actor)].join(' · '),
      Expires: formatUtc(view.expiresAt),
      'Input digest': truncate(view.inputDigest, caps.short),
      Ticket: view.ticketId,
      Run: view.runId,
    }),
    pending ? approvalActions(view) : outcomeBlock(view, caps),
  ]);
}

/** A run's summary: the thread's first message, updated as the run moves. */
export function runSummaryCard(view: RunSummaryView, opts: RenderOptions = {}): AdaptiveCard {
  const title = `${statusIcon(view.status)} ${view.playbook} v${view.version} · ${humanize(view.status)}`;
  return sizedCard(runText(view), (caps) => {
    const steps = view.steps.slice(0, caps.steps).map((s) => {
      const why = s.reasons?.length ? `: ${s.reasons.join(', ')}` : '';
      const status = `${humanize(s.status)}${s.decision ? ` (${humanize(s.decision)}${why})` : ''}`;
      const tail = ` — ${truncate(oneLine(status), caps.short)}`;
      return rich([...stepRuns(statusIcon(s.status), s.id, s.uses), tail], { spacing: 'Small' });
    });
    const hidden = view.steps.length - steps.length;
    const error = view.error ? truncate(clean(view.error), caps.text) : '';
    return [
      heading(title),
      rich([bold('Trigger: '), truncate(oneLine(view.trigger), caps.text)]),
      ...group(`Steps (${view.steps.length})`, [...steps, ...more(hidden, 'steps')]),
      ...group('Error', error ? [rich([run(error, { color: 'Attention' })])] : []),
      ...group('Links', links(view.links, opts, caps)),
      facts(caps, {
        Run: view.runId,
        Tenant: view.tenant,
        Started: formatUtc(view.startedAt),
        Finished: view.finishedAt ? formatUtc(view.finishedAt) : '',
      }),
    ];
  });
}

/** What a playbook would do now, step by step, without doing it. */
export function simulationCard(view: SimulationView): AdaptiveCard {
  const trigger = view.wouldTrigger === null ? 'unknown' : view.wouldTrigger ? 'yes' : 'no';
  return sizedCard(simulationText(view), (caps) => {
    const shown = view.steps.slice(0, Math.ceil(caps.steps / 2));
    const steps = shown.map(
      (s): Container => ({
        type: 'Container',
        separator: true,
        items: [
          rich([
            ...stepRuns(statusIcon(s.decision), s.id, s.uses),
            ' — ',
            bold(humanize(s.decision)),
          ]),
          para(s.summary, caps.text),
          facts(caps, {
            Targets: listOf(s.targets, caps.items),
            Cost: String(s.cost),
            Risk: s.risk,
            Budgets: s.budgets,
            Reasons: listOf(s.reasons, caps.items),
          }),
        ],
      }),
    );
    const denied = view.denied && [
      rich(
        [
          run('⛔ Plan denied at ', { color: 'Attention', weight: 'Bolder' }),
          mono(view.denied.step, 100),
          `: ${humanize(view.denied.reason)}`,
        ],
        { separator: true },
      ),
      para(view.denied.detail, caps.text),
    ];
    return [
      heading(`🧪 Simulation: ${view.playbook} v${view.version}`),
      rich([
        `${statusIcon(view.outcome)} `,
        bold('Outcome: '),
        `${humanize(view.outcome)} · `,
        bold('Would trigger: '),
        trigger,
      ]),
      ...steps,
      ...more(view.steps.length - shown.length, 'steps'),
      ...(denied || []),
      facts(caps, { Receipt: view.receiptId, Tenant: view.tenant }),
    ];
  });
}

/**
 * One receipt as a small card rather than plain text, so that the digest stays monospace and the
 * summary literal (Teams reads a plain message's text as Markdown and HTML).
 */
export function receiptCard(view: ReceiptLineView): AdaptiveCard {
  return sizedCard(receiptText(view), (caps) => [
    rich([
      '🧾 ',
      bold(truncate(oneLine(view.kind), caps.short)),
      ` #${view.seq} · ${truncate(oneLine(view.summary), caps.text)}`,
    ]),
    rich(
      [
        subtle('digest '),
        mono(view.digest, caps.short),
        subtle(' · receipt '),
        mono(view.id, caps.short),
      ],
      { spacing: 'None' },
    ),
  ]);
}

/** The weekly trust report's signed link, as a button when the URL can be absolute. */
export function reportLinkCard(view: ReportLinkView, opts: RenderOptions = {}): AdaptiveCard {
  const url = resolveUrl(view.url, opts.baseUrl);
  return sizedCard(reportLinkText(view), (caps) => [
    heading('📊 Trust report'),
    rich([
      bold('Tenant '),
      mono(view.tenant, caps.short),
      ' · ',
      bold('week '),
      oneLine(view.week),
    ]),
    url && url.length <= 2000
      ? { type: 'ActionSet', actions: [{ type: 'Action.OpenUrl', title: 'Open the report', url }] }
      : rich(['Report: ', mono(view.url, caps.text)]),
    facts(caps, { 'Link expires': formatUtc(view.expiresAt), Receipt: view.receiptId }),
  ]);
}

const toneColors: Record<NoticeView['tone'], Color | undefined> = {
  info: undefined,
  success: 'Good',
  warning: 'Warning',
  error: 'Attention',
};

/** A command's short answer. */
export function noticeCard(view: NoticeView): AdaptiveCard {
  return sizedCard(noticeText(view), (caps) => [
    heading(`${toneIcons[view.tone]} ${view.title || humanize(view.tone)}`, toneColors[view.tone]),
    ...bullets(view.lines, caps.steps, caps, 'lines', ''),
  ]);
}

/** `/playbook approvals`: one entry per ticket; deciding happens on the ticket's own card. */
export function approvalsListCard(views: ApprovalCardView[]): AdaptiveCard {
  const pending = views.filter((v) => v.status === 'pending').length;
  return sizedCard(`${pending} approval${pending === 1 ? '' : 's'} waiting`, (caps) => {
    const shown = views.slice(0, caps.tickets);
    const entries = shown.map((v): Container => {
      const when = v.status === 'pending' ? `expires ${formatUtc(v.expiresAt)}` : v.status;
      return {
        type: 'Container',
        separator: true,
        items: [
          rich([
            bold(truncate(oneLine(v.playbook), caps.short)),
            ' · ',
            ...stepRuns('', v.stepId, v.uses),
          ]),
          para(v.summary, caps.short),
          rich(
            [
              subtle(`${outcomeOf(v).icon} ${approvalProgress(v)} · ${when} · ticket `),
              mono(v.ticketId, 100),
            ],
            {
              spacing: 'None',
            },
          ),
        ],
      };
    });
    return [
      heading(`✋ Approvals waiting: ${pending}`),
      ...(views.length === 0 ? [rich(['No approvals are waiting.'])] : entries),
      ...more(views.length - shown.length, 'tickets'),
    ];
  });
}
