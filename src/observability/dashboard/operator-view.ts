/**
 * Operator view: every tenant's headline figures for the window and the global kill switch, whose
 * changes go through `setSwitch` (receipted in every tenant's chain) exactly as the API's do.
 */
import type { Knex } from 'knex';
import { setSwitch } from '../../guardrails/kill-switch.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { StepCatalog } from '../../pipeline/step-context.js';
import { formatDateTime, formatNumber, formatPercent } from '../../reports/format.js';
import { globalKillSwitch, tenantHeadlines } from './queries.js';
import type { TimeWindow } from './time-window.js';

/**
 * @example
 * const view = await operatorView(knex, timeWindow('24h', new Date()));
 */
export async function operatorView(knex: Knex, w: TimeWindow) {
  const [tenants, global] = await Promise.all([tenantHeadlines(knex, w), globalKillSwitch(knex)]);
  return {
    global: {
      engaged: global.engaged,
      state: global.engaged ? 'Engaged: every tenant’s steps are stopped' : 'Released',
      changed: global.updatedAt
        ? `${global.engaged ? 'Engaged' : 'Released'} by ${global.actor} ${formatDateTime(global.updatedAt)}${global.reason ? ` — ${global.reason}` : ''}`
        : 'Never engaged',
    },
    tenants: tenants.map((t) => ({
      ...t,
      runs: formatNumber(t.runs),
      succeeded: formatNumber(t.succeeded),
      failureRate: formatPercent(t.finished === 0 ? null : t.failed / t.finished),
      pending: formatNumber(t.pending),
      disabledPlaybooks: formatNumber(t.disabledPlaybooks),
    })),
  };
}

/** The global switch moved by the operator from the dashboard; false when it already was there. */
export async function moveGlobalSwitch(
  deps: { knex: Knex; ledger: Ledger },
  engaged: boolean,
  reason: string | undefined,
): Promise<boolean> {
  // The global switch names no playbook or plugin, so no catalog is consulted.
  const catalog: StepCatalog = new Map();
  const result = await setSwitch(
    { ...deps, catalog },
    { scope: 'global', tenant: null, target: '', engaged, actor: 'operator', reason },
  );
  return result.changed;
}
