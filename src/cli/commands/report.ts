/**
 * `warden report`: makes a tenant's Trust Report for an ISO week (PDF, or HTML), writes it to a file,
 * and with `--deliver` hands it to the tenant's targets and waits for the first attempt of each.
 */
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { WardenError } from '../../errors.js';
import { isoWeekOf, isoWeekRange } from '../../reports/iso-week.js';
import { previousWeek } from '../../reports/report-schedule.js';
import { deliveriesOf } from '../../storage/reports.js';
import { withRuntime } from '../context.js';
import type { Io } from '../output.js';

function parseWeek(value: string): string {
  if (value === 'last') return previousWeek(new Date());
  if (value === 'this') return isoWeekOf(new Date());
  if (!isoWeekRange(value)) {
    throw new InvalidArgumentError('expected an ISO week such as 2026-W47 (or "last", "this").');
  }
  return value;
}

interface Options {
  tenant: string;
  week: string;
  format?: 'pdf' | 'html';
  out?: string;
  deliver?: boolean;
}

export function reportCommand(io: Io): Command {
  return new Command('report')
    .description("make a tenant's weekly Trust Report")
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--week <YYYY-Www>', 'ISO week, or "last" / "this"', parseWeek)
    .option('--format <pdf|html>', 'artifact format (default: the tenant’s reports.format, pdf)')
    .option('--out <file>', 'write the report here')
    .option('--deliver', 'deliver it to the tenant’s configured targets')
    .action(async (opts: Options, cmd: Command) => {
      if (opts.format !== undefined && opts.format !== 'pdf' && opts.format !== 'html') {
        throw new WardenError('invalid', '--format must be pdf or html.');
      }
      const done = await withRuntime(cmd, async (rt) => {
        const made = await rt.reporting.make({
          tenant: opts.tenant,
          week: opts.week,
          deliver: opts.deliver ?? false,
          ...(opts.format ? { format: opts.format } : {}),
        });
        if (!made) throw new WardenError('conflict', `The report of ${opts.week} exists already.`);
        if (opts.deliver) await rt.reporting.outbox.work();
        const deliveries = await deliveriesOf(rt.db.knex, opts.tenant, made.report.id);
        return { made, deliveries };
      });
      const { made, deliveries } = done;
      if (made.warning) io.err(made.warning);
      if (opts.out) await writeFile(opts.out, made.body);
      const r = made.report;
      io.out(
        `Made the ${r.format.toUpperCase()} Trust Report of ${opts.tenant} for ${r.week}: ${r.size} bytes, sha256 ${r.sha256} (receipt ${r.receipt_id})${opts.out ? `, written to ${opts.out}` : ''}.`,
      );
      for (const link of made.links) io.out(`  secure link (until ${link.expiresAt}): ${link.url}`);
      for (const d of deliveries) {
        const where = d.location ?? d.last_error ?? '';
        io.out(
          `  ${d.target}: ${d.status} after ${d.attempts} attempt(s)${where ? ` — ${where}` : ''}`,
        );
      }
      if (deliveries.some((d) => d.status === 'pending')) {
        io.out('  pending deliveries are retried by the running service (warden serve).');
      }
    });
}
