/** slackCall: one Slack Web API call whose failure becomes a retryable WardenError, token-free. */
import { WardenError } from '../../errors.js';

/**
 * Runs one Web API call. A failure (a non-ok answer, an HTTP error, a network error) becomes
 * `WardenError('internal', 'Slack <method> failed: <code>.', { retryable: true })` naming only Slack's
 * error code; the client's error (which holds the request) is not kept as the cause.
 * @example
 * const res = await slackCall('chat.postMessage', () => client.chat.postMessage({ channel, text }));
 */
export async function slackCall<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new WardenError('internal', `Slack ${method} failed: ${slackErrorCode(err)}.`, {
      retryable: true,
    });
  }
}

/** Slack's error code (`channel_not_found`), an HTTP status, or a generic word — never the request. */
function slackErrorCode(err: unknown): string {
  const e = err as { data?: { error?: unknown }; statusCode?: unknown; code?: unknown } | null;
  if (typeof e?.data?.error === 'string') return e.data.error;
  if (typeof e?.statusCode === 'number') return `HTTP ${e.statusCode}`;
  if (typeof e?.code === 'string') return e.code;
  return 'request failed';
}
