/** `warden purge`: applies a tenant's retention policy, or prints the id lists of a past purge. */
import { Command } from 'commander';
import { WardenError } from '../../errors.js';
import { type RetentionPolicy, retentionSchema } from '../../retention/policy.js';
import { type PurgeManifest, purge } from '../../retention/purge.js';
import { getPurgeManifest } from '../../storage/retention.js';
import { getTenant } from '../../storage/tenants.js';
import { withRuntime } from '../context.js';
import type { Io } from '../output.js';

export function purgeCommand(io: Io): Command {
  return new Command('purge')
    .description(
      "delete a tenant's content older than its retention policy, with a signed manifest",
    )
    .requiredOption('--tenant <id>', 'tenant to purge')
    .option('--dry-run', 'show what would be purged; delete nothing, append no receipt')
    .option('--manifest <receipt id>', 'print the stored id lists of a past purge (JSON)')
    .action(async (opts: { tenant: string; dryRun?: boolean; manifest?: string }, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        const knex = rt.db.knex;
        if (!(await getTenant(knex, opts.tenant))) {
          throw new WardenError('not_found', `Tenant ${opts.tenant} does not exist.`);
        }
        if (opts.manifest !== undefined) {
          const body = await getPurgeManifest(knex, opts.tenant, opts.manifest);
          if (body === undefined) {
            throw new WardenError(
              'not_found',
              `No purge manifest ${opts.manifest} in tenant ${opts.tenant}.`,
            );
          }
          io.out(JSON.stringify(body, null, 2));
          return;
        }
        const configured = rt.config.tenants.find((t) => t.id === opts.tenant);
        const policy: RetentionPolicy = configured?.retention ?? retentionSchema.parse(undefined);
        const result = await purge(
          { knex, ledger: rt.ledger },
          { tenant: opts.tenant, policy, dryRun: opts.dryRun === true },
        );
        for (const line of summaryLines(result.manifest)) io.out(line);
        io.out(
          result.receipt
            ? `Manifest receipt ${result.receipt.payload.id}; id lists: warden purge --tenant ${opts.tenant} --manifest ${result.receipt.payload.id}`
            : 'Dry run: nothing was deleted and no receipt was appended.',
        );
      });
    });
}

/** One line per category: what was (or would be) purged, older than which cutoff. */
export function summaryLines(manifest: PurgeManifest): string[] {
  return manifest.categories.map((c) => {
    const cutoff = manifest.cutoffs[c.name as keyof PurgeManifest['cutoffs']];
    const verb = manifest.dryRun ? 'would purge' : 'purged';
    return `${c.name}: ${verb} ${c.count} (older than ${cutoff}) ${c.idsDigest}`;
  });
}
