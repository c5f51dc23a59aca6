/**
 * Playbook-versions: loads a tenant's playbook files into the database as immutable versions. A file
 * whose digest is new becomes version n+1 (receipted); a removed file retires its playbook. Replicas
 * syncing the same files take turns per tenant. The receipts are appended last, in one append, after
 * every playbook row is written: rows, then the chain head, as every other writer locks them (a
 * playbook's disable locks its row, then the head), so the two never wait for each other in a cycle.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Ledger } from '../ledger/ledger.js';
import type { ReceiptDraft } from '../ledger/receipt.js';
import {
  currentVersions,
  findVersionByDigest,
  insertVersion,
  nextVersionNumber,
  type PlaybookVersion,
  removePlaybooksExcept,
  setCurrentVersion,
} from '../storage/playbooks.js';
import type { LoadedPlaybook } from './playbook-files.js';

export async function syncPlaybookVersions(
  deps: { knex: Knex; ledger: Ledger },
  tenant: string,
  loaded: LoadedPlaybook[],
): Promise<PlaybookVersion[]> {
  await deps.knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`warden:playbook-sync:${tenant}`]);
    const drafts: ReceiptDraft[] = [];
    for (const { playbook, digest, file } of loaded) {
      const name = playbook.metadata.name;
      let version = await findVersionByDigest(trx, tenant, name, digest);
      if (!version) {
        version = {
          id: randomUUID(),
          tenant,
          name,
          version: await nextVersionNumber(trx, tenant, name),
          digest,
          definition: playbook,
          disabled: false,
        };
        await insertVersion(trx, { ...version, sourceFile: file });
      }
      const before = await setCurrentVersion(trx, tenant, name, version.id);
      if (before !== version.id) {
        drafts.push({
          kind: 'playbook.version',
          data: {
            playbook: name,
            version: version.version,
            digest,
            file,
            previous: before ?? null,
          },
        });
      }
    }
    const retired = await removePlaybooksExcept(
      trx,
      tenant,
      loaded.map((l) => l.playbook.metadata.name),
    );
    for (const name of retired) {
      drafts.push({ kind: 'playbook.version', data: { playbook: name, retired: true } });
    }
    if (drafts.length > 0) await deps.ledger.appendIn(trx, tenant, drafts);
  });
  return currentVersions(deps.knex, tenant);
}
