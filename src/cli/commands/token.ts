/** `warden token create`: prints a new API token once; only its hash is stored. */
import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { type TokenScope, tokenScopes } from '../../config.js';
import { createToken } from '../../tenancy/tenants.js';
import { withRuntime } from '../context.js';
import type { Io } from '../output.js';

export function tokenCommand(io: Io): Command {
  const token = new Command('token').description('manage API tokens');
  token
    .command('create')
    .description('create an API token for a tenant and print it (shown once)')
    .requiredOption('--tenant <id>', 'tenant the token belongs to')
    .addOption(
      new Option('--scope <scope>', 'what the token may do')
        .choices(tokenScopes)
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'a name to recognise it by (default: cli-<random>)')
    .action(async (opts: { tenant: string; scope: TokenScope; name?: string }, cmd: Command) => {
      const name = opts.name ?? `cli-${randomBytes(3).toString('hex')}`;
      const created = await withRuntime(cmd, (rt) =>
        createToken(
          { knex: rt.db.knex, ledger: rt.ledger },
          { tenant: opts.tenant, name, scope: opts.scope, source: 'cli' },
        ),
      );
      io.out(created.value);
      io.err(
        `Token ${name} (${created.id}, scope ${opts.scope}) for tenant ${opts.tenant}; receipt ${created.receipt.payload.id}. Store it now: it is not shown again.`,
      );
    });
  return token;
}
