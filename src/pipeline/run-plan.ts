/**
 * Run-plan: a run's simulation as the engine records it. Every step's input is interpolated and
 * validated and the plugin describes what it would do; a step that cannot be planned denies the run
 * (`invalid_input`, with a receipt). The plans and the `run.simulated` receipt are committed
 * together — with the first step's claim when its guardrails allowed it.
 */
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import type { JsonValue } from '../ledger/receipt.js';
import type { PlaybookVersion } from '../storage/playbooks.js';
import type { RunRecorder } from './run-recorder.js';
import { type StepPlan, simulateRun } from './simulate-run.js';
import type { StepCatalog } from './step-context.js';

/** What planning needs of a run. */
export interface PlanScope {
  tenant: string;
  runId: string;
  version: PlaybookVersion;
  context: unknown;
  recorder: RunRecorder;
}

/** The run's step plans, or undefined when a step could not be planned (the run is then denied). */
export async function planRun(deps: {
  catalog: StepCatalog;
  tenants: ReadonlyMap<string, TenantConfig>;
  logger: Logger;
  scope: PlanScope;
}): Promise<StepPlan[] | undefined> {
  const { scope } = deps;
  const sim = await simulateRun({
    playbook: scope.version.definition,
    context: scope.context,
    catalog: deps.catalog,
    tenant: scope.tenant,
    config: deps.tenants.get(scope.tenant),
    logger: deps.logger,
  });
  if (!sim.ok) {
    const data = { playbook: scope.recorder.ref, step: sim.step, uses: sim.uses };
    await scope.recorder.step(
      sim.step,
      {
        status: 'denied',
        decision: { outcome: 'deny', reasons: [sim.reason] },
        error: sim.detail,
        finished: true,
      },
      { kind: 'step.denied', data: { ...data, reasons: [sim.reason], detail: sim.detail } },
    );
    await scope.recorder.finish('denied', `step ${sim.step}: ${sim.reason}: ${sim.detail}`);
    return undefined;
  }
  return sim.steps;
}

/**
 * The simulation receipt with every step's plan; the run moves to `running`. With `claim`, the
 * first step (which its guardrails allowed) is claimed in the same commit — still only if it is
 * pending — so a run reaches its first step with one commit fewer; resolves to whether it was.
 */
export function recordSimulation(
  scope: PlanScope,
  plans: StepPlan[],
  claim?: string,
): Promise<boolean> {
  return scope.recorder.simulated(
    plans.map(({ input: _input, ...p }) => ({
      step: p.step,
      fields: { plan: p as unknown as JsonValue, input_digest: p.inputDigest },
    })),
    {
      steps: plans.map(
        ({ input: _i, effects: _e, summary: _s, ...p }) => p,
      ) as unknown as JsonValue,
    },
    // What a plugin says it will do may quote the step's input, which is private.
    { summaries: Object.fromEntries(plans.map((p) => [p.step, p.summary])) },
    claim,
  );
}
