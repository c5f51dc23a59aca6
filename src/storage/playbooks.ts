/** Playbook storage: immutable versions by digest and the current version of each playbook. */
import type { Knex } from 'knex';
import type { Playbook } from '../pipeline/playbook-schema.js';

export interface PlaybookVersion {
  id: string;
  tenant: string;
  name: string;
  version: number;
  digest: string;
  definition: Playbook;
  disabled: boolean;
}

interface VersionRow {
  id: string;
  tenant_id: string;
  name: string;
  version: number;
  digest: string;
  definition: Playbook;
  disabled?: boolean;
}

const toVersion = (r: VersionRow): PlaybookVersion => ({
  id: r.id,
  tenant: r.tenant_id,
  name: r.name,
  version: Number(r.version),
  digest: r.digest,
  definition: r.definition,
  disabled: r.disabled ?? false,
});

export async function findVersionByDigest(
  trx: Knex,
  tenant: string,
  name: string,
  digest: string,
): Promise<PlaybookVersion | undefined> {
  const row = await trx('playbook_versions').where({ tenant_id: tenant, name, digest }).first();
  return row ? toVersion(row) : undefined;
}

export async function nextVersionNumber(trx: Knex, tenant: string, name: string): Promise<number> {
  const row = await trx('playbook_versions')
    .where({ tenant_id: tenant, name })
    .max<{ max: number | string | null }>('version as max')
    .first();
  return Number(row?.max ?? 0) + 1;
}

export async function insertVersion(
  trx: Knex,
  v: Omit<PlaybookVersion, 'disabled'> & { sourceFile: string | null },
): Promise<void> {
  await trx('playbook_versions').insert({
    id: v.id,
    tenant_id: v.tenant,
    name: v.name,
    version: v.version,
    digest: v.digest,
    definition: JSON.stringify(v.definition),
    source_file: v.sourceFile,
  });
}

/** Points the playbook at a version; returns the version id it pointed at before, if any. */
export async function setCurrentVersion(
  trx: Knex,
  tenant: string,
  name: string,
  versionId: string,
): Promise<string | undefined> {
  const before = await trx('playbooks')
    .where({ tenant_id: tenant, name })
    .first('current_version_id');
  await trx('playbooks')
    .insert({ tenant_id: tenant, name, current_version_id: versionId })
    .onConflict(['tenant_id', 'name'])
    .merge({ current_version_id: versionId, updated_at: trx.fn.now() });
  return before?.current_version_id;
}

export async function removePlaybooksExcept(
  trx: Knex,
  tenant: string,
  keep: string[],
): Promise<string[]> {
  const gone: Array<{ name: string }> = await trx('playbooks')
    .where({ tenant_id: tenant })
    .whereNotIn('name', keep.length > 0 ? keep : [''])
    .select('name');
  if (gone.length > 0) {
    await trx('playbooks')
      .where({ tenant_id: tenant })
      .whereIn(
        'name',
        gone.map((g) => g.name),
      )
      .delete();
  }
  return gone.map((g) => g.name);
}

/** The current version of each of the tenant's playbooks. */
export async function currentVersions(knex: Knex, tenant: string): Promise<PlaybookVersion[]> {
  const rows = await knex('playbooks as p')
    .join('playbook_versions as v', 'v.id', 'p.current_version_id')
    .where('p.tenant_id', tenant)
    .orderBy('p.name')
    .select('v.*', 'p.disabled');
  return rows.map(toVersion);
}

export async function getVersion(
  knex: Knex,
  tenant: string,
  id: string,
): Promise<PlaybookVersion | undefined> {
  const row = await knex('playbook_versions').where({ tenant_id: tenant, id }).first();
  return row ? toVersion(row) : undefined;
}
