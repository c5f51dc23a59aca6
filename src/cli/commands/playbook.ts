/**
 * `warden playbook validate <file>` and `warden playbook list`: playbook files, checked offline.
 * `warden playbook disable|enable <name> --tenant <id>`: switch a loaded playbook (receipted).
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { WardenError } from '../../errors.js';
import {
  disablePlaybook,
  enablePlaybook,
  maxReasonLength,
} from '../../guardrails/playbook-switch.js';
import { loadTenantPlaybooks, parsePlaybook } from '../../pipeline/playbook-files.js';
import { plugins } from '../../plugins/index.js';
import { validatePlugins } from '../../plugins/registry.js';
import { configOf, withRuntime } from '../context.js';
import { ExitCode, type Io, UsageError } from '../output.js';

/** Problems a playbook has beyond its schema: steps no plugin provides. */
function unknownSteps(
  steps: Array<{ id: string; uses: string; rollback?: { uses: string } }>,
): string[] {
  const catalog = validatePlugins(plugins);
  return steps.flatMap((s) =>
    [s.uses, s.rollback?.uses]
      .filter((u): u is string => u !== undefined && !catalog.has(u))
      .map(
        (u) =>
          `spec.steps.${s.id}: no plugin step named ${u}. Known: ${[...catalog.keys()].join(', ')}`,
      ),
  );
}

export function playbookCommand(io: Io): Command {
  const playbook = new Command('playbook').description('check and list playbooks');
  playbook
    .command('validate')
    .description('check playbook files against the schema and the installed plugins')
    .argument('<files...>', 'playbook YAML files')
    .action(async (files: string[]) => {
      let failed = false;
      for (const file of files) {
        const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new WardenError('invalid', `${file} cannot be read (${err.code ?? err.message}).`);
        });
        const result = parsePlaybook(text, file);
        const problems =
          'problems' in result
            ? result.problems
            : unknownSteps(result.playbook.spec.steps).map((p) => `${file}: ${p}`);
        if (problems.length === 0 && !('problems' in result)) {
          const p = result.playbook;
          io.out(
            `✓ ${file}: ${p.metadata.name}, ${p.spec.steps.length} step(s), ${result.digest.slice(0, 19)}…`,
          );
        } else {
          failed = true;
          io.out(`✗ ${file}`);
          for (const problem of problems) io.out(`    ${problem}`);
        }
      }
      if (failed) throw new ExitCode(1);
    });
  playbook
    .command('list')
    .description("list the playbooks in the config's tenant folders")
    .option('--tenant <id>', 'only this tenant')
    .action(async (opts: { tenant?: string }, cmd: Command) => {
      const config = configOf(cmd);
      const tenants = config.tenants.filter((t) => !opts.tenant || t.id === opts.tenant);
      if (opts.tenant && tenants.length === 0) {
        throw new WardenError('not_found', `Tenant ${opts.tenant} is not in the config file.`);
      }
      const byTenant = await loadTenantPlaybooks(tenants);
      if (byTenant.size === 0) io.out('No tenant in the config names a playbooks folder.');
      for (const [tenant, list] of byTenant) {
        io.out(`${tenant}:`);
        if (list.length === 0) io.out('  (no playbooks)');
        for (const { playbook, digest, file } of list) {
          const on = playbook.spec.on
            .map((o) =>
              'alert' in o
                ? `alert ${JSON.stringify(o.alert.match)}`
                : 'cron' in o
                  ? `cron "${o.cron}"`
                  : `event ${o.event.source}${o.event.type ? `/${o.event.type}` : ''}`,
            )
            .join('; ');
          io.out(
            `  ${playbook.metadata.name.padEnd(24)} ${digest.slice(7, 19)}  ${playbook.spec.steps.map((s) => s.uses).join(' → ')}`,
          );
          io.out(`  ${''.padEnd(24)} on ${on}  (${file})`);
        }
      }
    });
  for (const action of ['disable', 'enable'] as const) {
    playbook
      .command(action)
      .description(
        action === 'disable'
          ? 'disable a playbook of a tenant: it starts no runs until enabled (receipted)'
          : 'enable a disabled playbook; its breakers start clean (receipted)',
      )
      .argument('<name>', 'playbook name')
      .requiredOption('--tenant <id>', 'tenant the playbook belongs to')
      .option('--reason <text>', 'why (recorded in the receipt)')
      .action(async (name: string, opts: { tenant: string; reason?: string }, cmd: Command) => {
        const reason = opts.reason?.trim() || undefined;
        if (reason && reason.length > maxReasonLength) {
          throw new UsageError(`--reason is longer than ${maxReasonLength} characters.`);
        }
        const actor = 'cli';
        const result = await withRuntime(cmd, (rt) => {
          const deps = { knex: rt.db.knex, ledger: rt.ledger };
          return action === 'disable'
            ? disablePlaybook(deps, opts.tenant, name, {
                actor,
                reason: reason ?? 'Disabled from the CLI.',
              })
            : enablePlaybook(deps, opts.tenant, name, { actor, ...(reason ? { reason } : {}) });
        });
        io.out(
          result.changed
            ? `${action === 'disable' ? 'Disabled' : 'Enabled'} playbook ${name} of ${opts.tenant}; receipt ${result.receiptId}.`
            : `Playbook ${name} of ${opts.tenant} is already ${action}d; nothing changed.`,
        );
      });
  }
  return playbook;
}
