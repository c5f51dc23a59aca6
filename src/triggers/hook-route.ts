/**
 * Hook-route: the path every webhook takes — JSON body within limits → authenticate → per-tenant
 * rate limit → schema → normalise → durable ingest → 202. Each source supplies only its schema, its
 * authentication and its normalisation. Unknown tenants and bad credentials get the same 401.
 */
import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { Knex } from 'knex';
import type { z } from 'zod';
import type { TenantConfig } from '../config.js';
import { isWardenError, WardenError } from '../errors.js';
import { bearerToken } from '../http/auth.js';
import { type JsonBodyLimits, readJsonBody } from '../http/json-body.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { JsonValue } from '../ledger/receipt.js';
import { authenticateToken, grants } from '../tenancy/api-token.js';
import type { Ingest } from './ingest.js';
import type { TriggerDraft, TriggerSource } from './trigger-event.js';

export interface HookDeps {
  knex: Knex;
  ingest: Ingest;
  /** Tenants declared in the config file (for their ingest secrets), by id. */
  tenants: ReadonlyMap<string, TenantConfig>;
  rateLimiter: (tenant: string) => RateLimiter;
  serverOnLoopback: boolean;
  limits?: JsonBodyLimits;
  now?: () => Date;
  /** Told why a delivery was refused (for the log; the caller only sees a generic 401). */
  onDenied?: (tenant: string, source: TriggerSource, reason: string) => void;
}

export interface HookRequest {
  tenant: string;
  tenantConfig: TenantConfig | undefined;
  request: Request;
  raw: Buffer;
  params: Record<string, string>;
  now: Date;
  /** The delivery id a signature scheme vouched for (Standard Webhooks' `webhook-id`). */
  verifiedId?: string;
}

export interface HookSource<T> {
  source: TriggerSource;
  /** Throws `unauthenticated` unless the request proves it comes from the tenant's sender. */
  authenticate(req: HookRequest, deps: HookDeps): Promise<void>;
  schema: z.ZodType<T>;
  normalise(body: T, req: HookRequest): { drafts: TriggerDraft[]; meta: Record<string, JsonValue> };
}

const tenantPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
const denied = () =>
  new WardenError('unauthenticated', 'Missing or invalid credentials for this hook.');

/** Accepts a bearer token of the path's tenant with `ingest` (or `admin`) scope. */
export async function authenticateBearer(req: HookRequest, deps: HookDeps): Promise<void> {
  const presented = bearerToken(req.request.headers.get('authorization') ?? undefined);
  if (!presented) throw denied();
  const principal = await authenticateToken(deps.knex, presented, {
    serverOnLoopback: deps.serverOnLoopback,
  }).catch((cause: unknown) => {
    throw new WardenError('not_ready', 'Storage is unavailable; retry the delivery.', {
      cause,
      retryable: true,
    });
  });
  if (!principal || principal.tenant !== req.tenant || !grants(principal.scope, 'ingest')) {
    throw denied();
  }
}

export { denied as hookDenied };

/** Mounts `POST <path>` for a source on `app`. The path has a `:tenant` parameter. */
export function mountHook<T>(app: Hono, path: string, deps: HookDeps, source: HookSource<T>): void {
  app.post(path, async (c: Context) => {
    const params = c.req.param() as Record<string, string>;
    const tenant = params.tenant ?? '';
    const now = deps.now?.() ?? new Date();
    const { raw, value } = await readJsonBody(c.req.raw, deps.limits);
    if (!tenantPattern.test(tenant)) throw denied();
    const req: HookRequest = {
      tenant,
      tenantConfig: deps.tenants.get(tenant),
      request: c.req.raw,
      raw,
      params,
      now,
    };
    try {
      await source.authenticate(req, deps);
    } catch (err) {
      // One answer for every failure, so it reveals neither which tenants nor which sources exist;
      // the reason (bad signature, stale timestamp…) goes to the log for the operator.
      if (!isWardenError(err) || err.code !== 'unauthenticated') throw err;
      deps.onDenied?.(tenant, source.source, err.message);
      throw denied();
    }
    const allowed = deps.rateLimiter(tenant).take(tenant);
    if (!allowed.ok) {
      throw new WardenError(
        'rate_limited',
        `Too many deliveries for tenant ${tenant}; retry later.`,
        {
          details: allowed.retryAfterSeconds,
        },
      );
    }
    const parsed = source.schema.safeParse(value);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
      throw new WardenError(
        'invalid',
        `Not a valid ${source.source} payload: ${problems.join('; ')}.`,
      );
    }
    const { drafts, meta } = source.normalise(parsed.data, req);
    const delivery = {
      bodyDigest: `sha256:${createHash('sha256').update(raw).digest('hex')}`,
      receivedAt: now,
      meta,
    };
    const accepted = await deps.ingest.accept(tenant, delivery, drafts);
    return c.json({ accepted }, 202);
  });
}
