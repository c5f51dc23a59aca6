/** Run-step: invokes a plugin step's execute or rollback with its context and a time limit. */
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import type { JsonValue } from '../ledger/receipt.js';
import type { ChatMessenger } from '../sdk/index.js';
import { type StepCatalog, stepContext } from './step-context.js';

export interface StepRunner {
  execute(
    uses: string,
    input: unknown,
    key: string,
    log: Record<string, unknown>,
  ): Promise<JsonValue>;
  rollback(uses: string, input: unknown, output: JsonValue, key: string): Promise<void>;
}

export function createStepRunner(opts: {
  tenant: string;
  config: TenantConfig | undefined;
  catalog: StepCatalog;
  logger: Logger;
  timeoutMs: number;
  /** The run's chat (for plugins with the `chat` capability). */
  chat?: ChatMessenger | undefined;
}): StepRunner {
  const contextFor = (uses: string, key: string, log: Record<string, unknown>) => {
    const entry = opts.catalog.get(uses);
    if (!entry) throw new Error(`no plugin step named ${uses}`);
    const ctx = stepContext({
      tenant: opts.tenant,
      config: opts.config,
      entry,
      logger: opts.logger.child(log),
      signal: AbortSignal.timeout(opts.timeoutMs),
      idempotencyKey: key,
      chat: opts.chat,
    });
    return { entry, ctx };
  };
  return {
    async execute(uses, input, key, log) {
      const { entry, ctx } = contextFor(uses, key, log);
      return (await entry.step.execute(ctx, input)) as JsonValue;
    },
    async rollback(uses, input, output, key) {
      const { entry, ctx } = contextFor(uses, key, {});
      if (!entry.step.rollback) throw new Error(`${uses} cannot roll back`);
      await entry.step.rollback(ctx, input, output);
    },
  };
}
