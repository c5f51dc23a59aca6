/** `warden serve`: runs the service until SIGTERM. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { runUntilSignal } from '../../main.js';
import { configOf } from '../context.js';
import type { Io } from '../output.js';

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a port 0-65535.');
  return n;
}

export function serveCommand(io: Io): Command {
  return new Command('serve')
    .description('run the service (HTTP ingress, API and workers)')
    .option('-p, --port <port>', 'port to listen on (default: $PORT or 3000)', parsePort)
    .addOption(
      new Option(
        '--role <role>',
        'ingress (HTTP + cron), worker (runs) or all (default: $WARDEN_ROLE or all)',
      ).choices(['all', 'ingress', 'worker']),
    )
    .action(async (opts: { port?: number; role?: string }, cmd: Command) => {
      const config = configOf(cmd, {
        ...(opts.port === undefined ? {} : { port: opts.port }),
        ...(opts.role === undefined ? {} : { role: opts.role }),
      });
      await runUntilSignal(config, io.out);
    });
}
