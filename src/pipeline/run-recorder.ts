/**
 * Run-recorder: a run's or step's new state and its receipt, committed together. Writes of
 * concurrent runs of a tenant are group-committed: one statement (one turn on the tenant's chain
 * head) carries many state changes with their receipts — the step updates, the run statuses, the
 * claims and the receipts, as parts of the ledger's append (`appendWith`), autocommitted: one round
 * trip. A change that runs statements of its own (an approval ticket) goes in a transaction, whose
 * append comes last so the chain head is locked only while it commits.
 */
import type { Knex } from 'knex';
import type { Ledger } from '../ledger/ledger.js';
import { type JsonValue, newReceiptId, type ReceiptDraft } from '../ledger/receipt.js';
import { createGroupCommit } from '../storage/group-commit.js';
import type { PlaybookVersion } from '../storage/playbooks.js';
import type { ChainedChange } from '../storage/receipts.js';
import {
  chainedRunChanges,
  claimedOf,
  claimSteps,
  type RunUpdate,
  type StepFields,
  type StepUpdate,
  updateRunsAndSteps,
} from '../storage/run-changes.js';
import type { RunStatus } from '../storage/runs.js';

export type { StepFields } from '../storage/run-changes.js';

export interface RunRecorder {
  step(stepId: string, fields: StepFields, draft: Omit<ReceiptDraft, 'run'>): Promise<void>;
  /** The run's last step succeeded: its outcome and the run's end, in one commit. */
  lastStep(
    stepId: string,
    fields: StepFields,
    draft: Omit<ReceiptDraft, 'run'>,
  ): Promise<RunStatus>;
  finish(status: RunStatus, error?: string): Promise<RunStatus>;
  /**
   * Plans and the simulation receipt; the run moves to `running`. With `claim`, that step is
   * claimed in the same commit if it is still pending; resolves to whether it was.
   */
  simulated(
    plans: Array<{ step: string; fields: StepFields }>,
    data: Record<string, JsonValue>,
    /** Fields the receipt commits to privately (the plugins' summaries, which may quote inputs). */
    privateData?: Record<string, JsonValue>,
    claim?: string,
  ): Promise<boolean>;
  /**
   * The step waits for a human: its decision is stored, the run becomes `awaiting_approval`, and
   * `insert` stores the ticket with the `approval.requested` receipt's id — all in one commit.
   */
  awaitApproval(
    stepId: string,
    fields: StepFields,
    draft: Omit<ReceiptDraft, 'run'>,
    insert: (trx: Knex.Transaction, receiptId: string) => Promise<void>,
  ): Promise<RunStatus>;
  ref: string;
}

/** One state change of one run and the receipt that records it. */
export interface Change {
  steps: StepUpdate[];
  run?: RunUpdate;
  /** A step to claim (pending → running) in the same commit. */
  claim?: { run: string; step: string };
  draft: ReceiptDraft;
  /** A receipt appended right after `draft` (the run's end, with its last step's outcome). */
  end?: ReceiptDraft;
  /**
   * Runs in the same transaction, before the receipts are appended (the first step's claim, an
   * approval ticket), given the id the change's receipt will have.
   */
  also?: (trx: Knex.Transaction, receiptId: string) => Promise<void>;
}

/** Batches of one tenant's run changes under way at once, when more than a batch is waiting. */
const recordConcurrency = 4;

/**
 * The engine's shared writer: state changes with their receipts, group-committed per tenant;
 * resolves to whether the change's claim (if any) succeeded.
 */
export type RecordWriter = (tenant: string, change: Change) => Promise<boolean>;

export function createRecordWriter(deps: { knex: Knex; ledger: Ledger }): RecordWriter {
  const { knex, ledger } = deps;
  const claimsOf = (changes: Change[]) => changes.flatMap((c) => (c.claim ? [c.claim] : []));
  const answers = (changes: Change[], claimed: Set<string>) =>
    changes.map((c) => (c.claim ? claimed.has(`${c.claim.run}\u0000${c.claim.step}`) : false));
  const receiptsOf = (changes: Change[], drafts: ReceiptDraft[]) =>
    drafts.flatMap((d, i) => {
      const end = changes[i]?.end;
      return end ? [d, end] : [d];
    });

  /** The changes as parts of the append statement: one round trip, no transaction. */
  async function alone(tenant: string, changes: Change[], parts: ChainedChange[]) {
    const drafts = changes.map((c) => c.draft);
    // A run's changes come one at a time, but two batches of one run never share a statement.
    const touches = changes.flatMap((c) => [
      ...c.steps.map((u) => `run:${u.run}`),
      ...(c.run ? [`run:${c.run.run}`] : []),
      ...(c.claim ? [`run:${c.claim.run}`] : []),
    ]);
    const { returned } = await ledger.appendWith(tenant, receiptsOf(changes, drafts), parts, {
      touches,
    });
    return answers(changes, claimedOf(returned));
  }

  /** The changes in a transaction: when one runs its own statements (`also`), or a row repeats. */
  function inTransaction(tenant: string, changes: Change[]) {
    return knex.transaction(async (trx) => {
      await updateRunsAndSteps(
        trx,
        tenant,
        changes.flatMap((c) => c.steps),
        changes.flatMap((c) => (c.run ? [c.run] : [])),
      );
      const claimed = await claimSteps(trx, tenant, claimsOf(changes));
      const drafts = changes.map((c) => ({ ...c.draft, id: c.draft.id ?? newReceiptId() }));
      for (const [i, c] of changes.entries()) await c.also?.(trx, drafts[i]?.id as string);
      await ledger.appendIn(trx, tenant, receiptsOf(changes, drafts));
      return answers(changes, claimed);
    });
  }

  const writer = createGroupCommit<Change, boolean>({
    commit(tenant, changes) {
      const parts = changes.some((c) => c.also)
        ? undefined
        : chainedRunChanges(tenant, {
            steps: changes.flatMap((c) => c.steps),
            runs: changes.flatMap((c) => (c.run ? [c.run] : [])),
            claims: claimsOf(changes),
          });
      return parts ? alone(tenant, changes, parts) : inTransaction(tenant, changes);
    },
    maxWeight: 200,
    // Changes that arrive while a batch commits go in the next. The ledger seals a batch while the
    // statement in front of it commits, and writes those waiting for the tenant's turn together.
    concurrency: recordConcurrency,
  });
  return (tenant, change) => writer.submit(tenant, change);
}

export function createRunRecorder(
  write: RecordWriter,
  tenant: string,
  runId: string,
  v: PlaybookVersion,
  /** What started the run: its trigger, or the person or token who ran it by hand. */
  origin: { trigger: string | null; initiator: string | null } = { trigger: null, initiator: null },
): RunRecorder {
  const ref = `${v.name}@${v.digest}`;
  const commit = (change: Omit<Change, 'draft'>, draft: Omit<ReceiptDraft, 'run'>) =>
    write(tenant, { ...change, draft: { ...draft, run: runId } });
  const ended = (status: RunStatus, error?: string): Omit<ReceiptDraft, 'run'> => ({
    kind: 'run.finished',
    data: {
      playbook: ref,
      version: v.version,
      status,
      error: error ?? null,
      trigger: origin.trigger,
      initiator: origin.initiator,
    },
  });
  return {
    ref,
    async step(stepId, fields, draft) {
      await commit({ steps: [{ run: runId, step: stepId, fields }] }, draft);
    },
    async finish(status, error) {
      await commit(
        { steps: [], run: { run: runId, status, error: error ?? null } },
        ended(status, error),
      );
      return status;
    },
    async lastStep(stepId, fields, draft) {
      await write(tenant, {
        steps: [{ run: runId, step: stepId, fields }],
        run: { run: runId, status: 'succeeded', error: null },
        draft: { ...draft, run: runId },
        end: { ...ended('succeeded'), run: runId },
      });
      return 'succeeded';
    },
    async awaitApproval(stepId, fields, draft, insert) {
      await write(tenant, {
        steps: [{ run: runId, step: stepId, fields }],
        run: { run: runId, status: 'awaiting_approval', error: null },
        draft: { ...draft, run: runId },
        also: insert,
      });
      return 'awaiting_approval';
    },
    simulated(plans, data, privateData, claim) {
      return commit(
        {
          steps: plans.map((p) => ({ run: runId, step: p.step, fields: p.fields })),
          run: { run: runId, status: 'running', error: null },
          ...(claim === undefined ? {} : { claim: { run: runId, step: claim } }),
        },
        {
          kind: 'run.simulated',
          data: { playbook: ref, version: v.version, ...data },
          ...(privateData ? { private: privateData } : {}),
        },
      );
    },
  };
}
