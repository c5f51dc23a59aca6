/** The `warden` command: parses arguments with commander and dispatches to one module per command. */
import { Command, CommanderError } from 'commander';
import { baselineCommand } from './commands/baseline.js';
import { demoCommand } from './commands/demo.js';
import { drDrillCommand } from './commands/dr-drill.js';
import { exportCommand } from './commands/export.js';
import { migrateCommand } from './commands/migrate.js';
import { playbookCommand } from './commands/playbook.js';
import { postureCommand } from './commands/posture.js';
import { purgeCommand } from './commands/purge.js';
import { reportCommand } from './commands/report.js';
import { serveCommand } from './commands/serve.js';
import { simulateCommand } from './commands/simulate.js';
import { tenantCommand } from './commands/tenant.js';
import { tokenCommand } from './commands/token.js';
import { verifyCommand } from './commands/verify.js';
import { type Io, processIo, reportFailure } from './output.js';

export function createProgram(io: Io): Command {
  const program = new Command('warden')
    .description('Autonomous operations that can be proven.')
    .option(
      '-c, --config <file>',
      'config file (default: $WARDEN_CONFIG, ./warden.yaml, examples/warden.yaml)',
    )
    .option(
      '-d, --data-dir <dir>',
      'data directory for the embedded database and keys (default: .warden)',
    )
    .showHelpAfterError();
  for (const make of [
    serveCommand,
    migrateCommand,
    tenantCommand,
    tokenCommand,
    playbookCommand,
    simulateCommand,
    exportCommand,
    verifyCommand,
    reportCommand,
    baselineCommand,
    purgeCommand,
    drDrillCommand,
    postureCommand,
    demoCommand,
  ]) {
    program.addCommand(make(io));
  }
  overrideExits(program, io);
  return program;
}

/** Usage errors anywhere in the tree throw (exit 2 from runCli) instead of exiting the process. */
function overrideExits(cmd: Command, io: Io): void {
  cmd.exitOverride().configureOutput({
    writeOut: (s) => io.out(s.trimEnd()),
    writeErr: (s) => io.err(s.trimEnd()),
  });
  for (const sub of cmd.commands) overrideExits(sub, io);
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  try {
    await createProgram(io).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.help') return 0;
      return 2;
    }
    return reportFailure(err, io);
  }
}

const isEntry = process.argv[1] && /warden(\.js)?$|cli[/\\]main\.(ts|js)$/.test(process.argv[1]);
if (isEntry) {
  const code = await runCli(process.argv.slice(2));
  if (code !== 0) process.exit(code);
}
