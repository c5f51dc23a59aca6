/**
 * View-builders: the neutral chat views, read from storage — an approval card from its ticket and
 * the step's plan, a run summary from the run, a receipt line from a receipt, a simulation from a
 * dry run. Every read is scoped to the tenant.
 */
import type { Knex } from 'knex';
import type { ReceiptPayload } from '../ledger/receipt.js';
import type { dryRun } from '../pipeline/dry-run.js';
import { runViews } from '../pipeline/run-view.js';
import type { Ticket } from '../storage/approvals.js';
import { getRunRow } from '../storage/runs.js';
import type { ApprovalCardView, ReceiptLineView, RunSummaryView, SimulationView } from './views.js';

const reasonTexts: Record<string, string> = {
  'policy:destructive-needs-approval': 'The step is destructive: a person must approve it.',
  'policy:privileged-dual-control':
    'Privileged step in production: two people other than the initiator must approve.',
  actions_per_hour_exceeded: "The playbook's actions-per-hour budget would be exceeded.",
  blast_radius_exceeded: "The run's blast radius (distinct targets) would be exceeded.",
  cost_per_run_exceeded: "The run's cost budget would be exceeded.",
  environment_not_allowed: 'The run’s environment is not one the playbook may act in.',
  approval_rejected: 'An approver rejected the step.',
  playbook_disabled: 'The playbook is disabled (by a person or its breaker).',
  approval_expired: 'Nobody decided before the approval expired.',
};

/** A human sentence for a guardrail reason code. */
export function reasonText(code: string): string {
  if (reasonTexts[code]) return reasonTexts[code];
  if (code.startsWith('kill_switch:')) return `The ${code.slice(12)} kill switch is engaged.`;
  if (code.startsWith('policy:')) return `Policy ${code.slice(7)} applies.`;
  return code.replaceAll('_', ' ');
}

function rollbackText(rollback: unknown): string {
  const r = (rollback ?? {}) as { kind?: string; uses?: string; note?: string };
  if (r.kind === 'playbook') return `Playbook rollback: ${r.uses}`;
  if (r.kind === 'plugin') return r.note ?? `${r.uses} undoes itself`;
  return r.note ?? 'irreversible: no rollback is declared for this step';
}

export async function approvalView(knex: Knex, ticket: Ticket): Promise<ApprovalCardView> {
  const step = await knex('run_steps')
    .where({ tenant_id: ticket.tenant, run_id: ticket.runId, step_id: ticket.stepId })
    .first('uses', 'plan');
  const plan = (step?.plan ?? {}) as { summary?: string; targets?: string[] };
  const approves = ticket.votes.filter((v) => v.decision === 'approve');
  const last = ticket.votes.at(-1);
  const decided: ApprovalCardView['decided'] =
    ticket.status === 'pending'
      ? undefined
      : ticket.status === 'expired'
        ? { actor: null, decision: 'expired', at: ticket.decidedAt ?? ticket.expiresAt }
        : {
            actor: last?.actor ?? null,
            decision: ticket.status === 'rejected' ? 'reject' : 'approve',
            at: ticket.decidedAt ?? last?.at ?? ticket.createdAt,
          };
  return {
    ticketId: ticket.id,
    tenant: ticket.tenant,
    playbook: ticket.playbook,
    runId: ticket.runId,
    stepId: ticket.stepId,
    uses: step?.uses ?? '',
    summary: plan.summary ?? '',
    targets: plan.targets ?? [],
    inputDigest: ticket.inputDigest,
    outcome: ticket.outcome,
    reasons: ticket.reasons.map((code) => ({ code, text: reasonText(code) })),
    nextSteps: ticket.nextSteps,
    evidence: ticket.evidence,
    rollback: rollbackText(ticket.rollback),
    approvers: ticket.approvers,
    minApprovals: ticket.minApprovals,
    approvals: approves.map((v) => ({ actor: v.actor, at: v.at })),
    expiresAt: ticket.expiresAt,
    status: ticket.status,
    ...(decided ? { decided } : {}),
  };
}

export async function runSummaryView(
  knex: Knex,
  tenant: string,
  runId: string,
): Promise<RunSummaryView | undefined> {
  const row = await getRunRow(knex, tenant, runId);
  if (!row) return undefined;
  const [run] = await runViews(knex, tenant, [row]);
  if (!run) return undefined;
  const alert = (row.context as { alert?: { labels?: Record<string, string>; status?: string } })
    .alert;
  const labels = alert?.labels ?? {};
  const detail = Object.entries(labels)
    .filter(([k]) => k !== 'alertname')
    .slice(0, 4)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const trigger = run.trigger
    ? `${run.trigger.source}: ${labels.alertname ?? 'event'}${detail ? ` (${detail})` : ''}${alert?.status ? ` ${alert.status}` : ''}`
    : `manual run by ${row.initiator ?? 'an operator'}`;
  return {
    runId: run.id,
    tenant,
    playbook: run.playbook.name,
    version: run.playbook.version,
    status: run.status as RunSummaryView['status'],
    trigger,
    steps: run.steps.map((s) => ({
      id: s.id,
      uses: s.uses,
      status: s.status,
      ...(s.decision ? { decision: s.decision.outcome, reasons: s.decision.reasons } : {}),
    })),
    startedAt: run.createdAt,
    finishedAt: run.finishedAt ?? undefined,
    error: run.error,
    links: [
      { label: 'run', url: `/api/v1/runs/${run.id}` },
      { label: 'receipts', url: `/api/v1/receipts?run=${run.id}` },
    ],
  };
}

/** One receipt as a thread reply: its kind, seq, digest and a one-line summary. */
export function receiptLine(p: ReceiptPayload, digest: string): ReceiptLineView {
  const d = p as Record<string, unknown>;
  const step = typeof d.step === 'string' ? `step ${d.step}` : '';
  const summaries: Record<string, () => string> = {
    'run.simulated': () => 'simulated: the plan is recorded before anything acts',
    'step.executed': () =>
      `${step} ${d.outcome}${d.durationMs !== undefined ? ` in ${d.durationMs} ms` : ''}`,
    'step.denied': () => `${step} denied: ${((d.reasons as string[]) ?? []).join(', ')}`,
    'step.rolled_back': () => `${step} rolled back (${d.outcome})`,
    'approval.requested': () => `${step} needs approval`,
    'approval.decided': () =>
      `${d.actor} ${d.decision === 'approve' ? 'approved' : 'rejected'} ${step}`,
    'approval.refused': () => `refused ${d.actor}: ${d.reason}`,
    'approval.expired': () => `approval for ${step} expired`,
    'run.finished': () => `run ${d.status}${d.error ? `: ${d.error}` : ''}`,
  };
  return {
    kind: p.kind,
    id: p.id,
    seq: p.seq,
    digest,
    summary: (summaries[p.kind]?.() ?? p.kind).trim(),
  };
}

function budgetsText(b: Record<string, unknown> | undefined): string {
  if (!b) return '';
  return (['actionsPerHour', 'blastRadius', 'costPerRun'] as const)
    .flatMap((k) => {
      const f = b[k] as { used: number; limit: number } | undefined;
      return f ? [`${k} ${f.used}/${f.limit}`] : [];
    })
    .join(', ');
}

export function simulationView(
  tenant: string,
  result: Awaited<ReturnType<typeof dryRun>>,
): SimulationView {
  return {
    tenant,
    playbook: result.playbook.name,
    version: result.playbook.version,
    outcome: result.outcome,
    wouldTrigger: result.wouldTrigger,
    steps: result.steps.map((s) => ({
      id: s.step,
      uses: s.uses,
      summary: s.summary,
      targets: s.targets,
      cost: s.cost,
      risk: s.risk,
      decision: s.decision.outcome,
      reasons: s.decision.reasons,
      budgets: budgetsText(s.decision.budgets as Record<string, unknown> | undefined),
    })),
    denied: result.denied
      ? { step: result.denied.step, reason: result.denied.reason, detail: result.denied.detail }
      : null,
    receiptId: result.receipt,
  };
}
