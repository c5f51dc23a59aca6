/**
 * `warden demo`: the five-step demo against a running Warden (`npm start`, or `--url`), with the
 * demo target and its chat sink. When nothing answers at the default URL, it starts Warden in this
 * process from the config (the demo config on a fresh checkout) and keeps it serving afterwards so
 * the dashboard and the API can be explored, until Ctrl-C (`--exit` stops at once).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { runDemo } from '../../demo/demo.js';
import { ensureDemoTarget, ensureWarden, resetDemoTarget } from '../../demo/demo-setup.js';
import { demoTokens } from '../../demo/demo-workspace.js';
import { createWardenApi } from '../../demo/warden-api.js';
import { serve } from '../../main.js';
import { createLogger } from '../../observability/logger.js';
import { configOf } from '../context.js';
import { type Io, UsageError } from '../output.js';

function httpUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${what} is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${what} must be http:// or https://, not ${url.protocol}`);
  }
  return url.href.replace(/\/$/, '');
}

export function demoCommand(io: Io): Command {
  return new Command('demo')
    .description(
      'run the five-step demo (alerts, playbooks, budgets, approvals in chat, receipts and proofs, Trust Report, dashboard, posture pack) against a running Warden',
    )
    .option(
      '--url <url>',
      'the Warden to demo against (default: http://127.0.0.1:$PORT, else started here)',
    )
    .option('--target <url>', 'the demo target and chat sink', 'http://127.0.0.1:3101')
    .option(
      '--out <dir>',
      'where the evidence bundle and the posture pack are written',
      'warden-demo',
    )
    .option('--exit', 'stop a Warden this command started as soon as the demo ends')
    .action(
      async (opts: { url?: string; target: string; out: string; exit?: boolean }, cmd: Command) => {
        const targetUrl = httpUrl(opts.target, '--target');
        const outDir = resolve(opts.out);
        const defaultUrl = `http://127.0.0.1:${process.env.PORT ?? '3000'}`;
        const url = httpUrl(opts.url ?? defaultUrl, '--url');
        const warden = await ensureWarden(
          url,
          opts.url
            ? undefined
            : async () => {
                const config = configOf(cmd, { env: { ...process.env, HOST: '127.0.0.1' } });
                await mkdir(outDir, { recursive: true });
                const logFile = join(outDir, 'warden.log');
                io.out(
                  `No Warden answers at ${url}: starting one in this process (${config.databaseUrl ? 'PostgreSQL' : `embedded, data in ${config.dataDir}`}; its log: ${logFile}).`,
                );
                const destination = pino.destination({ dest: logFile, sync: true });
                return serve(config, { logger: createLogger({ level: 'info', destination }) });
              },
        );
        const target = await ensureDemoTarget(targetUrl);
        try {
          await resetDemoTarget(target.url);
          io.out(`Warden demo against ${warden.url} (tenant acme)`);
          io.out(
            `  demo target: ${target.url}${target.started ? ' (started in this process)' : ''}`,
          );
          io.out(
            `  chat:        ${target.url}/chat — the demo's Teams channel; the on-call's clicks come from this command`,
          );
          await runDemo({
            api: createWardenApi(warden.url, demoTokens),
            tokens: demoTokens,
            targetUrl: target.url,
            outDir,
            out: io.out,
          });
          if (warden.started && !opts.exit) {
            io.out('');
            io.out(
              `Warden keeps serving at ${warden.url} so you can look around; Ctrl-C stops it.`,
            );
            await new Promise<void>((done) => {
              process.once('SIGINT', done);
              process.once('SIGTERM', done);
            });
          }
        } finally {
          await warden.close();
          await target.close();
        }
      },
    );
}
