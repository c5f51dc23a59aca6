/**
 * Dry-run: `warden simulate` and `POST /playbooks/:name/simulate` — plans a playbook against an
 * example event without creating a run or touching anything, and receipts the simulation.
 */
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import { isAction } from '../guardrails/chain.js';
import type { Decision, Guard } from '../guardrails/decision.js';
import type { Ledger } from '../ledger/ledger.js';
import type { JsonValue } from '../ledger/receipt.js';
import type { PlaybookVersion } from '../storage/playbooks.js';
import type { TriggerEvent } from '../triggers/trigger-event.js';
import { playbookMatches } from './match.js';
import { runContext } from './run-context.js';
import { digestJson, type StepPlan, simulateRun } from './simulate-run.js';
import type { StepCatalog } from './step-context.js';

/** The example event: an alert (labels…), a signed event (source, type, data) and/or parameters. */
export interface ExampleEvent {
  alert?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    source?: string;
  };
  event?: { source: string; type?: string; data?: JsonValue };
  params?: Record<string, JsonValue>;
}

export function exampleTrigger(tenant: string, example: ExampleEvent): TriggerEvent | null {
  const base = {
    id: 'simulation',
    tenant,
    fingerprint: null,
    dedupKey: 'simulation',
    startsAt: null,
    endsAt: null,
    links: {},
    receivedAt: new Date().toISOString(),
    bodyDigest: digestJson(example),
    resolves: null,
    receiptId: '',
  };
  if (example.alert) {
    const source = (example.alert.source ?? 'alertmanager') as TriggerEvent['source'];
    return {
      ...base,
      source,
      kind: 'alert',
      status: 'firing',
      labels: example.alert.labels ?? {},
      annotations: example.alert.annotations ?? {},
      eventType: null,
      data: null,
    };
  }
  if (example.event) {
    return {
      ...base,
      source: 'events',
      kind: 'event',
      status: 'received',
      labels: {
        source: example.event.source,
        ...(example.event.type ? { type: example.event.type } : {}),
      },
      annotations: {},
      eventType: example.event.type ?? null,
      data: example.event.data ?? null,
    };
  }
  return null;
}

export async function dryRun(opts: {
  version: PlaybookVersion;
  example: ExampleEvent;
  catalog: StepCatalog;
  config: TenantConfig | undefined;
  ledger: Ledger;
  logger: Logger;
  /** The guardrails, asked without consuming anything; without it every step shows `allow`. */
  guard?: Guard;
  /** Who would run it (for the policy): `api:<token>`, `cli` … @defaultValue `playbook:<name>` */
  initiator?: string;
}) {
  const { version } = opts;
  const trigger = exampleTrigger(version.tenant, opts.example);
  const context = runContext(
    trigger,
    { name: version.name, version: version.version },
    opts.example.params,
  );
  const sim = await simulateRun({
    playbook: version.definition,
    context,
    catalog: opts.catalog,
    tenant: version.tenant,
    config: opts.config,
    logger: opts.logger,
  });
  const playbook = { name: version.name, version: version.version, digest: version.digest };
  const wouldTrigger = trigger ? playbookMatches(version.definition, trigger) : null;
  const decisions = sim.ok ? await decide(opts, context, sim.steps) : [];
  const steps = sim.ok
    ? sim.steps.map(({ input: _input, ...p }, i) => ({ ...p, decision: decisions[i] as Decision }))
    : [];
  // As the engine does: an overridable denial of a playbook with approvers opens a ticket.
  const approvable = (d: Decision) =>
    d.outcome === 'approval_required' ||
    (d.overridable === true && version.definition.spec.approval !== undefined);
  const blocked = decisions.find((d) => d.outcome !== 'allow');
  const outcome = !sim.ok
    ? ('denied' as const)
    : blocked && !approvable(blocked)
      ? ('would_be_denied' as const)
      : blocked
        ? ('needs_approval' as const)
        : ('planned' as const);
  const receipt = await opts.ledger.append(version.tenant, {
    kind: 'run.simulated',
    data: {
      playbook: `${version.name}@${version.digest}`,
      version: version.version,
      dryRun: true,
      exampleDigest: digestJson(opts.example),
      outcome,
      steps: steps.map(({ effects: _e, summary: _s, ...p }) => p) as unknown as JsonValue,
      ...(sim.ok ? {} : { denied: { step: sim.step, reason: sim.reason, detail: sim.detail } }),
    },
    // What a plugin says it will do may quote the step's input, which is private.
    private: { summaries: Object.fromEntries(steps.map((p) => [p.step, p.summary])) },
  });
  return {
    playbook,
    wouldTrigger,
    outcome,
    steps,
    denied: sim.ok
      ? null
      : { step: sim.step, uses: sim.uses, reason: sim.reason, detail: sim.detail },
    receipt: receipt.payload.id,
  };
}

/**
 * Each step's decision as the guardrails would give it now, without consuming budgets: the
 * earlier steps' targets, cost and actions count as if they had run.
 */
async function decide(
  opts: { version: PlaybookVersion; guard?: Guard; initiator?: string },
  context: unknown,
  plans: StepPlan[],
): Promise<Decision[]> {
  const planned = { targets: [] as string[], cost: 0, actions: 0 };
  const out: Decision[] = [];
  for (const plan of plans) {
    const decision = opts.guard
      ? await opts.guard({
          tenant: opts.version.tenant,
          runId: 'simulation',
          playbook: opts.version,
          plan,
          context,
          initiator: opts.initiator ?? `playbook:${opts.version.name}`,
          dryRun: true,
          planned: { ...planned, targets: [...planned.targets] },
        })
      : { outcome: 'allow' as const, reasons: [] };
    out.push(decision);
    planned.targets.push(...plan.targets);
    planned.cost += plan.cost;
    planned.actions += isAction({ plan }) ? 1 : 0;
  }
  return out;
}
