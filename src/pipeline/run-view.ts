/** Run-view: a run as the API shows it (CONTRACT.md): playbook version, status, trigger, steps, receipts. */
import type { Knex } from 'knex';
import type { JsonValue } from '../ledger/receipt.js';
import { getVersion } from '../storage/playbooks.js';
import { getSteps, type RunRow, runReceiptIds } from '../storage/runs.js';

export interface RunView {
  id: string;
  playbook: { name: string; version: number; digest: string };
  status: string;
  trigger: { id: string; source: string } | null;
  steps: Array<{
    id: string;
    uses: string;
    status: string;
    decision: { outcome: string; reasons: string[] } | null;
    plan: JsonValue | null;
    error: string | null;
    durationMs: number | null;
  }>;
  receipts: string[];
  error: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export async function runView(knex: Knex, run: RunRow): Promise<RunView> {
  const [version, steps, receipts, trigger] = await Promise.all([
    getVersion(knex, run.tenant_id, run.playbook_version_id),
    getSteps(knex, run.tenant_id, run.id),
    runReceiptIds(knex, run.tenant_id, run.id),
    run.trigger_id
      ? knex('triggers')
          .where({ tenant_id: run.tenant_id, id: run.trigger_id })
          .first<{ id: string; source: string }>('id', 'source')
      : undefined,
  ]);
  return {
    id: run.id,
    playbook: {
      name: run.playbook_name,
      version: version?.version ?? 0,
      digest: version?.digest ?? '',
    },
    status: run.status,
    trigger: trigger ?? null,
    steps: steps.map((s) => ({
      id: s.step_id,
      uses: s.uses,
      status: s.status,
      decision: (s.decision as RunView['steps'][number]['decision']) ?? null,
      plan: s.plan,
      error: s.error,
      durationMs: s.duration_ms,
    })),
    receipts,
    error: run.error,
    createdAt: iso(run.created_at) as string,
    updatedAt: iso(run.updated_at) as string,
    finishedAt: iso(run.finished_at),
  };
}
