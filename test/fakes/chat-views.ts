/**
 * Sample chat views for tests: one realistic builder per view model (override any field), plus the
 * hard cases every renderer must survive — decided cards, every run status, a denied simulation,
 * huge inputs and markup-like text.
 */
import type {
  ApprovalCardView,
  NoticeView,
  ReceiptLineView,
  ReportLinkView,
  RunSummaryView,
  SimulationView,
} from '../../src/chat/views.js';

export const SAMPLE_TICKET = '0b6f3c1e-7a52-4c1d-9f0e-3d2b8a4c5e61';
export const SAMPLE_RUN = 'run_01JD8K2N4QX7W3ZB5YH6T9C0RM';

/** Text that looks like Slack and HTML markup, Markdown and entities; it must render literally. */
export const MARKUP_TEXT =
  '<!channel> <@U999> <script>alert(1)</script> **bold** _it_ [x](javascript:alert(1)) a & b &amp; 1 < 2 > 0 `code`';

/**
 * A pending approval for a restart that went over its hourly budget.
 * @example sampleApproval({ status: 'rejected', decided: { actor: 'slack:U2', decision: 'reject', at } })
 */
export function sampleApproval(over: Partial<ApprovalCardView> = {}): ApprovalCardView {
  return {
    ticketId: SAMPLE_TICKET,
    tenant: 'acme',
    playbook: 'checkout-restart',
    runId: SAMPLE_RUN,
    stepId: 'restart',
    uses: 'kubernetes.rollout-restart',
    summary: 'Restart deployment checkout in namespace shop (3 replicas)',
    targets: ['deployment/shop/checkout'],
    inputDigest: 'sha256:9f2c4e1a7b3d5f60182a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d',
    outcome: 'approval_required',
    reasons: [
      {
        code: 'actions_per_hour_exceeded',
        text: 'This step would be action 7 (limit 6) of the playbook in the last hour.',
      },
    ],
    nextSteps: [
      'Check whether the alert is flapping before approving more.',
      'Open the dashboard and confirm the error rate is still high.',
    ],
    evidence: [
      { label: 'alert source', url: 'https://alertmanager.example.com/#/alerts?receiver=chatops' },
      { label: 'dashboard', url: 'https://grafana.example.com/d/checkout?orgId=1&from=now-1h' },
      { label: 'run', url: `/api/v1/runs/${SAMPLE_RUN}` },
      { label: 'receipts', url: `/api/v1/receipts?run=${SAMPLE_RUN}` },
    ],
    rollback: 'kubernetes.rollout-undo deployment/shop/checkout',
    approvers: [
      'slack:U012AB3CD',
      'group:sre-oncall',
      'teams:7c1d2e3f-0000-4a4a-8b8b-123456789abc',
    ],
    minApprovals: 1,
    approvals: [],
    expiresAt: '2026-11-23T14:35:00.000Z',
    status: 'pending',
    ...over,
  };
}

/** Approved by two people (dual control). */
export function approvedApproval(over: Partial<ApprovalCardView> = {}): ApprovalCardView {
  return sampleApproval({
    minApprovals: 2,
    approvals: [
      { actor: 'slack:U012AB3CD', at: '2026-11-23T14:07:00.000Z' },
      { actor: 'slack:U0SECOND1', at: '2026-11-23T14:09:30.000Z' },
    ],
    status: 'approved',
    decided: { actor: 'slack:U0SECOND1', decision: 'approve', at: '2026-11-23T14:09:30.000Z' },
    ...over,
  });
}

export function rejectedApproval(over: Partial<ApprovalCardView> = {}): ApprovalCardView {
  return sampleApproval({
    status: 'rejected',
    decided: {
      actor: 'teams:7c1d2e3f-0000-4a4a-8b8b-123456789abc',
      decision: 'reject',
      at: '2026-11-23T14:08:00.000Z',
    },
    ...over,
  });
}

export function expiredApproval(over: Partial<ApprovalCardView> = {}): ApprovalCardView {
  return sampleApproval({
    minApprovals: 2,
    approvals: [{ actor: 'slack:U012AB3CD', at: '2026-11-23T14:07:00.000Z' }],
    status: 'expired',
    decided: { actor: null, decision: 'expired', at: '2026-11-23T14:35:00.000Z' },
    ...over,
  });
}

/** An approval with everything oversized: 500 links, 10,000-char reasons, 200 targets. */
export function hugeApproval(over: Partial<ApprovalCardView> = {}): ApprovalCardView {
  const long = (seed: string, n: number) =>
    `${seed} `.repeat(Math.ceil(n / (seed.length + 1))).slice(0, n);
  return sampleApproval({
    playbook: `p-${'x'.repeat(300)}`,
    stepId: `s-${'y'.repeat(300)}`,
    summary: long('Restart & <verify> everything', 10_000),
    targets: Array.from({ length: 200 }, (_, i) => `deployment/shop/service-${i}`),
    outcome: 'deny',
    reasons: Array.from({ length: 20 }, (_, i) => ({
      code: `reason_${i}`,
      text: long(`Reason ${i} <b>&amp;</b>`, 10_000),
    })),
    nextSteps: Array.from({ length: 50 }, (_, i) => long(`Step ${i} check *this*`, 2_000)),
    evidence: Array.from({ length: 500 }, (_, i) => ({
      label: `evidence ${i} <${'z'.repeat(100)}>`,
      url: i % 2 ? `/api/v1/receipts/${i}?x=${'q'.repeat(200)}` : `https://e.example.com/${i}`,
    })),
    rollback: long('undo | <everything> & more', 10_000),
    approvers: Array.from({ length: 100 }, (_, i) => `group:team-${i}`),
    minApprovals: 3,
    approvals: Array.from({ length: 2 }, (_, i) => ({
      actor: `slack:U${i}`,
      at: '2026-11-23T14:00:00Z',
    })),
    inputDigest: `sha256:${'f'.repeat(2_000)}`,
    ...over,
  });
}

/** Every user-visible string replaced with markup-like text. */
export function markupApproval(over: Partial<ApprovalCardView> = {}): ApprovalCardView {
  return sampleApproval({
    playbook: MARKUP_TEXT,
    stepId: 'a`b<c>',
    uses: 'x.y&z',
    summary: MARKUP_TEXT,
    targets: [MARKUP_TEXT],
    reasons: [{ code: 'x', text: MARKUP_TEXT }],
    nextSteps: [MARKUP_TEXT],
    evidence: [
      { label: MARKUP_TEXT, url: 'https://e.example.com/a?b=1&c=<2>|3 (4)' },
      { label: 'script', url: 'javascript:alert(1)' },
    ],
    rollback: MARKUP_TEXT,
    approvers: [MARKUP_TEXT],
    ...over,
  });
}

const stepStatuses = [
  'succeeded',
  'failed',
  'denied',
  'awaiting_approval',
  'running',
  'queued',
  'cancelled',
  'rolled_back',
];

/** A finished run with 8 steps, one of every status. */
export function sampleRunSummary(over: Partial<RunSummaryView> = {}): RunSummaryView {
  return {
    runId: SAMPLE_RUN,
    tenant: 'acme',
    playbook: 'checkout-restart',
    version: 3,
    status: 'failed',
    trigger: 'alertmanager: HighErrorRate (service=checkout) firing',
    steps: stepStatuses.map((status, i) => ({
      id: `step-${i + 1}`,
      uses: i % 2 ? 'http.request' : 'kubernetes.rollout-restart',
      status,
      ...(status === 'denied'
        ? { decision: 'deny', reasons: ['blast_radius_exceeded'] }
        : status === 'awaiting_approval'
          ? { decision: 'approval_required', reasons: ['policy:destructive-needs-approval'] }
          : status === 'queued'
            ? {}
            : { decision: 'allow' }),
    })),
    startedAt: '2026-11-23T14:00:00.000Z',
    finishedAt: '2026-11-23T14:03:12.000Z',
    error: 'step-2 failed: HTTP 503 from https://checkout.internal/health',
    links: [
      { label: 'run', url: `/api/v1/runs/${SAMPLE_RUN}` },
      { label: 'receipts', url: `/api/v1/receipts?run=${SAMPLE_RUN}` },
    ],
    ...over,
  };
}

/** A run with 200 steps and long reasons. */
export function hugeRunSummary(over: Partial<RunSummaryView> = {}): RunSummaryView {
  return sampleRunSummary({
    trigger: `alertmanager: ${'<Flood> & '.repeat(1_000)}`,
    steps: Array.from({ length: 200 }, (_, i) => ({
      id: `step-${i}`,
      uses: 'http.request',
      status: stepStatuses[i % stepStatuses.length] ?? 'queued',
      decision: 'deny',
      reasons: Array.from({ length: 10 }, () => 'x'.repeat(500)),
    })),
    error: 'E'.repeat(10_000),
    links: Array.from({ length: 500 }, (_, i) => ({ label: `link ${i}`, url: `/r/${i}` })),
    ...over,
  });
}

/** A simulation whose second step would be denied. */
export function sampleSimulation(over: Partial<SimulationView> = {}): SimulationView {
  return {
    tenant: 'acme',
    playbook: 'checkout-restart',
    version: 3,
    outcome: 'would_be_denied',
    wouldTrigger: true,
    steps: [
      {
        id: 'scale-up',
        uses: 'kubernetes.scale',
        summary: 'Scale deployment shop/checkout from 3 to 5 replicas',
        targets: ['deployment/shop/checkout'],
        cost: 2,
        risk: 'low',
        decision: 'allow',
        reasons: [],
        budgets: 'actionsPerHour 2/6, blastRadius 1/2',
      },
      {
        id: 'restart',
        uses: 'kubernetes.rollout-restart',
        summary: 'Restart deployments checkout, cart and payments',
        targets: ['deployment/shop/checkout', 'deployment/shop/cart', 'deployment/shop/payments'],
        cost: 5,
        risk: 'high',
        decision: 'deny',
        reasons: ['blast_radius_exceeded'],
        budgets: 'actionsPerHour 3/6, blastRadius 4/2',
      },
    ],
    denied: null,
    receiptId: 'rcpt_01JD8K3V0000000000000000AB',
    ...over,
  };
}

/** A simulation with 200 steps and a plan-level denial. */
export function hugeSimulation(over: Partial<SimulationView> = {}): SimulationView {
  return sampleSimulation({
    outcome: 'denied',
    wouldTrigger: null,
    steps: Array.from({ length: 200 }, (_, i) => ({
      id: `step-${i}`,
      uses: 'http.request',
      summary: `POST <https://x/${i}> & ${'s'.repeat(5_000)}`,
      targets: Array.from({ length: 100 }, (_, j) => `t-${j}`),
      cost: i,
      risk: 'high',
      decision: 'deny',
      reasons: Array.from({ length: 30 }, () => 'r'.repeat(300)),
      budgets: 'b'.repeat(3_000),
    })),
    denied: { step: 'step-0', reason: 'invalid_input', detail: 'd'.repeat(10_000) },
    ...over,
  });
}

export function sampleReceipt(over: Partial<ReceiptLineView> = {}): ReceiptLineView {
  return {
    kind: 'step.executed',
    id: 'rcpt_01JD8K4A0000000000000000CD',
    seq: 42,
    digest: 'sha256:3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b',
    summary: 'step restart succeeded in 120 ms',
    ...over,
  };
}

export function sampleReportLink(over: Partial<ReportLinkView> = {}): ReportLinkView {
  return {
    tenant: 'acme',
    week: '2026-W47',
    url: '/api/v1/reports/acme/2026-W47?sig=abc123&exp=1795000000',
    expiresAt: '2026-11-30T00:00:00.000Z',
    receiptId: 'rcpt_01JD8K5B0000000000000000EF',
    ...over,
  };
}

export function sampleNotice(over: Partial<NoticeView> = {}): NoticeView {
  return {
    title: 'Playbook checkout-restart disabled',
    lines: [
      'Runs already queued will finish.',
      'Enable it again with `/playbook enable checkout-restart`.',
    ],
    tone: 'success',
    ...over,
  };
}
