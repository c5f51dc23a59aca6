/** Run-recorder: a run's or step's new state and its receipt, committed in one transaction. */
import type { Knex } from 'knex';
import type { Ledger } from '../ledger/ledger.js';
import type { JsonValue, ReceiptDraft } from '../ledger/receipt.js';
import type { PlaybookVersion } from '../storage/playbooks.js';
import { type RunStatus, setRunStatus, updateStep } from '../storage/runs.js';

export type StepFields = Parameters<typeof updateStep>[4];

export interface RunRecorder {
  step(stepId: string, fields: StepFields, draft: Omit<ReceiptDraft, 'run'>): Promise<void>;
  finish(status: RunStatus, error?: string): Promise<RunStatus>;
  /** Plans and the simulation receipt; the run moves to `running`. */
  simulated(
    plans: Array<{ step: string; fields: StepFields }>,
    data: Record<string, JsonValue>,
  ): Promise<void>;
  ref: string;
}

export function createRunRecorder(
  deps: { knex: Knex; ledger: Ledger },
  tenant: string,
  runId: string,
  v: PlaybookVersion,
): RunRecorder {
  const ref = `${v.name}@${v.digest}`;
  const commit = (fn: (trx: Knex.Transaction) => Promise<void>, draft: Omit<ReceiptDraft, 'run'>) =>
    deps.knex.transaction(async (trx) => {
      await fn(trx);
      await deps.ledger.appendIn(trx, tenant, [{ ...draft, run: runId }]);
    });
  return {
    ref,
    async step(stepId, fields, draft) {
      await commit((trx) => updateStep(trx, tenant, runId, stepId, fields), draft);
    },
    async finish(status, error) {
      await commit((trx) => setRunStatus(trx, tenant, runId, status, error ?? null), {
        kind: 'run.finished',
        data: { playbook: ref, version: v.version, status, error: error ?? null },
      });
      return status;
    },
    async simulated(plans, data) {
      await commit(
        async (trx) => {
          for (const p of plans) await updateStep(trx, tenant, runId, p.step, p.fields);
          await setRunStatus(trx, tenant, runId, 'running');
        },
        { kind: 'run.simulated', data: { playbook: ref, version: v.version, ...data } },
      );
    },
  };
}
