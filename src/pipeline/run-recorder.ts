/**
 * Run-recorder: a run's or step's new state and its receipt, committed in one transaction. Writes of
 * concurrent runs of a tenant are group-committed: one transaction (one turn on the tenant's chain
 * head) carries many state changes with their receipts, instead of one transaction each.
 */
import type { Knex } from 'knex';
import type { Ledger } from '../ledger/ledger.js';
import type { JsonValue, ReceiptDraft } from '../ledger/receipt.js';
import { createGroupCommit } from '../storage/group-commit.js';
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

interface Change {
  apply(trx: Knex.Transaction): Promise<void>;
  draft: ReceiptDraft;
}

/** The engine's shared writer: state changes with their receipts, group-committed per tenant. */
export type RecordWriter = (tenant: string, change: Change) => Promise<void>;

export function createRecordWriter(deps: { knex: Knex; ledger: Ledger }): RecordWriter {
  const writer = createGroupCommit<Change, void>({
    commit: (tenant, changes) =>
      deps.knex.transaction(async (trx) => {
        for (const c of changes) await c.apply(trx);
        await deps.ledger.appendIn(
          trx,
          tenant,
          changes.map((c) => c.draft),
        );
        return changes.map(() => undefined);
      }),
    maxWeight: 200,
  });
  return (tenant, change) => writer.submit(tenant, change);
}

export function createRunRecorder(
  write: RecordWriter,
  tenant: string,
  runId: string,
  v: PlaybookVersion,
): RunRecorder {
  const ref = `${v.name}@${v.digest}`;
  const commit = (
    apply: (trx: Knex.Transaction) => Promise<void>,
    draft: Omit<ReceiptDraft, 'run'>,
  ) => write(tenant, { apply, draft: { ...draft, run: runId } });
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
