/**
 * Delivery failures: one WardenError per failed attempt, `retryable` when trying again later can
 * help (network, timeout, 408, 429, 5xx) and not when the target is misconfigured (other 4xx).
 */
import { WardenError } from '../errors.js';

export interface FailureDetails {
  /** The target's `describe()`: never a secret. */
  target: string;
  /** The destination's HTTP status, when it answered. */
  status?: number;
  /** From a `Retry-After: <seconds>` answer, for the queue's back-off. */
  retryAfterSeconds?: number;
}

/**
 * A failure that is the target's fault or configuration: fixing config is the only cure.
 * @example
 * throw configFailure('webhook https://hooks.example.com/in', 'the URL answered 404 Not Found.');
 */
export function configFailure(target: string, problem: string, status?: number): WardenError {
  return new WardenError('config_invalid', `Delivery to ${target} failed: ${problem}`, {
    retryable: false,
    details: withStatus({ target }, status),
  });
}

/** A transient failure (down, timed out, overloaded): the same delivery may succeed later. */
export function transientFailure(
  target: string,
  problem: string,
  options: { status?: number; retryAfterSeconds?: number } = {},
): WardenError {
  const details: FailureDetails = withStatus({ target }, options.status);
  if (options.retryAfterSeconds !== undefined)
    details.retryAfterSeconds = options.retryAfterSeconds;
  const code = options.status === 429 ? 'rate_limited' : 'delivery_failed';
  return new WardenError(code, `Delivery to ${target} failed: ${problem} Retry later.`, {
    retryable: true,
    details,
  });
}

/**
 * Classifies an HTTP answer that is not a success. 408, 429 and 5xx are transient; 413 is too large;
 * 410 means the endpoint is gone for good; any other status means the target is misconfigured.
 */
export function statusFailure(
  target: string,
  status: number,
  reason: string,
  retryAfter?: string | null,
): WardenError {
  const answered = `it answered HTTP ${status}${reason ? ` (${reason})` : ''}.`;
  if (status === 408 || status === 429 || status >= 500) {
    const seconds = retryAfter && /^\d{1,7}$/.test(retryAfter) ? Number(retryAfter) : undefined;
    return transientFailure(target, answered, {
      status,
      ...(seconds === undefined ? {} : { retryAfterSeconds: seconds }),
    });
  }
  if (status === 413) {
    return new WardenError('payload_too_large', `Delivery to ${target} failed: ${answered}`, {
      retryable: false,
      details: { target, status },
    });
  }
  if (status === 410) {
    return configFailure(target, `${answered} The endpoint is gone; remove this target.`, status);
  }
  return configFailure(target, `${answered} Check the target's configuration.`, status);
}

/**
 * A failure before any answer: a timeout (`timedOutMs` set when the attempt's own timer fired), an
 * abort by the caller, or a network error (refused, reset, DNS).
 */
export function networkFailure(target: string, err: unknown, timedOutMs?: number): WardenError {
  if (timedOutMs !== undefined) {
    return transientFailure(target, `no answer within ${timedOutMs / 1000} s.`);
  }
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown } } | null;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return transientFailure(target, 'the attempt was aborted.');
  }
  const code = typeof e?.cause?.code === 'string' ? e.cause.code : e?.code;
  return transientFailure(
    target,
    `network error (${typeof code === 'string' ? code : 'unknown'}).`,
  );
}

function withStatus(details: FailureDetails, status: number | undefined): FailureDetails {
  return status === undefined ? details : { ...details, status };
}
