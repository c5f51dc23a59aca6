/**
 * Playbook state: whether a playbook is disabled, why and since when, and when it was last enabled.
 * Switching is a conditional update (`where disabled = false` / `= true`): of two concurrent
 * switches one changes the row and the other finds nothing to change.
 */
import type { Knex } from 'knex';

/** The version a switched playbook pointed at (for its receipt). */
export interface SwitchedVersion {
  version: number;
  digest: string;
}

interface PlaybookState {
  disabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  enabledAt: Date | null;
}

async function switchTo(
  trx: Knex,
  tenant: string,
  name: string,
  disabled: boolean,
  sets: string,
  bindings: Knex.RawBinding[],
): Promise<SwitchedVersion | undefined> {
  const { rows } = await trx.raw(
    `update playbooks p set disabled = ?, ${sets}, updated_at = now()
     from playbook_versions v
     where p.tenant_id = ? and p.name = ? and p.disabled = ?
       and v.tenant_id = p.tenant_id and v.id = p.current_version_id
     returning v.version, v.digest`,
    [disabled, ...bindings, tenant, name, !disabled],
  );
  const row = rows[0] as { version: number; digest: string } | undefined;
  return row ? { version: Number(row.version), digest: row.digest } : undefined;
}

/** Disables an enabled playbook; undefined if it is unknown or already disabled. */
export function markDisabled(
  trx: Knex,
  tenant: string,
  name: string,
  reason: string,
): Promise<SwitchedVersion | undefined> {
  return switchTo(trx, tenant, name, true, 'disabled_reason = ?, disabled_at = now()', [reason]);
}

/** Enables a disabled playbook (breakers count runs from now on); undefined if unknown or enabled. */
export function markEnabled(
  trx: Knex,
  tenant: string,
  name: string,
): Promise<SwitchedVersion | undefined> {
  return switchTo(
    trx,
    tenant,
    name,
    false,
    'disabled_reason = null, disabled_at = null, enabled_at = now()',
    [],
  );
}

export async function playbookExists(knex: Knex, tenant: string, name: string): Promise<boolean> {
  return (await knex('playbooks').where({ tenant_id: tenant, name }).first('name')) !== undefined;
}

/** The state of each of the tenant's playbooks, by name. */
export async function playbookStates(
  knex: Knex,
  tenant: string,
): Promise<Map<string, PlaybookState>> {
  const rows: Array<{
    name: string;
    disabled: boolean;
    disabled_reason: string | null;
    disabled_at: Date | null;
    enabled_at: Date | null;
  }> = await knex('playbooks')
    .where({ tenant_id: tenant })
    .select('name', 'disabled', 'disabled_reason', 'disabled_at', 'enabled_at');
  return new Map(
    rows.map((r) => [
      r.name,
      {
        disabled: r.disabled,
        disabledReason: r.disabled_reason,
        disabledAt: r.disabled_at,
        enabledAt: r.enabled_at,
      },
    ]),
  );
}
