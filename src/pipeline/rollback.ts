/**
 * Rollback: after a failure or a denial, undoes the completed steps in reverse order — with the
 * playbook's `rollback:` step where one is given, else the plugin's own rollback — each receipted.
 * A step with neither is left as it is (and says so in no receipt: nothing was attempted).
 */
import type { JsonValue } from '../ledger/receipt.js';
import type { PlaybookVersion } from '../storage/playbooks.js';
import type { StepRow } from '../storage/runs.js';
import type { RunRecorder } from './run-recorder.js';
import type { StepRunner } from './run-step.js';
import { resolveInput } from './simulate-run.js';
import type { StepCatalog } from './step-context.js';

export async function rollbackSteps(opts: {
  runId: string;
  version: PlaybookVersion;
  done: StepRow[];
  context: unknown;
  catalog: StepCatalog;
  runner: StepRunner;
  recorder: RunRecorder;
}): Promise<void> {
  const spec = new Map(opts.version.definition.spec.steps.map((s) => [s.id, s]));
  for (const row of [...opts.done].reverse()) {
    const s = spec.get(row.step_id);
    const ownRollback = opts.catalog.get(s?.uses ?? '')?.step.rollback !== undefined;
    if (!s || (!s.rollback && !ownRollback)) continue;
    const key = `${opts.runId}:${row.step_id}:rollback`;
    const started = Date.now();
    let error: string | null = null;
    try {
      const uses = s.rollback?.uses ?? s.uses;
      const resolved = resolveInput(opts.catalog, uses, s.rollback?.with ?? s.with, opts.context);
      if (!resolved.ok) throw new Error(resolved.detail);
      if (s.rollback)
        await opts.runner.execute(uses, resolved.input, key, { rollback: row.step_id });
      else await opts.runner.rollback(uses, resolved.input, row.output as JsonValue, key);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    await opts.recorder.step(row.step_id, error ? { error } : { status: 'rolled_back' }, {
      kind: 'step.rolled_back',
      data: {
        playbook: opts.recorder.ref,
        step: row.step_id,
        uses: s.rollback?.uses ?? s.uses,
        outcome: error ? 'failed' : 'rolled_back',
        error,
        durationMs: Date.now() - started,
      },
    });
  }
}
