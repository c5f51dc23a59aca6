/** `warden export`: writes a tenant's evidence bundle to a file. */
import { readFile, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { WardenError } from '../../errors.js';
import { exportBundle } from '../../ledger/bundle.js';
import { parseDisclosurePolicy } from '../../ledger/disclosure.js';
import { getTenant } from '../../storage/tenants.js';
import { withRuntime } from '../context.js';
import type { Io } from '../output.js';

function parseInstant(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new InvalidArgumentError('expected an ISO 8601 date or time, e.g. 2026-11-01T00:00:00Z.');
  }
  return d;
}

export function exportCommand(io: Io): Command {
  return new Command('export')
    .description('export an evidence bundle of a tenant')
    .requiredOption('--tenant <id>', 'tenant to export')
    .option('--since <iso>', 'first receipt time (inclusive)', parseInstant)
    .option('--until <iso>', 'last receipt time (exclusive)', parseInstant)
    .requiredOption('--out <file>', 'where to write the bundle (JSON)')
    .option(
      '--since-checkpoint <note file>',
      'an older checkpoint you hold: the bundle adds the proof that the log only grew since',
    )
    .option(
      '--disclose <fields>',
      'private receipt fields the reader may see: comma-separated names (input,output,annotations,actor,comment), all, or none',
      'none',
    )
    .action(
      async (
        opts: {
          tenant: string;
          since?: Date;
          until?: Date;
          out: string;
          sinceCheckpoint?: string;
          disclose: string;
        },
        cmd: Command,
      ) => {
        const sinceCheckpoint =
          opts.sinceCheckpoint === undefined
            ? undefined
            : await readFile(opts.sinceCheckpoint, 'utf8').catch(() => {
                throw new WardenError('invalid', `${opts.sinceCheckpoint} cannot be read.`);
              });
        const bundle = await withRuntime(cmd, async (rt) => {
          if (!(await getTenant(rt.db.knex, opts.tenant))) {
            throw new WardenError('not_found', `Tenant ${opts.tenant} does not exist.`);
          }
          // Anchor what is pending first, so that every receipt comes with its inclusion proof.
          if (await rt.anchoring.enabled(opts.tenant)) await rt.anchoring.anchor(opts.tenant);
          return exportBundle(rt.db.knex, opts.tenant, {
            since: opts.since,
            until: opts.until,
            sinceCheckpoint,
            disclose: parseDisclosurePolicy(opts.disclose),
            onProgress: (n) => n % 50_000 === 0 && io.err(`  read ${n} receipts…`),
          });
        });
        await writeFile(opts.out, `${JSON.stringify(bundle, null, 2)}\n`);
        const first = bundle.receipts[0]?.payload.seq;
        const last = bundle.receipts.at(-1)?.payload.seq;
        const disclosed = bundle.disclosures.length;
        io.out(
          `Wrote ${bundle.receipts.length} receipt(s)${first ? ` (seq ${first}..${last})` : ''} of ${opts.tenant}${disclosed ? ` with ${disclosed} disclosed field(s)` : ''} to ${opts.out}. Check it with: warden verify ${opts.out}`,
        );
      },
    );
}
