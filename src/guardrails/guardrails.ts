/**
 * Guardrails: the guard the engine calls before every step (kill switch → environment → budgets →
 * policy) and the watch that trips breakers, built once at start from the plugin catalog and the
 * tenants' policy files (validated then, so a bad policy stops the start, not a run).
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import type { Ledger } from '../ledger/ledger.js';
import type { RunWatch } from '../pipeline/engine.js';
import type { StepCatalog } from '../pipeline/step-context.js';
import type { BreakerTrip } from './breakers.js';
import { createGuardrails } from './chain.js';
import type { Guard } from './decision.js';
import { createPolicyEngine, loadTenantPolicies, type PolicyEngine } from './policy.js';
import { createRunWatch } from './watch.js';

export interface Guardrails {
  guard: Guard;
  watch: RunWatch;
  policy: PolicyEngine;
}

/**
 * @example
 * const { guard, watch } = await openGuardrails({ knex, ledger, catalog, tenants: config.tenants, logger });
 * const engine = createEngine({ …, guard, watch });
 */
export async function openGuardrails(opts: {
  knex: Knex;
  ledger: Ledger;
  catalog: StepCatalog;
  tenants: readonly TenantConfig[];
  logger: Logger;
  onTrip?: (tenant: string, playbook: string, trip: BreakerTrip) => void;
}): Promise<Guardrails> {
  const policy = createPolicyEngine({
    actions: [...opts.catalog.keys()],
    tenantPolicies: await loadTenantPolicies(opts.tenants),
  });
  const guard = createGuardrails({
    knex: opts.knex,
    policy,
    tenants: new Map(opts.tenants.map((t) => [t.id, t])),
  });
  const watch = createRunWatch({
    knex: opts.knex,
    ledger: opts.ledger,
    logger: opts.logger,
    ...(opts.onTrip ? { onTrip: opts.onTrip } : {}),
  });
  return { guard, watch, policy };
}
