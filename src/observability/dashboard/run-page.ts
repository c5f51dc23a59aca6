/**
 * Run page: one run of the session's tenant — its steps with the guardrails' decisions, the people's
 * decisions on its approval tickets, and its receipts with their inclusion proof status.
 */
import type { Knex } from 'knex';
import { runViews } from '../../pipeline/run-view.js';
import { formatDateTime, formatNumber } from '../../reports/format.js';
import { listApprovals } from '../../storage/approvals.js';
import { getRunRow } from '../../storage/runs.js';
import { reasonLabel, statusLabel } from './labels.js';
import { type ProofStatus, proofStatuses } from './proofs.js';
import { runReceipts } from './queries.js';

const when = (iso: string | null) => (iso ? formatDateTime(iso) : '—');

function proofText(status: ProofStatus | undefined): { text: string; state: string } {
  if (!status || status.state === 'pending') return { text: 'Not yet anchored', state: 'pending' };
  if (status.state === 'invalid') {
    return {
      text: `Proof does not verify against checkpoint of size ${formatNumber(status.size)}`,
      state: 'invalid',
    };
  }
  return { text: `Proven in checkpoint of size ${status.size}`, state: 'proven' };
}

/**
 * The run page's view model; undefined when the tenant has no such run.
 * @example
 * const view = await runPageView(knex, 'acme', runId);
 */
export async function runPageView(knex: Knex, tenant: string, id: string) {
  const row = await getRunRow(knex, tenant, id);
  if (!row) return undefined;
  const [[run], tickets, receipts] = await Promise.all([
    runViews(knex, tenant, [row]),
    listApprovals(knex, tenant, { runId: id, limit: 50 }),
    runReceipts(knex, tenant, id),
  ]);
  if (!run) return undefined;
  const proofs = await proofStatuses(knex, tenant, receipts);
  return {
    id: run.id,
    playbook: `${run.playbook.name} v${run.playbook.version}`,
    digest: run.playbook.digest,
    status: run.status,
    statusLabel: statusLabel(run.status),
    trigger: run.trigger ? `${run.trigger.source} (${run.trigger.id})` : 'Started by hand',
    initiator: row.initiator ?? '—',
    error: run.error,
    created: when(run.createdAt),
    finished: when(run.finishedAt),
    steps: run.steps.map((s) => ({
      id: s.id,
      uses: s.uses,
      status: s.status,
      statusLabel: statusLabel(s.status),
      decision: s.decision ? statusLabel(s.decision.outcome) : '—',
      reasons: (s.decision?.reasons ?? []).map(reasonLabel).join(', ') || '—',
      duration: s.durationMs === null ? '—' : `${formatNumber(s.durationMs)} ms`,
      error: s.error ?? '',
    })),
    tickets: tickets.map((t) => ({
      id: t.id,
      step: t.stepId,
      status: t.status,
      statusLabel: statusLabel(t.status),
      reasons: t.reasons.map(reasonLabel).join(', ') || '—',
      votes:
        t.votes
          .map((v) => `${v.actor} ${v.decision === 'approve' ? 'approved' : 'rejected'}`)
          .join(', ') || 'No decision yet',
      progress: `${t.votes.filter((v) => v.decision === 'approve').length} of ${t.minApprovals}`,
    })),
    receipts: receipts.map((r) => ({
      seq: r.seq,
      id: r.id,
      kind: r.kind,
      at: formatDateTime(r.at),
      proof: proofText(proofs.get(r.seq)),
    })),
    receiptsCapped: receipts.length >= 200,
  };
}
