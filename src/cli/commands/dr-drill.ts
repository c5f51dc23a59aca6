/** `warden dr-drill`: backs up, restores into a scratch database, verifies; prints RPO/RTO; exit 1 on failure. */
import { Command } from 'commander';
import { type DrillReport, runDrill } from '../../dr/drill.js';
import { withRuntime } from '../context.js';
import { ExitCode, type Io } from '../output.js';

export function drDrillCommand(io: Io): Command {
  return new Command('dr-drill')
    .description(
      'back up, restore into a scratch database, verify every tenant’s ledger; print RPO and RTO',
    )
    .option('--work-dir <dir>', 'where the backup and the restored copy are made (default: temp)')
    .action(async (opts: { workDir?: string }, cmd: Command) => {
      const report = await withRuntime(cmd, (rt) =>
        runDrill(
          { db: rt.db, ledger: rt.ledger, logger: rt.logger },
          { databaseUrl: rt.config.databaseUrl, workDir: opts.workDir },
        ),
      );
      for (const line of formatDrill(report)) io.out(line);
      if (!report.ok) throw new ExitCode(1);
    });
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The drill's figures and verdicts as printed lines. */
function formatDrill(r: DrillReport): string[] {
  const lines = [
    `DR drill on ${r.engine}`,
    `  backup   ${mb(r.backup.bytes)} in ${r.backup.seconds} s, ${r.backup.sha256}`,
    `  RPO      ${r.rpoSeconds === null ? 'n/a (no receipts)' : `${r.rpoSeconds} s`}  (age of the newest receipt in the backup)`,
    `  RTO      ${r.rtoSeconds} s  (restore ${r.restoreSeconds} s + verify ${r.verifySeconds} s)`,
  ];
  if (r.failure) lines.push(`  ✗ ${r.failure}`);
  for (const t of r.tenants) {
    lines.push(
      `  ${t.ok ? '✓' : '✗'} ${t.tenant.padEnd(16)} ${t.sourceReceipts} → ${t.restoredReceipts ?? '?'} receipts`,
    );
    for (const c of t.checks) if (!c.ok) lines.push(`      ✗ ${c.name}: ${c.detail}`);
  }
  lines.push(
    r.ok
      ? `OK: the backup restores and verifies; ${r.receipts.length} dr.drill receipt(s) recorded.`
      : `FAILED: the backup does not restore or verify; ${r.receipts.length} dr.drill receipt(s) recorded.`,
  );
  return lines;
}
