/** `warden tenant create`: creates a tenant (receipted). */
import { Command, Option } from 'commander';
import { type Tier, tiers } from '../../config.js';
import { createTenant } from '../../tenancy/tenants.js';
import { withRuntime } from '../context.js';
import type { Io } from '../output.js';
import { UsageError } from '../output.js';

export function tenantCommand(io: Io): Command {
  const tenant = new Command('tenant').description('manage tenants');
  tenant
    .command('create')
    .description('create a tenant')
    .argument('<id>', 'tenant id: lowercase letters, digits and -')
    .addOption(new Option('--tier <tier>', 'tier').choices(tiers).default('free'))
    .option('--name <name>', 'display name (default: the id)')
    .action(async (id: string, opts: { tier: Tier; name?: string }, cmd: Command) => {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) {
        throw new UsageError(`tenant id "${id}" is invalid: use lowercase letters, digits and -.`);
      }
      const receipt = await withRuntime(cmd, (rt) =>
        createTenant(
          { knex: rt.db.knex, ledger: rt.ledger },
          { id, tier: opts.tier, ...(opts.name ? { name: opts.name } : {}) },
          'cli',
        ),
      );
      io.out(`Created tenant ${id} (${opts.tier}); receipt ${receipt.payload.id}.`);
    });
  return tenant;
}
