/** WardenError: the one error type, with a closed set of codes that map to HTTP statuses once. */

export const errorCodes = {
  bad_request: 400,
  invalid_json: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  /** A secure link past its expiry. */
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid: 422,
  rate_limited: 429,
  /** A destination (bucket, webhook, chat) did not take a delivery; `retryable` says if it may later. */
  delivery_failed: 502,
  not_ready: 503,
  storage_locked: 503,
  config_invalid: 500,
  internal: 500,
} as const;

export type WardenErrorCode = keyof typeof errorCodes;

export interface WardenErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** Extra, non-secret detail safe to show to the caller (e.g. a list of validation problems). */
  details?: unknown;
}

/**
 * @example
 * throw new WardenError('not_found', 'No receipt with id r_123 in this tenant.');
 */
export class WardenError extends Error {
  override readonly name = 'WardenError';
  readonly code: WardenErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: WardenErrorCode, message: string, options: WardenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  get status(): number {
    return errorCodes[this.code];
  }
}

export function isWardenError(value: unknown): value is WardenError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'WardenError' &&
    typeof (value as { code?: unknown }).code === 'string' &&
    (value as { code: string }).code in errorCodes
  );
}

/** Normalises anything thrown into a WardenError; unknown errors become `internal` and keep the cause. */
export function toWardenError(value: unknown): WardenError {
  if (isWardenError(value)) return value;
  return new WardenError('internal', 'An internal error occurred.', { cause: value });
}
