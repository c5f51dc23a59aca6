/**
 * Deliverable: the checks every adapter runs on a Delivery before sending it — safe id, tenant and
 * file name, header-safe metadata, and a body whose SHA-256 matches the one announced.
 */
import { createHash } from 'node:crypto';
import { WardenError } from '../errors.js';
import type { Delivery } from './delivery.js';

/** Printable ASCII without spaces: it travels as the `webhook-id` header and in S3 metadata. */
const idPattern = /^[\x21-\x7e]{1,256}$/;
const tenantPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Becomes the webhook event type (`<kind>.delivered`) and S3 metadata. */
const kindPattern = /^[a-z][a-z0-9_-]{0,62}$/;
/** A plain file name: no separators, no `..`, no leading dot (temp files and sidecars use those). */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const metadataKey = /^[a-z0-9][a-z0-9-]{0,63}$/;
const metadataValue = /^[\x20-\x7e]{0,1024}$/;
const sha256Hex = /^[0-9a-f]{64}$/;

/** Hex SHA-256 of `bytes`. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Throws `invalid` (not retryable) when the delivery cannot be sent safely anywhere.
 * @example
 * assertDeliverable(d); // before touching the network or the disk
 */
export function assertDeliverable(d: Delivery): void {
  const problems: string[] = [];
  if (!idPattern.test(d.id)) problems.push('id must be 1–256 printable ASCII characters');
  if (!tenantPattern.test(d.tenant)) problems.push(`tenant "${d.tenant}" is not a tenant id`);
  if (!kindPattern.test(d.kind)) problems.push(`kind "${d.kind}" must be a lowercase word`);
  if (!namePattern.test(d.name) || d.name.includes('..')) {
    problems.push(
      `name "${d.name}" must be a plain file name (letters, digits, ".", "_", "-"; no "/" or "..")`,
    );
  }
  for (const [key, value] of Object.entries(d.metadata ?? {})) {
    if (!metadataKey.test(key) || !metadataValue.test(value)) {
      problems.push(`metadata "${key}" must be lowercase key with a printable ASCII value`);
    }
  }
  if (!sha256Hex.test(d.sha256)) problems.push('sha256 must be 64 lowercase hex digits');
  else if (sha256Of(d.body) !== d.sha256) problems.push('sha256 does not match the body');
  if (problems.length > 0) {
    throw new WardenError('invalid', `Delivery ${d.name} cannot be sent: ${problems.join('; ')}.`, {
      details: problems,
    });
  }
}
