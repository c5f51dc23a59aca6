import { describe, expect, it } from 'vitest';
import { toWardenError, WardenError } from './errors.js';

describe('WardenError', () => {
  it('maps its code to an HTTP status', () => {
    expect(new WardenError('not_found', 'x').status).toBe(404);
    expect(new WardenError('rate_limited', 'x').status).toBe(429);
  });

  it('normalises unknown throwables to internal without leaking their message', () => {
    const err = toWardenError(new Error('relation "receipts" does not exist'));
    expect(err.code).toBe('internal');
    expect(err.message).not.toContain('relation');
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('recognises a WardenError by code, not by instanceof', () => {
    const crossed = { name: 'WardenError', code: 'conflict', message: 'dup' };
    expect(toWardenError(crossed)).toBe(crossed);
  });
});
