/**
 * Decision: what the guardrail chain answers before a step, and what it is asked. The engine calls a
 * `Guard` before every step; `allowAll` is the guard of tests that exercise the engine alone.
 */
import type { JsonValue } from '../ledger/receipt.js';
import type { StepPlan } from '../pipeline/simulate-run.js';
import type { PlaybookVersion } from '../storage/playbooks.js';

export type DecisionOutcome = 'allow' | 'deny' | 'approval_required';

/** used / limit of one budget, after this step if it is allowed. */
export interface BudgetFigure {
  used: number;
  limit: number;
}

export interface BudgetAttribution {
  actionsPerHour?: BudgetFigure;
  blastRadius?: BudgetFigure;
  costPerRun?: BudgetFigure;
  environment?: { value: string; allowed: string[] };
}

export interface Decision {
  outcome: DecisionOutcome;
  /** Machine-readable: `kill_switch:tenant`, `actions_per_hour_exceeded`, `policy:<id>` … */
  reasons: string[];
  budgets?: BudgetAttribution;
  /** A deny a human may override by approving (budgets only). */
  overridable?: boolean;
  /** For approval_required: approvals the policy asks for. */
  minApprovals?: number;
  /** The approval receipts this decision relied on. */
  approvals?: string[];
}

/** An approved ticket for this step: what it lets through. */
export interface ApprovalGrant {
  ticket: string;
  /** Distinct approvers. */
  approvals: number;
  /** Budget reasons the approvers overrode. */
  overrides: string[];
  /** Their `approval.decided` receipts. */
  receipts: string[];
}

/** What a guard sees before each step. */
export interface GuardInput {
  tenant: string;
  runId: string;
  playbook: PlaybookVersion;
  plan: StepPlan;
  /** The run context (`{{ … }}` reads it; the environment is interpolated from it). */
  context: unknown;
  /** `playbook:<name>` for triggered runs; `api:<token>`, `slack:<user>` … for manual ones. */
  initiator: string;
  grant?: ApprovalGrant | undefined;
  /** Decide without consuming budgets (simulation). */
  dryRun?: boolean;
  /** In a dry run, what the earlier steps of the same plan would consume. */
  planned?: { targets: string[]; cost: number; actions: number };
}

export type Guard = (input: GuardInput) => Promise<Decision>;

export const allowAll: Guard = async () => ({ outcome: 'allow', reasons: [] });

/** A decision as receipts and step rows store it. */
export const decisionJson = (d: Decision) => d as unknown as JsonValue;
