/** Kill-switch storage: one row per switch ever set; `engaged` is its current position. */
import type { Knex } from 'knex';

export type KillScope = 'global' | 'tenant' | 'playbook' | 'plugin';

export interface KillSwitch {
  scope: KillScope;
  /** null for the global switch. */
  tenant: string | null;
  /** The playbook or plugin name; the tenant id for `tenant`; '' for `global`. */
  target: string;
  engaged: boolean;
  actor: string;
  reason: string | null;
  updatedAt: string;
}

interface Row {
  scope: KillScope;
  tenant_id: string | null;
  target: string;
  engaged: boolean;
  actor: string;
  reason: string | null;
  updated_at: Date;
}

const toSwitch = (r: Row): KillSwitch => ({
  scope: r.scope,
  tenant: r.tenant_id,
  target: r.target,
  engaged: r.engaged,
  actor: r.actor,
  reason: r.reason,
  updatedAt: new Date(r.updated_at).toISOString(),
});

const idOf = (scope: KillScope, tenant: string | null, target: string) =>
  scope === 'global' ? 'global:' : `${scope}:${tenant}:${target}`;

/**
 * Moves a switch; returns whether its position changed (false when it already was there), so a
 * repeated request leaves no second receipt.
 */
export async function setKillSwitch(
  trx: Knex,
  s: {
    scope: KillScope;
    tenant: string | null;
    target: string;
    engaged: boolean;
    actor: string;
    reason: string | null;
  },
): Promise<boolean> {
  const { rows } = await trx.raw<{ rows: unknown[] }>(
    `insert into kill_switches (id, scope, tenant_id, target, engaged, actor, reason, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, now())
     on conflict (id) do update
       set engaged = excluded.engaged, actor = excluded.actor, reason = excluded.reason,
           updated_at = now()
       where kill_switches.engaged <> excluded.engaged
     returning id`,
    [idOf(s.scope, s.tenant, s.target), s.scope, s.tenant, s.target, s.engaged, s.actor, s.reason],
  );
  return rows.length === 1;
}

/**
 * What stops a step before anything else is asked, in one query: the engaged switches over it
 * (global, its tenant, its playbook, its plugin) and whether its playbook is disabled.
 */
export async function stepStops(
  knex: Knex,
  tenant: string,
  playbook: string,
  plugin: string,
): Promise<{ switches: KillScope[]; disabled: boolean }> {
  const ids = [
    idOf('global', null, ''),
    idOf('tenant', tenant, tenant),
    idOf('playbook', tenant, playbook),
    idOf('plugin', tenant, plugin),
  ];
  const { rows } = await knex.raw<{ rows: Array<{ scope: KillScope | null }> }>(
    `select scope from kill_switches where engaged and id in (?, ?, ?, ?)
     union all
     select null from playbooks where tenant_id = ? and name = ? and disabled`,
    [...ids, tenant, playbook],
  );
  const switches = rows.flatMap((r) => (r.scope === null ? [] : [r.scope]));
  return { switches, disabled: switches.length < rows.length };
}

/** The tenant's switches (and the global one), engaged or not, newest first. */
export async function listKillSwitches(knex: Knex, tenant: string): Promise<KillSwitch[]> {
  const rows: Row[] = await knex('kill_switches')
    .where((q) => q.where('tenant_id', tenant).orWhere('scope', 'global'))
    .orderBy('updated_at', 'desc')
    .select('scope', 'tenant_id', 'target', 'engaged', 'actor', 'reason', 'updated_at');
  return rows.map(toSwitch);
}
