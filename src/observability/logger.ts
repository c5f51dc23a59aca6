/** Logger: pino with secrets redacted wherever they might appear. */
import pino, { type DestinationStream, type Logger } from 'pino';

export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.value',
  '*.privateKey',
  '*.signingKeyPem',
];

/**
 * @example
 * const logger = createLogger({ level: 'info' });
 */
export function createLogger(opts: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: 'warden' },
    },
    opts.destination,
  );
}
