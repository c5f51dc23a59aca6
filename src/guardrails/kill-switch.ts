/**
 * Kill switches: global (the operator's), per tenant, per playbook, per plugin. The chain reads them
 * before every step, so engaging one mid-run stops the run's next step. Every change is a receipt —
 * the global switch's in every tenant's chain, since it stops every tenant.
 */
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { StepCatalog } from '../pipeline/step-context.js';
import { type KillScope, setKillSwitch } from '../storage/kill-switches.js';
import { currentVersions } from '../storage/playbooks.js';

export interface SwitchRequest {
  scope: KillScope;
  /** The tenant it applies to; null for `global`. */
  tenant: string | null;
  /** Playbook or plugin name; ignored for `tenant` and `global`. */
  target: string;
  engaged: boolean;
  actor: string;
  reason?: string | undefined;
}

export interface SwitchResult {
  scope: KillScope;
  target: string;
  engaged: boolean;
  /** False when the switch already was in that position (no receipt). */
  changed: boolean;
  receipts: string[];
}

/**
 * @example
 * await setSwitch({ knex, ledger, catalog }, { scope: 'playbook', tenant: 'acme', target: 'restart-ingest', engaged: true, actor: 'api:oncall' });
 */
export async function setSwitch(
  deps: { knex: Knex; ledger: Ledger; catalog: StepCatalog },
  req: SwitchRequest,
): Promise<SwitchResult> {
  const target = await targetOf(deps, req);
  return deps.knex.transaction(async (trx) => {
    const changed = await setKillSwitch(trx, {
      scope: req.scope,
      tenant: req.tenant,
      target,
      engaged: req.engaged,
      actor: req.actor,
      reason: req.reason ?? null,
    });
    if (!changed) return { scope: req.scope, target, engaged: req.engaged, changed, receipts: [] };
    const tenants = req.tenant
      ? [req.tenant]
      : ((await trx('tenants').orderBy('id').pluck('id')) as string[]);
    const receipts: string[] = [];
    for (const tenant of tenants) {
      const [r] = await deps.ledger.appendIn(trx, tenant, [
        {
          kind: 'kill_switch.changed',
          data: {
            scope: req.scope,
            target,
            engaged: req.engaged,
            actor: req.actor,
            reason: req.reason ?? null,
          },
        },
      ]);
      if (r) receipts.push(r.payload.id);
    }
    return { scope: req.scope, target, engaged: req.engaged, changed, receipts };
  });
}

/** The switch's target, checked: an existing playbook, a known plugin. */
async function targetOf(
  deps: { knex: Knex; catalog: StepCatalog },
  req: SwitchRequest,
): Promise<string> {
  if (req.scope === 'global') return '';
  if (!req.tenant) throw new WardenError('invalid', `A ${req.scope} kill switch needs a tenant.`);
  if (req.scope === 'tenant') return req.tenant;
  if (req.scope === 'plugin') {
    const plugins = new Set([...deps.catalog.keys()].map((k) => k.slice(0, k.indexOf('.'))));
    if (!plugins.has(req.target)) {
      throw new WardenError(
        'invalid',
        `No plugin named ${req.target}. Known: ${[...plugins].sort().join(', ')}.`,
      );
    }
    return req.target;
  }
  const names = (await currentVersions(deps.knex, req.tenant)).map((v) => v.name);
  if (!names.includes(req.target)) {
    throw new WardenError('not_found', `No playbook named ${req.target} in this tenant.`);
  }
  return req.target;
}
