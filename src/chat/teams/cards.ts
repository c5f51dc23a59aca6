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
  NoticeView,
  ReceiptLineView,
  ReportLinkView,
  RunSummaryView,
  SimulationView,
} from '../views.js';
import {
  type ActionExecute,
  type ActionSet,
  type ActionSubmit,
  type AdaptiveCard,
  APPROVE_ACTION,
  bold,
  bullets,
  type Caps,
  type Color,
  type Container,
  facts,
  group,
  heading,
  links,
  mono,
  more,
  para,
  REJECT_ACTION,
  type RichTextBlock,
  rich,
  run,
  sizedCard,
  stepRuns,
  subtle,
} from './card-elements.js';

export {
  type AdaptiveCard,
  APPROVE_ACTION,
  type CardElement,
  REJECT_ACTION,
  teamsCardMaxChars,
} from './card-elements.js';

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
