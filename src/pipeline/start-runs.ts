/**
 * Start-runs: each new trigger starts one run per matching, enabled playbook (its current
 * version), queued with its steps pending. The tenant's current versions are read while ingest
 * reads its dedup keys; a batch's runs are then inserted in ingest's statement, with the triggers
 * and their receipts. The queue is told after commit. A trigger that matches a disabled playbook
 * starts nothing there, and says so in a `trigger.skipped` receipt (which ingest appends).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import type { ReceiptDraft } from '../ledger/receipt.js';
import { currentVersions, type PlaybookVersion } from '../storage/playbooks.js';
import { insertRuns, insertRunsChanges, type NewRun } from '../storage/runs.js';
import type { StartRuns } from '../triggers/ingest.js';
import { playbookMatches } from './match.js';
import { runContext } from './run-context.js';

/** PostgreSQL stores no U+0000 in jsonb: a parameter carrying one is refused (422), not a 500. */
function assertStorable(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) {
      throw new WardenError('invalid', `${path} contains U+0000 (NUL), which cannot be stored.`);
    }
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) assertStorable(v, `${path}[${i}]`);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      assertStorable(k, `${path}: a key`);
      assertStorable(v, `${path}.${k}`);
    }
  }
}

/** A new run of `version` (queued); throws WardenError `invalid` for parameters that cannot be stored. */
function newRun(
  version: PlaybookVersion,
  trigger: Parameters<typeof runContext>[0],
  params: Parameters<typeof runContext>[2],
  initiator: string,
): NewRun {
  assertStorable(params, 'params');
  return {
    id: randomUUID(),
    tenant: version.tenant,
    versionId: version.id,
    playbook: version.name,
    triggerId: trigger?.id ?? null,
    context: runContext(trigger, { name: version.name, version: version.version }, params),
    steps: version.definition.spec.steps.map((s) => ({ id: s.id, uses: s.uses })),
    initiator,
  };
}

/**
 * Creates a run of `version` (queued) and returns its id. Throws WardenError `invalid` for
 * parameters that cannot be stored.
 */
export async function createRun(
  trx: Knex,
  version: PlaybookVersion,
  trigger: Parameters<typeof runContext>[0],
  params: Parameters<typeof runContext>[2] = {},
  /** Who asked: `api:<token>`, `slack:<user>` …; a triggered run is the playbook's own. */
  initiator = `playbook:${version.name}`,
): Promise<string> {
  const run = newRun(version, trigger, params, initiator);
  await insertRuns(trx, [run]);
  return run.id;
}

/** The `startRuns` seam for ingest. */
export function createStartRuns(): StartRuns {
  return async (knex, tenant) => {
    const versions = await currentVersions(knex, tenant);
    return (triggers) => {
      const runs = new Map<string, string[]>();
      const receipts: ReceiptDraft[] = [];
      const created: NewRun[] = [];
      for (const trigger of triggers) {
        const ids: string[] = [];
        for (const version of versions) {
          if (!playbookMatches(version.definition, trigger)) continue;
          if (!version.disabled) {
            const run = newRun(version, trigger, {}, `playbook:${version.name}`);
            created.push(run);
            ids.push(run.id);
            continue;
          }
          receipts.push({
            kind: 'trigger.skipped',
            data: {
              trigger: trigger.id,
              playbook: `${version.name}@${version.digest}`,
              reason: 'playbook_disabled',
            },
          });
        }
        if (ids.length > 0) runs.set(trigger.id, ids);
      }
      return { runs, receipts, changes: insertRunsChanges(created) };
    };
  };
}
