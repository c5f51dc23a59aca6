import { describe, expect, it } from 'vitest';
import {
  approvedApproval,
  expiredApproval,
  hugeApproval,
  hugeRunSummary,
  hugeSimulation,
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
import { blockKitLimits, checkBlockKit } from './block-kit-check.js';
import {
  APPROVE_ACTION_ID,
  approvalMessage,
  approvalsListMessage,
  type Block,
  noticeMessage,
  REJECT_ACTION_ID,
  receiptMessage,
  reportLinkMessage,
  runSummaryMessage,
  type SlackMessage,
  simulationMessage,
  TICKET_BLOCK_ID,
  ticketOfValue,
} from './blocks.js';

const baseUrl = 'https://warden.example.com';

/** Every text a user may see, in block order. */
function texts(message: SlackMessage): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (typeof o.text === 'string') out.push(o.text);
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(message.blocks);
  return out;
}
const all = (m: SlackMessage) => texts(m).join('\n');
const actionsOf = (m: SlackMessage) => m.blocks.filter((b) => b.type === 'actions');

const approvals = {
  pending: sampleApproval(),
  'approved by 2': approvedApproval(),
  rejected: rejectedApproval(),
  expired: expiredApproval(),
  huge: hugeApproval(),
  markup: markupApproval(),
};

describe('approvalMessage', () => {
  it.each(Object.entries(approvals))('stays within Block Kit limits when %s', (_, view) => {
    expect(checkBlockKit(approvalMessage(view, { baseUrl }))).toEqual([]);
    expect(checkBlockKit(approvalMessage(view))).toEqual([]);
  });

  it('offers Approve and Reject buttons carrying the ticket id while pending', () => {
    const [actions, ...more] = actionsOf(approvalMessage(sampleApproval()));
    expect(more).toEqual([]);
    expect(actions).toMatchObject({ type: 'actions', block_id: TICKET_BLOCK_ID });
    const buttons = (actions as Extract<Block, { type: 'actions' }>).elements;
    expect(
      buttons.map((b) => [b.type, 'action_id' in b && b.action_id, 'style' in b && b.style]),
    ).toEqual([
      ['button', APPROVE_ACTION_ID, 'primary'],
      ['button', REJECT_ACTION_ID, 'danger'],
    ]);
    for (const b of buttons) {
      const value = 'value' in b ? b.value : undefined;
      expect(JSON.parse(value ?? '')).toEqual({ ticket: SAMPLE_TICKET });
      expect(ticketOfValue(value)).toBe(SAMPLE_TICKET);
    }
  });

  it('replaces the buttons with who decided and when once decided', () => {
    const approved = approvalMessage(approvedApproval());
    const rejected = approvalMessage(rejectedApproval());
    const expired = approvalMessage(expiredApproval());
    for (const m of [approved, rejected, expired]) expect(actionsOf(m)).toEqual([]);
    const last = (m: SlackMessage) => texts({ text: '', blocks: m.blocks.slice(-1) }).join(' ');
    expect(last(approved)).toMatch(
      /^✅ Approved by slack:U012AB3CD, slack:U0SECOND1 · <!date\^1795442970\^[^|]+\|2026-11-23 14:09 UTC>$/,
    );
    expect(last(rejected)).toMatch(
      /^❌ Rejected by teams:7c1d2e3f-0000-4a4a-8b8b-123456789abc · <!date/,
    );
    expect(last(expired)).toMatch(/^⌛ Expired with 1 of 2 approvals · <!date\^1795444500/);
    expect(approved.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: '✅ checkout-restart: approved' },
    });
  });

  it('shows the step, why, next steps, evidence, rollback, approvers, approvals and expiry', () => {
    const m = approvalMessage(sampleApproval(), { baseUrl });
    expect(m.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: '⚠️ checkout-restart needs approval' },
    });
    const text = all(m);
    for (const part of [
      '*Step* `restart` · `kubernetes.rollout-restart`',
      'Restart deployment checkout in namespace shop (3 replicas)',
      '*Targets:* `deployment/shop/checkout`',
      '*Why*\n• This step would be action 7 (limit 6)',
      '*Next steps*\n• Check whether the alert is flapping',
      '<https://grafana.example.com/d/checkout?orgId=1&amp;from=now-1h|dashboard>',
      '*Rollback*\nkubernetes.rollout-undo deployment/shop/checkout',
      '*Approvers*\nslack:U012AB3CD, group:sre-oncall, teams:',
      '*Approvals*\n0 of 1 approval',
      '*Expires*\n<!date^1795444500^{date_short_pretty} {time}|2026-11-23 14:35 UTC>',
      `Ticket \`${SAMPLE_TICKET}\``,
    ]) {
      expect(text).toContain(part);
    }
    expect(m.text).toBe(
      'checkout-restart needs approval: restart (kubernetes.rollout-restart) — Restart deployment checkout in namespace shop (3 replicas)',
    );
  });

  it('makes relative evidence links absolute with baseUrl, and leaves them unlinked without', () => {
    expect(all(approvalMessage(sampleApproval(), { baseUrl }))).toContain(
      `<${baseUrl}/api/v1/runs/${SAMPLE_RUN}|run>`,
    );
    const bare = all(approvalMessage(sampleApproval()));
    expect(bare).toContain(`• run (\`/api/v1/runs/${SAMPLE_RUN}\`)`);
    expect(bare).not.toContain(`<${baseUrl}`);
  });

  it('escapes user text so Slack markup in it shows literally and links only http(s)', () => {
    const m = approvalMessage(markupApproval());
    const text = `${m.text}\n${all(m).replace(/^.*needs approval$/m, '')}`;
    expect(text).toContain('&lt;!channel&gt; &lt;@U999&gt; &lt;script&gt;');
    expect(text).toContain('a &amp; b &amp;amp; 1 &lt; 2 &gt; 0');
    expect(text).not.toMatch(/<!channel>|<@U999>|<script>/);
    expect(text).not.toContain('<javascript:');
    expect(text).toContain('• script (`javascript:alert(1)`)');
    expect(text).toContain('<https://e.example.com/a?b=1&amp;c=%3C2%3E%7C3%20(4)|');
  });

  it('cuts huge views to Slack limits and counts what it left out', () => {
    const m = approvalMessage(hugeApproval(), { baseUrl });
    expect(m.blocks.length).toBeLessThanOrEqual(blockKitLimits.blocksPerMessage);
    const header = m.blocks[0] as Extract<Block, { type: 'header' }>;
    expect(header.text.text).toHaveLength(blockKitLimits.headerText);
    expect(header.text.text.endsWith('…')).toBe(true);
    const text = all(m);
    expect(text).toMatch(/… and \d+ more reasons/);
    expect(text).toMatch(/… and \d+ more links/);
    expect(text).toContain('… and 190 more');
    expect(text).not.toMatch(/&[a-z]{0,3}…/); // no entity cut in half
    expect(m.text.length).toBeLessThanOrEqual(300);
  });

  it('never splits an emoji when cutting', () => {
    const m = approvalMessage(
      sampleApproval({ playbook: '🚀'.repeat(200), summary: 'é🚀'.repeat(2_000) }),
    );
    expect(all(m)).not.toMatch(
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
    );
    expect(checkBlockKit(m)).toEqual([]);
  });

  it('offers no buttons when the ticket id cannot fit a button value', () => {
    const m = approvalMessage(sampleApproval({ ticketId: 't'.repeat(2_000) }));
    expect(actionsOf(m)).toEqual([]);
    expect(all(m)).toContain('too long for a Slack button');
    expect(checkBlockKit(m)).toEqual([]);
  });
});

describe('runSummaryMessage', () => {
  it('lists every step with its status and decision', () => {
    const m = runSummaryMessage(sampleRunSummary(), { baseUrl });
    expect(checkBlockKit(m)).toEqual([]);
    expect(m.blocks[0]).toMatchObject({ text: { text: '❌ checkout-restart v3 · failed' } });
    const text = all(m);
    expect(text).toContain('*Steps* (8)');
    for (const line of [
      '✅ `step-1` · `kubernetes.rollout-restart` — succeeded (allow)',
      '❌ `step-2` · `http.request` — failed (allow)',
      '⛔ `step-3` · `kubernetes.rollout-restart` — denied (deny: blast_radius_exceeded)',
      '✋ `step-4` · `http.request` — awaiting approval (approval required: policy:destructive-needs-approval)',
      '⏳ `step-5`',
      '🕒 `step-6` · `http.request` — queued\n',
      '🚫 `step-7`',
      '↩️ `step-8`',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toContain('*Error*\nstep-2 failed: HTTP 503');
    expect(text).toContain(`<${baseUrl}/api/v1/receipts?run=${SAMPLE_RUN}|receipts>`);
  });

  it('stays within limits with 200 steps and says how many are not shown', () => {
    const m = runSummaryMessage(hugeRunSummary(), { baseUrl });
    expect(checkBlockKit(m)).toEqual([]);
    expect(all(m)).toMatch(/… and 1\d\d more steps/);
  });
});

describe('simulationMessage', () => {
  it('shows each step and the one that would be denied', () => {
    const m = simulationMessage(sampleSimulation());
    expect(checkBlockKit(m)).toEqual([]);
    const text = all(m);
    expect(text).toContain('⛔ *Outcome:* would be denied · *Would trigger:* yes');
    expect(text).toContain('⛔ `restart` · `kubernetes.rollout-restart` — *deny*');
    expect(text).toContain(
      '*Cost:* 5 · *Risk:* high · *Budgets:* actionsPerHour 3/6, blastRadius 4/2',
    );
    expect(text).toContain('*Reasons:* blast_radius_exceeded');
  });

  it('stays within limits with 200 steps and a denied plan', () => {
    const m = simulationMessage(hugeSimulation());
    expect(checkBlockKit(m)).toEqual([]);
    expect(all(m)).toContain('… and 185 more steps');
    expect(all(m)).toContain('⛔ *Plan denied* at `step-0`: invalid input');
  });
});

describe('small messages', () => {
  it('render a receipt, a report link, a notice and an approvals list within limits', () => {
    const messages = [
      receiptMessage(sampleReceipt()),
      reportLinkMessage(sampleReportLink(), { baseUrl }),
      reportLinkMessage(sampleReportLink()),
      noticeMessage(sampleNotice()),
      noticeMessage(
        sampleNotice({ title: '', lines: Array.from({ length: 500 }, () => 'x'.repeat(900)) }),
      ),
      approvalsListMessage(Object.values(approvals)),
      approvalsListMessage(Array.from({ length: 60 }, () => hugeApproval())),
      approvalsListMessage([]),
    ];
    for (const m of messages) expect(checkBlockKit(m)).toEqual([]);
  });

  it('links the report only when its URL can be absolute', () => {
    expect(all(reportLinkMessage(sampleReportLink(), { baseUrl }))).toContain(
      `<${baseUrl}/api/v1/reports/acme/2026-W47?sig=abc123&amp;exp=1795000000|Open the report>`,
    );
    expect(all(reportLinkMessage(sampleReportLink()))).not.toContain('<http');
  });

  it('lists approvals without buttons, so only the ticket card decides', () => {
    const m = approvalsListMessage([sampleApproval(), sampleApproval({ ticketId: 'other' })]);
    expect(actionsOf(m)).toEqual([]);
    expect(m.text).toBe('2 approvals waiting');
    expect(all(m)).toContain(`Ticket \`${SAMPLE_TICKET}\``);
    expect(all(approvalsListMessage([]))).toContain('No approvals are waiting.');
  });
});

describe('checkBlockKit', () => {
  const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const button = (action_id: string, value = '{}', text = 'Go') => ({
    type: 'button' as const,
    action_id,
    value,
    text: { type: 'plain_text' as const, text },
  });

  it('accepts a small valid message', () => {
    expect(
      checkBlockKit({ text: 'hi', blocks: [section('*ok* <https://a.example|a> &amp;')] }),
    ).toEqual([]);
  });

  it.each<[string, { text?: unknown; blocks?: unknown }, RegExp]>([
    ['no fallback text', { blocks: [] }, /^text: no notification text/],
    [
      '51 blocks',
      { text: 'x', blocks: Array.from({ length: 51 }, () => section('a')) },
      /blocks: 51, max 50/,
    ],
    [
      'a 151-char header',
      {
        text: 'x',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      },
      /header\.text: 151 chars, max 150/,
    ],
    [
      'a 3001-char section',
      { text: 'x', blocks: [section('s'.repeat(3001))] },
      /section\.text: 3001 chars, max 3000/,
    ],
    ['an empty section', { text: 'x', blocks: [section('')] }, /empty text/],
    ['a raw ampersand', { text: 'x', blocks: [section('a & b')] }, /unescaped "&"/],
    ['a raw angle bracket', { text: 'x', blocks: [section('1 < 2')] }, /unescaped "<"/],
    ['a broadcast', { text: '<!channel> look', blocks: [] }, /text: unescaped "<" or broadcast/],
    [
      'eleven context elements',
      {
        text: 'x',
        blocks: [
          {
            type: 'context',
            elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })),
          },
        ],
      },
      /11 elements, expected 1 to 10/,
    ],
    [
      'a repeated action_id',
      {
        text: 'x',
        blocks: [
          { type: 'actions', elements: [button('a')] },
          { type: 'actions', elements: [button('a')] },
        ],
      },
      /action_id "a" repeated/,
    ],
    [
      'a repeated block_id',
      {
        text: 'x',
        blocks: [
          { ...section('a'), block_id: 'b' },
          { ...section('a'), block_id: 'b' },
        ],
      },
      /block_id "b" repeated/,
    ],
    [
      'a 2001-char button value',
      { text: 'x', blocks: [{ type: 'actions', elements: [button('a', 'v'.repeat(2001))] }] },
      /value 2001 chars, max 2000/,
    ],
    [
      'a 76-char button text',
      { text: 'x', blocks: [{ type: 'actions', elements: [button('a', '{}', 't'.repeat(76))] }] },
      /text: 76 chars, max 75/,
    ],
    [
      'eleven fields',
      {
        text: 'x',
        blocks: [
          {
            type: 'section',
            fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })),
          },
        ],
      },
      /11 fields, max 10/,
    ],
  ])('reports %s', (_, message, problem) => {
    expect(checkBlockKit(message).join('\n')).toMatch(problem);
  });
});
