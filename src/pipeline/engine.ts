/**
 * Engine: drives one run through its persisted states. queued → simulated (plans + receipt) →
 * running → for each step: guard (the guardrail chain) → claim in the database → execute →
 * outcome and receipt → succeeded. A step the guard sends to a human opens an approval ticket and
 * the run waits (`awaiting_approval`); approved, it runs with the approvals in its receipt;
 * rejected or expired, the run ends denied or cancelled. On a failure or a denial, completed steps
 * are rolled back in reverse. A step is claimed before it runs, so it runs at most once; one found claimed but
 * unfinished after a crash is re-run only if declared idempotent, otherwise it becomes `unknown`
 * and the run fails, for a human to check. Every state change commits with its receipt. The first
 * step's guardrails are asked before the simulation commits, and when they allow it that commit
 * claims it too (still only if pending): a run reaches its first step with one commit fewer.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import {
  type ApprovalGrant,
  allowAll,
  type Decision,
  decisionJson,
  type Guard,
} from '../guardrails/decision.js';
import type { Ledger } from '../ledger/ledger.js';
import type { JsonValue } from '../ledger/receipt.js';
import { stepApprovals } from '../storage/approvals.js';
import { getVersion, type PlaybookVersion } from '../storage/playbooks.js';
import { claimStep } from '../storage/run-changes.js';
import type { RunLock } from '../storage/run-lock.js';
import { getRunWithSteps, type RunStatus, type StepRow } from '../storage/runs.js';
import { rollbackSteps } from './rollback.js';
import { planRun, recordSimulation } from './run-plan.js';
import { createRecordWriter, createRunRecorder, type RunRecorder } from './run-recorder.js';
import { createStepRunner, type StepRunner } from './run-step.js';
import { digestJson, type StepPlan } from './simulate-run.js';
import { grantOf, requestApproval } from './step-approval.js';
import type { StepCatalog } from './step-context.js';

export type { Decision, DecisionOutcome, Guard, GuardInput } from '../guardrails/decision.js';
export { allowAll } from '../guardrails/decision.js';

/**
 * Watches runs for the breakers: `starting` may stop a run before its first step (the alert
 * re-fired soon after a "successful" run), `settled` sees every final status.
 */
export interface RunWatch {
  /** A reason to cancel the run before it acts, or undefined to go on. */
  starting(run: {
    tenant: string;
    runId: string;
    version: PlaybookVersion;
    context: unknown;
  }): Promise<string | undefined>;
  settled(run: {
    tenant: string;
    runId: string;
    version: PlaybookVersion;
    status: RunStatus;
  }): Promise<void>;
}

export interface EngineDeps {
  knex: Knex;
  ledger: Ledger;
  catalog: StepCatalog;
  tenants: ReadonlyMap<string, TenantConfig>;
  logger: Logger;
  guard?: Guard;
  watch?: RunWatch;
  /** Keeps two workers from advancing one run at once. */
  runLock: RunLock;
  /** @defaultValue 300000 (5 minutes) */
  stepTimeoutMs?: number;
  /** Posts a playbook's message into its run's chat thread (`chat.notify`); the platforms reached. */
  chat?: (
    tenant: string,
    runId: string,
    message: { text: string; channel?: string | undefined },
  ) => Promise<string[]>;
}

export interface Engine {
  /** Advances the run as far as it can go; safe to call again (after a crash, or twice at once). */
  process(tenant: string, runId: string): Promise<RunStatus | undefined>;
}

const finished: RunStatus[] = ['succeeded', 'failed', 'denied', 'cancelled'];
const settled: RunStatus[] = [...finished, 'awaiting_approval'];

/** The first step's decision, asked before the simulation commit (claimed in it when allowed). */
interface Early {
  step: string;
  decision: Decision;
  /** Whether the simulation commit claimed the step; unset when it did not try (not allowed). */
  claimed?: boolean;
}

interface RunScope {
  tenant: string;
  runId: string;
  version: PlaybookVersion;
  context: unknown;
  initiator: string;
  recorder: RunRecorder;
  runner: StepRunner;
}

export function createEngine(deps: EngineDeps): Engine {
  const { knex, catalog } = deps;
  const guard = deps.guard ?? allowAll;
  const write = createRecordWriter(deps);
  // Playbook versions are immutable: each is read once.
  const versions = new Map<string, PlaybookVersion>();
  async function versionOf(tenant: string, id: string): Promise<PlaybookVersion | undefined> {
    const key = `${tenant}\u0000${id}`;
    const cached = versions.get(key);
    if (cached) return cached;
    const version = await getVersion(knex, tenant, id);
    if (version) {
      if (versions.size >= 1_000) versions.clear();
      versions.set(key, version);
    }
    return version;
  }

  const decide = (scope: RunScope, p: StepPlan, grant?: ApprovalGrant) =>
    guard({
      tenant: scope.tenant,
      runId: scope.runId,
      playbook: scope.version,
      plan: p,
      context: scope.context,
      initiator: scope.initiator,
      grant,
    });

  /** Returns the run's final status, or undefined when another worker holds a step. */
  async function runStep(
    scope: RunScope,
    row: StepRow,
    p: StepPlan,
    done: StepRow[],
    early?: Early,
    /** The run's last step: when it succeeds, the run ends in the same commit. */
    last = false,
  ) {
    const spec = scope.version.definition.spec.steps.find((s) => s.id === row.step_id);
    if (!spec) return scope.recorder.finish('failed', `step ${row.step_id} is not in the playbook`);
    const ref = scope.recorder.ref;
    const fail = async (status: 'denied' | 'failed' | 'cancelled', why: string) => {
      await rollbackSteps({ ...scope, done, catalog });
      return scope.recorder.finish(status, why);
    };
    if (row.status === 'running') {
      const idempotent = spec.idempotent ?? catalog.get(spec.uses)?.step.idempotent ?? false;
      if (!idempotent) {
        const error = 'claimed but unfinished (crash or restart); not idempotent, so not run again';
        await scope.recorder.step(
          row.step_id,
          { status: 'unknown', error, finished: true },
          {
            kind: 'step.executed',
            data: { playbook: ref, step: row.step_id, uses: spec.uses, outcome: 'unknown', error },
          },
        );
        return scope.recorder.finish(
          'failed',
          `step ${row.step_id}: outcome unknown; check it by hand`,
        );
      }
      await knex('run_steps')
        .where({
          tenant_id: scope.tenant,
          run_id: scope.runId,
          step_id: row.step_id,
          status: 'running',
        })
        .update({ status: 'pending' });
    }
    // A step that was blocked before carries its decision; its newest ticket says what humans did.
    let grant: ApprovalGrant | undefined;
    if (row.decision !== null) {
      const tickets = await stepApprovals(knex, scope.tenant, scope.runId, row.step_id);
      const ticket = tickets[0];
      if (ticket?.status === 'pending') return 'awaiting_approval' as const;
      if (ticket?.status === 'rejected' || ticket?.status === 'expired') {
        const reason = ticket.status === 'rejected' ? 'approval_rejected' : 'approval_expired';
        const votes = ticket.votes.map((v) => v.receiptId);
        await scope.recorder.step(
          row.step_id,
          {
            status: 'denied',
            decision: decisionJson({ outcome: 'deny', reasons: [reason], approvals: votes }),
            finished: true,
          },
          {
            kind: 'step.denied',
            data: {
              playbook: ref,
              step: row.step_id,
              uses: spec.uses,
              reasons: [reason],
              approval: ticket.id,
            },
          },
        );
        return fail(
          ticket.status === 'rejected' ? 'denied' : 'cancelled',
          `step ${row.step_id}: ${reason}`,
        );
      }
      if (ticket?.status === 'approved') grant = grantOf(tickets, p.inputDigest);
    }
    const decision = early?.decision ?? (await decide(scope, p, grant));
    const approval = scope.version.definition.spec.approval;
    if (
      decision.outcome === 'approval_required' ||
      (decision.outcome === 'deny' && decision.overridable && approval !== undefined)
    ) {
      return requestApproval({ ...scope, catalog, stepId: row.step_id, plan: p, decision, grant });
    }
    if (decision.outcome !== 'allow') {
      await scope.recorder.step(
        row.step_id,
        { status: 'denied', decision: decisionJson(decision), finished: true },
        {
          kind: 'step.denied',
          data: {
            playbook: ref,
            step: row.step_id,
            uses: spec.uses,
            reasons: decision.reasons,
            decision: decisionJson(decision),
          },
        },
      );
      return fail(
        'denied',
        `step ${row.step_id}: ${decision.reasons.join(', ') || decision.outcome}`,
      );
    }
    const claimed =
      early?.claimed ?? (await claimStep(knex, scope.tenant, scope.runId, row.step_id));
    if (!claimed) return undefined; // another worker holds the step
    const started = Date.now();
    let output: JsonValue = null;
    let error: string | null = null;
    try {
      output = await scope.runner.execute(
        spec.uses,
        p.input,
        `${scope.tenant}:${scope.runId}:${row.step_id}`,
        {
          run: scope.runId,
          step: row.step_id,
        },
      );
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const durationMs = Date.now() - started;
    const outputDigest = error ? null : digestJson(output);
    const record = last && !error ? scope.recorder.lastStep : scope.recorder.step;
    await record(
      row.step_id,
      {
        status: error ? 'failed' : 'succeeded',
        decision: decisionJson(decision),
        ...(error ? { error } : { output, output_digest: outputDigest }),
        duration_ms: durationMs,
        finished: true,
      },
      {
        kind: 'step.executed',
        data: {
          playbook: ref,
          step: row.step_id,
          uses: spec.uses,
          outcome: error ? 'failed' : 'succeeded',
          decision: decisionJson(decision),
          inputDigest: p.inputDigest,
          outputDigest,
          durationMs,
          targets: p.targets,
          cost: p.cost,
          risk: p.risk,
          error,
        },
        // What the step was given and returned stays private: the receipt commits to it (salted
        // digests) and an export discloses it only to readers who may see it.
        private: { input: asJson(p.input), ...(error ? {} : { output }) },
      },
    );
    if (error) return fail('failed', `step ${row.step_id} failed: ${error}`);
    if (last) return 'succeeded' as const;
    done.push({ ...row, status: 'succeeded', output });
    return 'running' as const;
  }

  return {
    async process(tenant, runId) {
      const release = await deps.runLock.tryAcquire(runId);
      if (!release) return undefined; // another worker is advancing it
      try {
        return await advance(tenant, runId);
      } finally {
        await release();
      }
    },
  };

  async function advance(tenant: string, runId: string): Promise<RunStatus | undefined> {
    const found = await getRunWithSteps(knex, tenant, runId);
    if (!found || settled.includes(found.run.status)) return found?.run.status;
    const { run, steps } = found;
    const version = await versionOf(tenant, run.playbook_version_id);
    if (!version) throw new Error(`run ${runId} names a missing playbook version`);
    const scope: RunScope = {
      tenant,
      runId,
      version,
      context: run.context,
      initiator: run.initiator ?? `playbook:${version.name}`,
      recorder: createRunRecorder(write, tenant, runId, version, {
        trigger: run.trigger_id ?? null,
        initiator: run.initiator ?? null,
      }),
      runner: createStepRunner({
        tenant,
        config: deps.tenants.get(tenant),
        catalog,
        logger: deps.logger.child({ playbook: version.name }),
        timeoutMs: deps.stepTimeoutMs ?? 300_000,
        chat: deps.chat && {
          post: (message) => deps.chat?.(tenant, runId, message) ?? Promise.resolve([]),
        },
      }),
    };
    const status = await walk(scope, run.status, steps);
    if (deps.watch && status && finished.includes(status)) {
      await deps.watch
        .settled({ tenant, runId, version, status })
        .catch((err: unknown) =>
          deps.logger.error({ err, tenant, run: runId }, 'breaker check failed'),
        );
    }
    return status;
  }

  async function walk(scope: RunScope, status: RunStatus, steps: StepRow[]) {
    if (status === 'queued' && deps.watch) {
      const stop = await deps.watch.starting(scope);
      if (stop) return scope.recorder.finish('cancelled', stop);
    }
    const plans = await planRun({ ...deps, scope });
    if (!plans) return 'denied';
    let early: Early | undefined;
    if (status === 'queued') {
      // The first step's guardrails are asked before the simulation commits: when they allow it,
      // that commit claims it too.
      const first = steps[0];
      const p = first && plans.find((x) => x.step === first.step_id);
      if (first && p && first.status === 'pending' && first.decision === null) {
        early = { step: first.step_id, decision: await decide(scope, p) };
      }
      const claim = early?.decision.outcome === 'allow' ? early.step : undefined;
      const claimed = await recordSimulation(scope, plans, claim);
      if (early && claim !== undefined) early.claimed = claimed;
    }
    const done: StepRow[] = [];
    for (const row of steps) {
      if (row.status === 'succeeded' || row.status === 'skipped') {
        done.push(row);
        continue;
      }
      if (row.status !== 'pending' && row.status !== 'running') return status;
      const p = plans.find((x) => x.step === row.step_id);
      if (!p) return scope.recorder.finish('failed', `step ${row.step_id} has no plan`);
      const outcome = await runStep(
        scope,
        row,
        p,
        done,
        early?.step === row.step_id ? early : undefined,
        row === steps.at(-1),
      );
      if (outcome !== 'running') return outcome;
    }
    return scope.recorder.finish('succeeded');
  }
}

/** A validated step input as plain JSON (zod output may hold undefined fields). */
const asJson = (value: unknown): JsonValue =>
  JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
