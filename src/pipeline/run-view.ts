/** Run-view: a run as the API shows it (CONTRACT.md): playbook version, status, trigger, steps, receipts. */
import type { Knex } from 'knex';
import type { JsonValue } from '../ledger/receipt.js';
import type { RunRow, StepRow } from '../storage/runs.js';

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

/**
 * The views of several runs of one tenant, in four queries whatever their number (steps, versions,
 * receipt ids, triggers), in the order given.
 */
export async function runViews(knex: Knex, tenant: string, runs: RunRow[]): Promise<RunView[]> {
  if (runs.length === 0) return [];
  const ids = runs.map((r) => r.id);
  const [steps, versions, receipts, triggers] = await Promise.all([
    knex('run_steps').where({ tenant_id: tenant }).whereIn('run_id', ids).orderBy('position'),
    knex('playbook_versions')
      .where({ tenant_id: tenant })
      .whereIn('id', [...new Set(runs.map((r) => r.playbook_version_id))])
      .select('id', 'version', 'digest'),
    knex('receipts')
      .where({ tenant_id: tenant })
      .whereIn('run_id', ids)
      .orderBy('seq')
      .select('id', 'run_id'),
    knex('triggers')
      .where({ tenant_id: tenant })
      .whereIn(
        'id',
        runs.flatMap((r) => (r.trigger_id ? [r.trigger_id] : [])),
      )
      .select('id', 'source'),
  ]);
  const group = <T extends { run_id: string }>(rows: T[]) => {
    const by = new Map<string, T[]>();
    for (const row of rows) by.set(row.run_id, [...(by.get(row.run_id) ?? []), row]);
    return by;
  };
  const stepsOf = group(steps as Array<StepRow & { run_id: string }>);
  const receiptsOf = group(receipts as Array<{ id: string; run_id: string }>);
  const versionOf = new Map(
    (versions as Array<{ id: string; version: number; digest: string }>).map((v) => [v.id, v]),
  );
  const triggerOf = new Map(
    (triggers as Array<{ id: string; source: string }>).map((t) => [t.id, t]),
  );
  return runs.map((run) => {
    const version = versionOf.get(run.playbook_version_id);
    return {
      id: run.id,
      playbook: {
        name: run.playbook_name,
        version: Number(version?.version ?? 0),
        digest: version?.digest ?? '',
      },
      status: run.status,
      trigger: (run.trigger_id && triggerOf.get(run.trigger_id)) || null,
      steps: (stepsOf.get(run.id) ?? []).map((s) => ({
        id: s.step_id,
        uses: s.uses,
        status: s.status,
        decision: (s.decision as RunView['steps'][number]['decision']) ?? null,
        plan: s.plan,
        error: s.error,
        durationMs: s.duration_ms,
      })),
      receipts: (receiptsOf.get(run.id) ?? []).map((r) => r.id),
      error: run.error,
      createdAt: iso(run.created_at) as string,
      updatedAt: iso(run.updated_at) as string,
      finishedAt: iso(run.finished_at),
    };
  });
}
