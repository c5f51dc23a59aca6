/** `warden verify`: checks an evidence bundle offline; prints each check; exit 1 on any failure. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { WardenError } from '../../errors.js';
import { verifyBundleFile } from '../../ledger/verify-parallel.js';
import { ExitCode, type Io } from '../output.js';

export function verifyCommand(io: Io): Command {
  return new Command('verify')
    .description('verify an evidence bundle offline (signatures, digests, seq, chain, tenant)')
    .argument('<bundle>', 'bundle file written by warden export')
    .action(async (file: string) => {
      const text = readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'ENOENT' ? 'does not exist' : `cannot be read (${err.code ?? 'error'})`;
        throw new WardenError('invalid', `${file} ${why}.`, { cause: err });
      });
      // The worker threads start while the file is read and parsed.
      const report = await verifyBundleFile(text, {
        onProgress: (done, total) => io.err(`  checked ${done}/${total} receipts…`),
      }).catch((err: unknown) => {
        if ((err as { message?: string }).message === 'The bundle is not valid JSON.') {
          throw new WardenError('invalid', `${file} is not valid JSON.`, { cause: err });
        }
        throw err;
      });
      io.out(`Verifying ${file}`);
      for (const check of report.checks)
        io.out(`  ${check.ok ? '✓' : '✗'} ${check.name.padEnd(11)} ${check.detail}`);
      io.out(report.ok ? 'OK: every check passed.' : 'FAILED: the bundle does not verify.');
      if (!report.ok) throw new ExitCode(1);
    });
}
