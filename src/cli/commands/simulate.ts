/** `warden simulate <playbook> --tenant <id> --event <file.json>`: a dry run, receipted. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { WardenError } from '../../errors.js';
import { dryRun, type ExampleEvent } from '../../pipeline/dry-run.js';
import { currentVersions } from '../../storage/playbooks.js';
import { withRuntime } from '../context.js';
import { ExitCode, type Io } from '../output.js';

export function simulateCommand(io: Io): Command {
  return new Command('simulate')
    .description('dry-run a playbook against an example event: plan, decisions, no side effects')
    .argument('<playbook>', 'playbook name')
    .requiredOption('--tenant <id>', 'tenant the playbook belongs to')
    .requiredOption(
      '--event <file>',
      'JSON: {"alert":{"labels":{…}}} or {"event":{"source":…,"type":…,"data":…}}, optional "params"',
    )
    .action(async (name: string, opts: { tenant: string; event: string }, cmd: Command) => {
      let example: ExampleEvent;
      try {
        example = JSON.parse(await readFile(opts.event, 'utf8')) as ExampleEvent;
      } catch (err) {
        throw new WardenError('invalid', `${opts.event} is not a readable JSON file.`, {
          cause: err,
        });
      }
      const result = await withRuntime(cmd, async (rt) => {
        const version = (await currentVersions(rt.db.knex, opts.tenant)).find(
          (v) => v.name === name,
        );
        if (!version)
          throw new WardenError(
            'not_found',
            `Tenant ${opts.tenant} has no playbook named ${name}.`,
          );
        return dryRun({
          version,
          example,
          catalog: rt.catalog,
          config: rt.config.tenants.find((t) => t.id === opts.tenant),
          ledger: rt.ledger,
          logger: rt.logger,
        });
      });
      const { playbook } = result;
      io.out(
        `Simulation of ${playbook.name} v${playbook.version} (${playbook.digest.slice(0, 19)}…) for ${opts.tenant}`,
      );
      if (result.wouldTrigger !== null)
        io.out(`  trigger: ${result.wouldTrigger ? 'matches' : 'would NOT start this playbook'}`);
      for (const [i, s] of result.steps.entries()) {
        io.out(
          `  ${i + 1}. ${s.step} (${s.uses}, risk ${s.risk}${s.reversible ? ', reversible' : ''}): ${s.summary}`,
        );
        io.out(`     targets: ${s.targets.join(', ') || 'none'}; cost ${s.cost}; decision: allow`);
      }
      if (result.denied) {
        io.out(
          `  ✗ ${result.denied.step} (${result.denied.uses}) denied: ${result.denied.reason}: ${result.denied.detail}`,
        );
      }
      io.out(`  receipt ${result.receipt}`);
      if (result.outcome === 'denied') throw new ExitCode(1);
    });
}
