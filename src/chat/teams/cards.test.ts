import { describe, expect, it } from 'vitest';
import {
  approvedApproval,
  expiredApproval,
  hugeApproval,
  hugeRunSummary,
  hugeSimulation,
  MARKUP_TEXT,
  markupApproval,
  rejectedApproval,
  SAMPLE_RUN,
  SAMPLE_TICKET,
  sampleApproval,
  sampleNotice,
  sampleReceipt,
  sampleReportLink,
  sampleRunSummary,
  sampleSimulation,
} from '../../../test/fakes/chat-views.js';
import { checkTeamsCard, validateAdaptiveCard } from '../../../test/helpers/chat-checks.js';
import {
  type AdaptiveCard,
  APPROVE_ACTION,
  approvalCard,
  approvalsListCard,
  noticeCard,
  REJECT_ACTION,
  receiptCard,
  reportLinkCard,
  runSummaryCard,
  simulationCard,
  teamsCardMaxChars,
} from './cards.js';

const baseUrl = 'https://warden.example.com';

type Node = Record<string, unknown>;
/** Every object of a `type` anywhere in the card (actions' fallbacks included). */
function find(card: unknown, type: string): Node[] {
  if (Array.isArray(card)) return card.flatMap((c) => find(c, type));
  if (!card || typeof card !== 'object') return [];
  const node = card as Node;
  return [
    ...(node.type === type ? [node] : []),
    ...Object.values(node).flatMap((v) => find(v, type)),
  ];
}
const actions = (card: AdaptiveCard) => find(card, 'ActionSet').flatMap((s) => s.actions as Node[]);
/** The literal text of every TextRun, joined by line. */
const runsText = (card: AdaptiveCard) =>
  find(card, 'TextRun')
    .map((r) => r.text)
    .join('\n');
const markdown = (card: AdaptiveCard) =>
  find(card, 'TextBlock')
    .map((t) => t.text)
    .join('\n');

const approvals = {
  pending: sampleApproval(),
  'approved by 2': approvedApproval(),
  rejected: rejectedApproval(),
  expired: expiredApproval(),
  huge: hugeApproval(),
  markup: markupApproval(),
};

const cards: Array<[string, AdaptiveCard]> = [
  ...Object.entries(approvals).flatMap(
    ([name, v]): Array<[string, AdaptiveCard]> => [
      [`approval ${name}`, approvalCard(v, { baseUrl })],
      [`approval ${name} without baseUrl`, approvalCard(v)],
    ],
  ),
  ['run summary', runSummaryCard(sampleRunSummary(), { baseUrl })],
  ['run summary with 200 steps', runSummaryCard(hugeRunSummary())],
  ['simulation', simulationCard(sampleSimulation())],
  ['simulation with 200 steps', simulationCard(hugeSimulation())],
  ['receipt', receiptCard(sampleReceipt())],
  ['report link', reportLinkCard(sampleReportLink(), { baseUrl })],
  ['report link without baseUrl', reportLinkCard(sampleReportLink())],
  ['notice', noticeCard(sampleNotice())],
  [
    'huge notice',
    noticeCard(sampleNotice({ title: MARKUP_TEXT, lines: Array(500).fill('x'.repeat(900)) })),
  ],
  ['approvals list', approvalsListCard(Object.values(approvals))],
  ['long approvals list', approvalsListCard(Array.from({ length: 60 }, () => hugeApproval()))],
  ['empty approvals list', approvalsListCard([])],
];

describe('cards', () => {
  it.each(cards)('%s: passes adaptivecards 1.5 validation and the Teams checks', (_, card) => {
    expect(card.version).toBe('1.5');
    expect(validateAdaptiveCard(card)).toEqual([]);
    expect(checkTeamsCard(card)).toEqual([]);
    expect(JSON.stringify(card).length).toBeLessThanOrEqual(teamsCardMaxChars);
  });
});

describe('approvalCard', () => {
  it('has exactly Approve and Reject while pending, each carrying the ticket and a Submit fallback', () => {
    const all = actions(approvalCard(sampleApproval()));
    expect(all).toEqual([
      {
        type: 'Action.Execute',
        id: APPROVE_ACTION,
        title: 'Approve',
        verb: 'approve',
        data: { ticket: SAMPLE_TICKET },
        fallback: {
          type: 'Action.Submit',
          title: 'Approve',
          data: { warden: 'approval', verb: 'approve', ticket: SAMPLE_TICKET },
        },
      },
      {
        type: 'Action.Execute',
        id: REJECT_ACTION,
        title: 'Reject',
        verb: 'reject',
        data: { ticket: SAMPLE_TICKET },
        fallback: {
          type: 'Action.Submit',
          title: 'Reject',
          data: { warden: 'approval', verb: 'reject', ticket: SAMPLE_TICKET },
        },
      },
    ]);
  });

  it('has no actions once decided, and says the outcome, who and when', () => {
    const decided = {
      approved: approvalCard(approvedApproval()),
      rejected: approvalCard(rejectedApproval()),
      expired: approvalCard(expiredApproval()),
    };
    for (const card of Object.values(decided)) {
      expect(actions(card)).toEqual([]);
      expect(find(card, 'Action.Execute')).toEqual([]);
    }
    expect(runsText(decided.approved)).toContain(
      '✅ Approved by slack:U012AB3CD, slack:U0SECOND1 · 2026-11-23 14:09 UTC',
    );
    expect(runsText(decided.rejected)).toContain(
      '❌ Rejected by teams:7c1d2e3f-0000-4a4a-8b8b-123456789abc · 2026-11-23 14:08 UTC',
    );
    expect(runsText(decided.expired)).toContain(
      '⌛ Expired with 1 of 2 approvals · 2026-11-23 14:35 UTC',
    );
  });

  it('shows the step, why, next steps, evidence, rollback and the facts', () => {
    const card = approvalCard(sampleApproval(), { baseUrl });
    const text = runsText(card);
    expect(text).toContain('⚠️ checkout-restart needs approval');
    expect(text).toContain('restart\n · \nkubernetes.rollout-restart');
    expect(text).toContain('• This step would be action 7 (limit 6)');
    expect(text).toContain('• Check whether the alert is flapping');
    expect(text).toContain('kubernetes.rollout-undo deployment/shop/checkout');
    expect(markdown(card)).toContain(`- [run](${baseUrl}/api/v1/runs/${SAMPLE_RUN})`);
    const facts = Object.fromEntries(
      ((find(card, 'FactSet')[0]?.facts ?? []) as Array<{ title: string; value: string }>).map(
        (f) => [f.title, f.value],
      ),
    );
    expect(facts).toMatchObject({
      Approvers: 'slack:U012AB3CD, group:sre-oncall, teams:7c1d2e3f-0000-4a4a-8b8b-123456789abc',
      Approvals: '0 of 1 approval',
      Expires: '2026-11-23 14:35 UTC',
      'Input digest': sampleApproval().inputDigest,
      Ticket: SAMPLE_TICKET,
    });
    expect(card.fallbackText).toContain('checkout-restart needs approval');
  });

  it('keeps user text literal in TextRuns and out of Markdown', () => {
    const card = approvalCard(markupApproval());
    expect(runsText(card)).toContain(MARKUP_TEXT);
    const md = markdown(card);
    expect(md).not.toContain('<');
    expect(md).not.toMatch(/\]\((?!https:\/\/)/); // every Markdown link goes to https
    expect(md).toContain('(https://e.example.com/a?b=1&c=%3C2%3E|3%20%284%29)');
  });

  it('leaves relative links as text when no baseUrl is given', () => {
    const card = approvalCard(sampleApproval());
    expect(markdown(card)).not.toContain('/api/v1/runs');
    expect(runsText(card)).toContain(`/api/v1/runs/${SAMPLE_RUN}`);
  });

  it('shrinks a huge view to fit and counts what it left out', () => {
    const card = approvalCard(hugeApproval(), { baseUrl });
    expect(JSON.stringify(card).length).toBeLessThanOrEqual(teamsCardMaxChars);
    const text = runsText(card);
    expect(text).toMatch(/… and \d+ more reasons/);
    expect(text).toMatch(/… and \d+ more links/);
    expect(actions(card)).toHaveLength(2);
  });
});

describe('other cards', () => {
  it('lists every run step with its status icon', () => {
    const text = runsText(runSummaryCard(sampleRunSummary()));
    for (const icon of ['✅', '❌', '⛔', '✋', '⏳', '🕒', '🚫', '↩️'])
      expect(text).toContain(`${icon} `);
    expect(text).toContain(' — denied (deny: blast_radius_exceeded)');
    expect(runsText(runSummaryCard(hugeRunSummary()))).toMatch(/… and 1\d\d more steps/);
  });

  it('shows the step a simulation would deny, and a denied plan', () => {
    const text = runsText(simulationCard(sampleSimulation()));
    expect(text).toContain('⛔ \nrestart\n · \nkubernetes.rollout-restart\n — \ndeny');
    expect(runsText(simulationCard(hugeSimulation()))).toContain('⛔ Plan denied at ');
  });

  it('opens the report with a button only when its URL is absolute', () => {
    expect(actions(reportLinkCard(sampleReportLink(), { baseUrl }))).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'Open the report',
        url: `${baseUrl}/api/v1/reports/acme/2026-W47?sig=abc123&exp=1795000000`,
      },
    ]);
    expect(actions(reportLinkCard(sampleReportLink()))).toEqual([]);
  });

  it('has no actions on receipts, notices and approval lists', () => {
    expect(actions(receiptCard(sampleReceipt()))).toEqual([]);
    expect(actions(noticeCard(sampleNotice()))).toEqual([]);
    expect(actions(approvalsListCard([sampleApproval()]))).toEqual([]);
    expect(runsText(approvalsListCard([]))).toContain('No approvals are waiting.');
  });
});

describe('validateAdaptiveCard and checkTeamsCard', () => {
  const card = (body: unknown[], over: Record<string, unknown> = {}) => ({
    type: 'AdaptiveCard',
    version: '1.5',
    body,
    ...over,
  });
  const text = { type: 'TextBlock', text: 'hi', wrap: true };

  it.each<[string, unknown, RegExp]>([
    ['a version newer than 1.5', card([text], { version: '1.6' }), /version: 1\.6 is newer/],
    ['no version', card([text], { version: undefined }), /version: undefined/],
    ['an unknown element', card([{ type: 'Carousel' }]), /UnknownElementType/],
    [
      'a misspelt property',
      card([{ ...text, wrapp: true }]),
      /\$\.body\[0\]\.wrapp: not an Adaptive Cards 1\.5 property/,
    ],
    ['a bad enum value', card([{ ...text, color: 'pink' }]), /InvalidPropertyValue/],
    [
      'a duplicate id',
      card([
        { ...text, id: 'a' },
        { ...text, id: 'a' },
      ]),
      /DuplicateId/,
    ],
    [
      'an Action.Execute whose fallback is broken',
      card([
        {
          type: 'ActionSet',
          actions: [
            { type: 'Action.Execute', title: 'x', verb: 'x', fallback: { type: 'Action.Nope' } },
          ],
        },
      ]),
      /as 1\.3 \(fallback\): UnknownActionType/,
    ],
  ])('validateAdaptiveCard reports %s', (_, bad, problem) => {
    expect(validateAdaptiveCard(bad).join('\n')).toMatch(problem);
  });

  it.each<[string, unknown, RegExp]>([
    ['media', card([{ type: 'Media', sources: [] }]), /Media is not supported/],
    [
      'a positive action style',
      card([
        { type: 'ActionSet', actions: [{ type: 'Action.Submit', title: 'x', style: 'positive' }] },
      ]),
      /action style/,
    ],
    [
      'an Action.Execute without fallback',
      card([
        {
          type: 'ActionSet',
          actions: [{ type: 'Action.Execute', id: 'a', title: 'x', verb: 'x' }],
        },
      ]),
      /no Action\.Submit fallback/,
    ],
    [
      'a relative OpenUrl',
      card([{ type: 'ActionSet', actions: [{ type: 'Action.OpenUrl', title: 'x', url: '/api' }] }]),
      /is not absolute/,
    ],
    ['an empty TextBlock', card([{ ...text, text: '' }]), /empty text/],
    ['HTML in Markdown', card([{ ...text, text: '<b>x</b>' }]), /"<" in a Markdown TextBlock/],
    [
      'an oversized card',
      card([{ ...text, text: 'x'.repeat(teamsCardMaxChars) }]),
      /JSON chars, max/,
    ],
  ])('checkTeamsCard reports %s', (_, bad, problem) => {
    expect(checkTeamsCard(bad).join('\n')).toMatch(problem);
  });
});
