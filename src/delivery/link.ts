/**
 * Secure links: `/r/<token>`, where token = `<link id>.<expiry, unix s>.<HMAC-SHA256>` under a key
 * only Warden holds. An altered token fails the HMAC (404, as if it never existed); an expired one
 * is 410 Gone; the link row ties it to one report of one tenant. Tokens are bearer credentials:
 * they are never logged or receipted, only their link id.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { getLink, insertLink, linkKey } from '../storage/reports.js';

export interface SecureLink {
  id: string;
  /** The path to serve, `/r/<token>`; put the public URL before it. */
  path: string;
  expiresAt: Date;
}

const mac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

/**
 * @example
 * const link = await mintLink(knex, { tenant: 'acme', reportId, ttlMs: 7 * 86_400_000 });
 * post(`${publicUrl}${link.path}`);
 */
export async function mintLink(
  knex: Knex,
  opts: { tenant: string; reportId: string; ttlMs: number; now?: Date },
): Promise<SecureLink> {
  const id = randomBytes(12).toString('base64url');
  const expiresAt = new Date((opts.now ?? new Date()).getTime() + opts.ttlMs);
  const exp = Math.floor(expiresAt.getTime() / 1000);
  await insertLink(knex, {
    id,
    tenant_id: opts.tenant,
    report_id: opts.reportId,
    expires_at: new Date(exp * 1000),
  });
  const signature = mac(await linkKey(knex), `${id}.${exp}`).toString('base64url');
  return { id, path: `/r/${id}.${exp}.${signature}`, expiresAt: new Date(exp * 1000) };
}

export type OpenedLink =
  | { status: 'ok'; link: { id: string; tenant: string; reportId: string; expiresAt: Date } }
  | { status: 'not_found' }
  | { status: 'expired'; link: { id: string; tenant: string; reportId: string } };

/** Checks a token: its HMAC first (constant time), then its expiry, then that the link exists. */
export async function openLink(knex: Knex, token: string, now = new Date()): Promise<OpenedLink> {
  const m = /^([A-Za-z0-9_-]{16})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { status: 'not_found' };
  const [, id, exp, sig] = m as unknown as [string, string, string, string];
  const expected = mac(await linkKey(knex), `${id}.${exp}`);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { status: 'not_found' };
  }
  const row = await getLink(knex, id);
  if (!row || Math.floor(row.expires_at.getTime() / 1000) !== Number(exp)) {
    return { status: 'not_found' };
  }
  const link = { id, tenant: row.tenant_id, reportId: row.report_id, expiresAt: row.expires_at };
  return now >= row.expires_at ? { status: 'expired', link } : { status: 'ok', link };
}
