/**
 * Dashboard sessions: a stateless cookie, `v1.<payload>.<mac>`, HMAC-SHA256 under a key derived from
 * the deployment's link key (so no table is needed), and the CSRF tokens its forms carry.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

const sessionSchema = z.object({
  kind: z.enum(['tenant', 'operator']),
  /** The tenant every query is scoped by; null for the operator. */
  tenant: z.string().nullable(),
  scope: z.enum(['read', 'admin', 'operator']),
  tokenId: z.string().nullable(),
  tokenName: z.string(),
  /** Epoch milliseconds. */
  expires: z.number(),
  /** Random per sign-in; the session's CSRF token is derived from it. */
  nonce: z.string(),
  /** For the operator: a MAC of the operator token, so rotating WARDEN_ADMIN_TOKEN ends sessions. */
  operator: z.string().optional(),
});

export type Session = z.infer<typeof sessionSchema>;
export type Principal = Omit<Session, 'expires' | 'nonce'>;

const b64 = (buf: Buffer) => buf.toString('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface SessionCodec {
  /** A new session for a signed-in principal, valid for `ttlMs` from `now`. */
  start(principal: Principal, now: Date, ttlMs: number): Session;
  seal(session: Session): string;
  /** The session a cookie carries, if its MAC verifies and it has not expired. */
  open(cookie: string | undefined, now: Date): Session | undefined;
  /** The token every POST form of this session carries. */
  csrfToken(session: Session): string;
  checkCsrf(session: Session, presented: unknown): boolean;
  /** The sign-in form's token, bound to the pre-login cookie's nonce (login CSRF). */
  loginToken(nonce: string): string;
  checkLoginToken(nonce: string | undefined, presented: unknown): boolean;
  /** The fingerprint of an operator token stored in operator sessions. */
  operatorMark(token: string): string;
}

/**
 * @param linkKey the per-deployment secret (`linkKey(knex)`); a subkey is derived from it, so a
 * secure-link MAC never verifies as a session and the other way round.
 * @example
 * const codec = createSessionCodec(await linkKey(knex));
 * const cookie = codec.seal(codec.start(principal, new Date(), 8 * 3_600_000));
 */
export function createSessionCodec(linkKey: Buffer): SessionCodec {
  const key = createHmac('sha256', linkKey).update('warden/dashboard/session/v1').digest();
  const mac = (purpose: string, value: string) =>
    b64(createHmac('sha256', key).update(`${purpose}\n${value}`).digest());
  return {
    start: (principal, now, ttlMs) => ({
      ...principal,
      expires: now.getTime() + ttlMs,
      nonce: b64(randomBytes(32)),
    }),
    seal(session) {
      const payload = b64(Buffer.from(JSON.stringify(session)));
      return `v1.${payload}.${mac('session', payload)}`;
    },
    open(cookie, now) {
      const text = cookie ?? '';
      const [version, payload, tag, ...rest] = text.split('.');
      if (version !== 'v1' || !payload || !tag || rest.length > 0 || text.length > 4096) {
        return undefined;
      }
      if (!sameText(tag, mac('session', payload))) return undefined;
      try {
        const parsed = sessionSchema.safeParse(
          JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
        );
        if (!parsed.success || parsed.data.expires <= now.getTime()) return undefined;
        return parsed.data;
      } catch {
        return undefined;
      }
    },
    csrfToken: (session) => mac('csrf', session.nonce),
    checkCsrf: (session, presented) =>
      typeof presented === 'string' && sameText(presented, mac('csrf', session.nonce)),
    loginToken: (nonce) => mac('login', nonce),
    checkLoginToken: (nonce, presented) =>
      nonce !== undefined &&
      nonce.length > 0 &&
      typeof presented === 'string' &&
      sameText(presented, mac('login', nonce)),
    operatorMark: (token) => mac('operator', token),
  };
}

/** A random nonce for the pre-login cookie. */
export const loginNonce = (): string => b64(randomBytes(32));
