/** `warden simulate <playbook> --tenant <id> --event <file.json>`: a dry run, receipted. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { WardenError } from '../../errors.js';
import type { Decision } from '../../guardrails/decision.js';
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
          guard: rt.guard,
          initiator: 'cli',
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
        io.out(`     targets: ${s.targets.join(', ') || 'none'}; cost ${s.cost}`);
        io.out(`     decision: ${describeDecision(s.decision)}`);
      }
      if (result.denied) {
        io.out(
          `  ✗ ${result.denied.step} (${result.denied.uses}) denied: ${result.denied.reason}: ${result.denied.detail}`,
        );
      }
      if (result.outcome === 'needs_approval')
        io.out('  → a step needs approval: a real run would wait for an approver');
      if (result.outcome === 'would_be_denied') io.out('  ✗ a real run would be denied');
      io.out(`  receipt ${result.receipt}`);
      if (result.outcome === 'denied' || result.outcome === 'would_be_denied')
        throw new ExitCode(1);
    });
}

/** `allow`, or the outcome with its reasons; then each budget as used/limit. */
function describeDecision(d: Decision): string {
  const head = d.outcome === 'allow' ? 'allow' : `${d.outcome} (${d.reasons.join(', ')})`;
  const b = d.budgets ?? {};
  const budgets = (['actionsPerHour', 'blastRadius', 'costPerRun'] as const)
    .flatMap((k) => (b[k] ? [`${k} ${b[k].used}/${b[k].limit}`] : []))
    .concat(b.environment ? [`environment ${b.environment.value || '(none)'}`] : []);
  return budgets.length > 0 ? `${head}; budgets: ${budgets.join(', ')}` : head;
}
