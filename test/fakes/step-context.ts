/** A hand-built StepContext for plugin tests: fetch limited to 127.0.0.1 and a silent logger. */
import type { StepContext } from '../../src/sdk/index.js';

export type LogLine = { level: 'info' | 'warn'; message: string; fields?: Record<string, unknown> };

export type TestStepContext = StepContext & { logs: LogLine[]; abort: AbortController };

/**
 * A StepContext whose `http` refuses every host but 127.0.0.1 (like the tenant allow-list) and
 * whose logger records instead of printing.
 * @example
 * const ctx = testStepContext({ settings: { url: prom.url } });
 * ctx.abort.abort(); // aborts ctx.signal
 */
export function testStepContext(
  over: Partial<Pick<StepContext, 'settings' | 'secrets' | 'idempotencyKey' | 'tenant'>> = {},
): TestStepContext {
  const logs: LogLine[] = [];
  const abort = new AbortController();
  return {
    tenant: over.tenant ?? 'acme',
    settings: over.settings ?? {},
    secrets: over.secrets ?? {},
    idempotencyKey: over.idempotencyKey ?? 'acme:run-1:step-1',
    signal: abort.signal,
    abort,
    logs,
    logger: {
      info: (message, fields) => logs.push({ level: 'info', message, fields }),
      warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
    },
    http: async (url, init) => {
      const target = new URL(url);
      if (target.hostname !== '127.0.0.1') {
        throw new Error(`host ${target.hostname} is not allowed for this plugin`);
      }
      return fetch(target, init);
    },
  };
}
