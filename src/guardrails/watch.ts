/**
 * Watch: the breakers at work. Before a triggered run acts, a re-fired alert (firing again within
 * `refireWithin` of a run that "mitigated" it) disables the playbook and cancels the run; after
 * every run, the outcome breakers (consecutive failures, failure rate, denial spike) may disable
 * it. A trip is a `playbook.disabled` receipt with the window's figures, and an internal alert: an
 * error log line carrying `alert: "WardenPlaybookAutoDisabled"`, and `onTrip` for metrics.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/ledger.js';
import type { RunWatch } from '../pipeline/engine.js';
import { type BreakerTrip, checkBreakers, checkRefire } from './breakers.js';
import { disablePlaybook } from './playbook-switch.js';

export interface WatchDeps {
  knex: Knex;
  ledger: Ledger;
  logger: Logger;
  onTrip?: (tenant: string, playbook: string, trip: BreakerTrip) => void;
}

interface AlertContext {
  alert?: { status?: string; fingerprint?: string | null };
}

export function createRunWatch(deps: WatchDeps): RunWatch {
  async function trip(tenant: string, playbook: string, t: BreakerTrip): Promise<void> {
    const result = await disablePlaybook(deps, tenant, playbook, {
      actor: 'breaker',
      reason: t.reason,
      trip: t,
    });
    if (!result.changed) return; // already disabled (another worker tripped it first)
    deps.onTrip?.(tenant, playbook, t);
    deps.logger.error(
      {
        alert: 'WardenPlaybookAutoDisabled',
        tenant,
        playbook,
        rule: t.rule,
        figures: t.figures,
        receipt: result.receiptId,
      },
      `breaker ${t.rule} tripped: playbook ${playbook} disabled (${t.reason})`,
    );
  }

  return {
    async starting({ tenant, version, context }) {
      const within = version.definition.spec.autoDisable.refireWithin;
      const alert = (context as AlertContext | null)?.alert;
      if (within === undefined || alert?.status !== 'firing') return undefined;
      const t = await checkRefire(
        deps.knex,
        tenant,
        version.name,
        within,
        alert.fingerprint ?? null,
      );
      if (!t) return undefined;
      await trip(tenant, version.name, t);
      return `breaker refire: ${t.reason}; playbook ${version.name} disabled`;
    },
    async settled({ tenant, version }) {
      const rules = version.definition.spec.autoDisable;
      if (!rules.consecutiveFailures && !rules.failureRate && !rules.denials) return;
      const t = await checkBreakers(deps.knex, tenant, version.name, rules);
      if (t) await trip(tenant, version.name, t);
    },
  };
}
