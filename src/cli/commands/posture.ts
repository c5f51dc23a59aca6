/** `warden posture`: builds a tenant's Provable Posture Pack and evaluation kit into a folder. */
import { Command } from 'commander';
import { buildPosture } from '../../main.js';
import { withRuntime } from '../context.js';
import type { Io } from '../output.js';

export function postureCommand(io: Io): Command {
  return new Command('posture')
    .description('build the Provable Posture Pack and evaluation kit of a tenant into a folder')
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--out <dir>', 'folder to write the pack to (created if missing)')
    .option('--no-pdf', 'skip posture.pdf even when Chromium is available')
    .action(async (opts: { tenant: string; out: string; pdf: boolean }, cmd: Command) => {
      const result = await withRuntime(cmd, (rt) =>
        buildPosture(rt, opts.tenant, opts.out, { pdf: opts.pdf }),
      );
      const { manifest, receipt, claims } = result;
      io.out(
        `Wrote the posture pack of ${opts.tenant} to ${opts.out}: ${manifest.artifacts.length} artifact(s), MANIFEST.json signed by receipt ${receipt.payload.id} (seq ${receipt.payload.seq}).`,
      );
      for (const c of claims) io.out(`  ${c.evidenced ? '✓' : '·'} ${c.title}`);
      io.out(
        `Open ${opts.out}/index.html; re-check with: node evidence/verify-bundle.mjs evidence/bundle.json`,
      );
    });
}
