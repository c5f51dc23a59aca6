/** boltLogger: Bolt's and the WebClient's logger interface over Warden's pino logger. */
import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';

const levels = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Bolt calls `logger.error(err)` and `logger.debug('http request body: …')` (its WebClient redacts
 * tokens there); each call becomes one pino line under `component: 'slack'`. Bolt's `setLevel` is
 * ignored: the level is Warden's `LOG_LEVEL`.
 * @example
 * new App({ logger: boltLogger(logger), … });
 */
export function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: 'slack' });
  const write =
    (level: (typeof levels)[number]) =>
    (...msg: unknown[]) => {
      const err = msg.find((m): m is Error => m instanceof Error);
      const text = msg
        .filter((m) => m !== err)
        .map((m) => (typeof m === 'string' ? m : safeJson(m)))
        .join(' ');
      if (err) log[level]({ err }, text || err.message);
      else log[level](text);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: () => {},
    getLevel: () => {
      const found = levels.find((l) => log.isLevelEnabled(l));
      return found ? LogLevel[found.toUpperCase() as Uppercase<typeof found>] : LogLevel.ERROR;
    },
    setName: () => {},
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
