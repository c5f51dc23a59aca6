/**
 * Approval-ticket: what a human needs to decide on a blocked step — the step and its input digest,
 * why it was blocked, recommended next steps (the playbook's, then ones derived from the reasons),
 * evidence links (alert source, runbook, dashboard, the run's receipts), the rollback suggestion,
 * who may approve, how many must, and until when.
 */
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../ledger/receipt.js';
import type { StepPlan } from '../pipeline/simulate-run.js';
import type { StepCatalog } from '../pipeline/step-context.js';
import type { NewTicket } from '../storage/approvals.js';
import type { PlaybookVersion } from '../storage/playbooks.js';
import type { Decision } from './decision.js';

/** Default time a ticket stays open when the playbook says nothing. */
export const defaultExpiryMs = 30 * 60_000;

const advice: Record<string, (d: Decision) => string> = {
  actions_per_hour_exceeded: (d) =>
    `This step would be action ${figure(d, 'actionsPerHour')} of the playbook in the last hour: check whether the alert is flapping before approving more.`,
  blast_radius_exceeded: (d) =>
    `With this step the run would touch ${figure(d, 'blastRadius')} targets: confirm they are meant to change together.`,
  cost_per_run_exceeded: (d) =>
    `The run would spend ${figure(d, 'costPerRun')} cost units: confirm the extra spend is worth it.`,
  'policy:destructive-needs-approval': () =>
    'The step is destructive: check the input and that the rollback below is ready before approving.',
  'policy:privileged-dual-control': () =>
    'Privileged step in production: two people other than the initiator must approve.',
};

function figure(d: Decision, key: 'actionsPerHour' | 'blastRadius' | 'costPerRun'): string {
  const f = d.budgets?.[key];
  return f ? `${f.used} (limit ${f.limit})` : 'over its limit';
}

/** Links worth opening before deciding, from the alert and the run. */
function evidenceOf(context: unknown, runId: string): Array<{ label: string; url: string }> {
  const alert = (context as { alert?: Record<string, unknown> } | null)?.alert;
  const links = (alert?.links ?? {}) as Record<string, unknown>;
  const annotations = (alert?.annotations ?? {}) as Record<string, unknown>;
  const out: Array<{ label: string; url: string }> = [];
  const add = (label: string, url: unknown) => {
    if (typeof url === 'string' && /^https?:\/\//.test(url) && !out.some((e) => e.url === url))
      out.push({ label, url });
  };
  for (const [key, url] of Object.entries(links)) add(`alert ${key}`, url);
  add('runbook', annotations.runbook_url ?? annotations.runbook);
  add('dashboard', annotations.dashboard_url ?? annotations.dashboard);
  out.push({ label: 'run', url: `/api/v1/runs/${runId}` });
  out.push({ label: 'receipts', url: `/api/v1/receipts?run=${runId}` });
  return out;
}

/** The playbook's rollback step, else the plugin's own inverse, else a plain "irreversible". */
function rollbackOf(version: PlaybookVersion, plan: StepPlan, catalog: StepCatalog): JsonValue {
  const spec = version.definition.spec.steps.find((s) => s.id === plan.step);
  if (spec?.rollback) {
    return { kind: 'playbook', uses: spec.rollback.uses, with: spec.rollback.with as JsonValue };
  }
  if (catalog.get(plan.uses)?.step.rollback) {
    return { kind: 'plugin', uses: plan.uses, note: `${plan.uses} undoes itself on rollback` };
  }
  return { kind: 'none', note: 'irreversible: no rollback is declared for this step' };
}

export function buildTicket(opts: {
  tenant: string;
  runId: string;
  version: PlaybookVersion;
  plan: StepPlan;
  decision: Decision;
  context: unknown;
  initiator: string;
  catalog: StepCatalog;
  /** Distinct approvers earlier tickets of this step already counted: only the rest are asked. */
  granted?: number;
  now?: Date;
}): Omit<NewTicket, 'requestReceiptId'> {
  const { decision, version } = opts;
  const approval = version.definition.spec.approval;
  const derived = decision.reasons.flatMap((r) => advice[r]?.(decision) ?? []);
  const now = opts.now ?? new Date();
  return {
    id: randomUUID(),
    tenant: opts.tenant,
    runId: opts.runId,
    stepId: opts.plan.step,
    playbook: version.name,
    inputDigest: opts.plan.inputDigest,
    outcome: decision.outcome === 'deny' ? 'deny' : 'approval_required',
    reasons: decision.reasons,
    nextSteps: [...(approval?.nextSteps ?? []), ...derived],
    evidence: evidenceOf(opts.context, opts.runId),
    rollback: rollbackOf(version, opts.plan, opts.catalog),
    approvers: approval?.approvers ?? [],
    minApprovals: Math.max(
      1,
      Math.max(approval?.minApprovals ?? 1, decision.minApprovals ?? 1) - (opts.granted ?? 0),
    ),
    initiator: opts.initiator,
    expiresAt: new Date(now.getTime() + (approval?.expiresIn ?? defaultExpiryMs)).toISOString(),
  };
}
