/** `warden posture`: builds a tenant's Provable Posture Pack and evaluation kit into a folder. */
import { Command } from 'commander';
import { buildPosturePack } from '../../posture/pack.js';
import type { PdfRenderer } from '../../reports/pdf.js';
import { withRuntime } from '../context.js';
import type { Io } from '../output.js';

/** The PDF renderer when Chromium is installed; otherwise the pack is HTML only, with a note. */
async function pdfRenderer(chromiumPath: string | undefined): Promise<PdfRenderer | undefined> {
  const { createPdfRenderer, findChromium } = await import('../../reports/pdf.js');
  try {
    findChromium(chromiumPath);
  } catch {
    return undefined;
  }
  return createPdfRenderer({ chromiumPath });
}

export function postureCommand(io: Io): Command {
  return new Command('posture')
    .description('build the Provable Posture Pack and evaluation kit of a tenant into a folder')
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--out <dir>', 'folder to write the pack to (created if missing)')
    .option('--no-pdf', 'skip posture.pdf even when Chromium is available')
    .action(async (opts: { tenant: string; out: string; pdf: boolean }, cmd: Command) => {
      const result = await withRuntime(cmd, async (rt) => {
        const pdf = opts.pdf ? await pdfRenderer(rt.config.chromiumPath) : undefined;
        try {
          return await buildPosturePack(
            {
              knex: rt.db.knex,
              ledger: rt.ledger,
              logger: rt.logger,
              anchoring: rt.anchoring,
              tenants: rt.config.tenants,
              ...(pdf ? { pdf } : {}),
            },
            { tenant: opts.tenant, outDir: opts.out },
          );
        } finally {
          await pdf?.close();
        }
      });
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
