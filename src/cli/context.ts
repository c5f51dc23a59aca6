/** CLI context: turns global options into a validated config and opens the runtime for a command. */
import type { Command } from 'commander';
import { type Config, type LoadConfigOptions, loadConfig } from '../config.js';
import { openRuntime, type Runtime } from '../main.js';
import { createLogger } from '../observability/logger.js';

export function configOf(cmd: Command, overrides: LoadConfigOptions = {}): Config {
  const g = cmd.optsWithGlobals<{ config?: string; dataDir?: string }>();
  return loadConfig({
    ...(g.config ? { configFile: g.config } : {}),
    ...(g.dataDir ? { dataDir: g.dataDir } : {}),
    ...overrides,
  });
}

/** Runs `fn` with an open runtime (logs go to stderr at warn), closing it afterwards. */
export async function withRuntime<T>(cmd: Command, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const config = configOf(cmd);
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    destination: process.stderr as never,
  });
  const rt = await openRuntime(config, { purpose: `warden ${cmd.name()}`, logger });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}
