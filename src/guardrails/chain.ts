/**
 * The guardrail chain, in order, before every step of every run:
 *
 *   kill switch → allowed environment → blast radius → cost per run → actions per hour → policy
 *
 * The first check that says no decides. Budgets are checked and consumed in one transaction under
 * a per-playbook lock, so parallel runs and processes never overspend; every answer carries the
 * budget attribution (used / limit) for its receipt. Budget denials are overridable: an approved
 * ticket that names them lets the step through (and still counts it).
 */
import type { Knex } from 'knex';
import type { TenantConfig } from '../config.js';
import { interpolate } from '../pipeline/interpolate.js';
import type { Playbook } from '../pipeline/playbook-schema.js';
import { budgetUse, consumeBudget, lockBudget } from '../storage/budgets.js';
import { stepStops } from '../storage/kill-switches.js';
import { getTenant } from '../storage/tenants.js';
import type { BudgetAttribution, Decision, Guard, GuardInput } from './decision.js';
import type { PolicyEngine, PolicyRequest, Tier } from './policy.js';

export const budgetReasons = [
  'blast_radius_exceeded',
  'cost_per_run_exceeded',
  'actions_per_hour_exceeded',
] as const;

export interface GuardrailDeps {
  knex: Knex;
  policy: PolicyEngine;
  tenants: ReadonlyMap<string, TenantConfig>;
}

/**
 * @example
 * const guard = createGuardrails({ knex, policy, tenants });
 * const decision = await guard({ tenant, runId, playbook, plan, context, initiator });
 */
export function createGuardrails(deps: GuardrailDeps): Guard {
  const tierOf = tierLookup(deps);
  return async (input) => {
    const spec = input.playbook.definition.spec;
    const plugin = input.plan.uses.slice(0, input.plan.uses.indexOf('.'));
    const budgets: BudgetAttribution = {};

    // Both are read before every step: a playbook disabled while its run is under way (a breaker
    // tripped by its other runs, or a person) stops at its next step, like a kill switch.
    const { switches, disabled } = await stepStops(
      deps.knex,
      input.tenant,
      input.playbook.name,
      plugin,
    );
    if (switches.length > 0) {
      return deny(
        switches.map((scope) => `kill_switch:${scope}`),
        budgets,
      );
    }
    if (disabled) return deny(['playbook_disabled'], budgets);

    const environment = environmentOf(spec, input.context);
    const allowed = spec.budgets.allowedEnvironments;
    if (allowed) {
      budgets.environment = { value: environment, allowed };
      if (!allowed.includes(environment)) return deny(['environment_not_allowed'], budgets);
    }

    const policyRequest: PolicyRequest = {
      tenant: input.tenant,
      tier: await tierOf(input.tenant),
      principal: principalOf(input.initiator),
      action: input.plan.uses,
      targets: input.plan.targets,
      environment,
      risk: input.plan.risk,
      reversible: input.plan.reversible,
      approvals: input.grant?.approvals ?? 0,
    };
    const hasBudgets =
      spec.budgets.actionsPerHour !== undefined ||
      spec.budgets.blastRadius !== undefined ||
      spec.budgets.costPerRun !== undefined;
    if (!hasBudgets) return withGrant(decidePolicy(deps.policy, policyRequest, budgets), input);
    if (input.dryRun)
      return withGrant(
        await budgetChecks(deps.knex, input, budgets, policyRequest, deps.policy),
        input,
      );
    return deps.knex.transaction(async (trx) => {
      await lockBudget(trx, input.tenant, input.playbook.name);
      const decision = await budgetChecks(trx, input, budgets, policyRequest, deps.policy);
      if (decision.outcome === 'allow') {
        await consumeBudget(trx, {
          tenant: input.tenant,
          playbook: input.playbook.name,
          runId: input.runId,
          stepId: input.plan.step,
          isAction: isAction(input),
          targets: input.plan.targets,
          cost: input.plan.cost,
        });
      }
      return withGrant(decision, input);
    });
  };
}

/** Blast radius, cost per run, actions per hour — then the policy; fills in the attribution. */
async function budgetChecks(
  knex: Knex,
  input: GuardInput,
  budgets: BudgetAttribution,
  request: PolicyRequest,
  policy: PolicyEngine,
): Promise<Decision> {
  const limits = input.playbook.definition.spec.budgets;
  const use = await budgetUse(knex, {
    tenant: input.tenant,
    playbook: input.playbook.name,
    runId: input.runId,
    stepId: input.plan.step,
  });
  // A dry run adds what its earlier steps would have consumed.
  if (input.planned) {
    use.runTargets = [...use.runTargets, ...input.planned.targets];
    use.runCost += input.planned.cost;
    use.actionsLastHour += input.planned.actions;
  }
  // A step that already consumed (a resumed run deciding again) is not counted twice.
  const mine = use.consumed ? 0 : 1;
  const overridden = new Set(input.grant?.overrides ?? []);
  const exceeded: string[] = [];
  // A budget stops only a step that adds to it: once an approval let the run past a limit, a
  // read-only step after it is not blocked for what it does not spend.
  if (limits.blastRadius !== undefined) {
    const known = new Set(use.runTargets);
    const adds = input.plan.targets.some((t) => !known.has(t));
    const used = new Set([...known, ...input.plan.targets]).size;
    budgets.blastRadius = { used, limit: limits.blastRadius };
    if (adds && used > limits.blastRadius) exceeded.push('blast_radius_exceeded');
  }
  if (limits.costPerRun !== undefined) {
    const used = use.runCost + mine * input.plan.cost;
    budgets.costPerRun = { used, limit: limits.costPerRun };
    if (input.plan.cost > 0 && used > limits.costPerRun) exceeded.push('cost_per_run_exceeded');
  }
  if (limits.actionsPerHour !== undefined) {
    const used = use.actionsLastHour + (isAction(input) ? mine : 0);
    budgets.actionsPerHour = { used, limit: limits.actionsPerHour };
    if (isAction(input) && used > limits.actionsPerHour) exceeded.push('actions_per_hour_exceeded');
  }
  const blocking = use.consumed ? [] : exceeded.filter((r) => !overridden.has(r));
  if (blocking.length > 0) return { ...deny(blocking, budgets), overridable: true };
  return decidePolicy(policy, request, budgets);
}

function decidePolicy(
  policy: PolicyEngine,
  request: PolicyRequest,
  budgets: BudgetAttribution,
): Decision {
  const d = policy.decide(request);
  return {
    outcome: d.outcome,
    reasons: d.reasons,
    budgets,
    ...(d.minApprovals !== undefined ? { minApprovals: d.minApprovals } : {}),
  };
}

const deny = (reasons: string[], budgets: BudgetAttribution): Decision => ({
  outcome: 'deny',
  reasons,
  budgets,
});

/** An allowed step that an approval let through names the approval receipts. */
function withGrant(decision: Decision, input: GuardInput): Decision {
  if (decision.outcome !== 'allow' || !input.grant) return decision;
  return { ...decision, approvals: input.grant.receipts };
}

/** Write and destructive steps are actions; none and read are not. */
export const isAction = (input: Pick<GuardInput, 'plan'>) =>
  input.plan.risk === 'write' || input.plan.risk === 'destructive';

/** The run's environment: the playbook's `environment`, interpolated; '' when it has none. */
export function environmentOf(spec: Playbook['spec'], context: unknown): string {
  if (spec.environment === undefined) return '';
  try {
    const value = interpolate(spec.environment, context);
    return typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    return '';
  }
}

export function principalOf(initiator: string): PolicyRequest['principal'] {
  const [kind, ...rest] = initiator.split(':');
  const id = rest.join(':');
  if (kind === 'playbook') return { type: 'Playbook', id };
  if (kind === 'slack' || kind === 'teams' || kind === 'web')
    return { type: 'ChatUser', id: initiator };
  return { type: 'Operator', id: initiator };
}

/** The tenant's tier: from the config, else the database (tenants made with the CLI), cached. */
function tierLookup(deps: GuardrailDeps): (tenant: string) => Promise<Tier> {
  const cache = new Map<string, { tier: Tier; until: number }>();
  return async (tenant) => {
    const configured = deps.tenants.get(tenant)?.tier;
    if (configured) return configured;
    const hit = cache.get(tenant);
    if (hit && hit.until > Date.now()) return hit.tier;
    const tier = ((await getTenant(deps.knex, tenant))?.tier ?? 'free') as Tier;
    cache.set(tenant, { tier, until: Date.now() + 60_000 });
    return tier;
  };
}
