/**
 * Config-tenant: the schema of one tenant in warden.yaml — tokens, ingest secrets per source,
 * plugin settings and secrets — and how `env:NAME` secret references are resolved.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { createDeliveryTargetSchema } from './delivery/delivery.js';
import { duration } from './pipeline/duration.js';
import { retentionSchema } from './retention/policy.js';
import { Secret } from './secret.js';
import { validateCron } from './triggers/schedules.js';

const chatActor = z
  .string()
  .regex(/^(slack|teams|web):.+$/, 'expected slack:<user id>, teams:<AAD object id> or web:<name>');

/**
 * Where a tenant's runs are told and approved: its Slack workspace and channel, its Teams tenant
 * and conversation, the Teams groups approvers may be listed through, and who may steer playbooks
 * from chat (run, disable, enable, kill; everyone in the workspace may list, simulate and ask).
 */
const chatSchema = z.strictObject({
  slack: z
    .strictObject({
      teamId: z.string().regex(/^[TE][A-Z0-9]+$/, 'expected a Slack team id like T0ACME'),
      channel: z.string().regex(/^[CG][A-Z0-9]+$/, 'expected a Slack channel id like C0OPS'),
    })
    .optional(),
  teams: z
    .strictObject({
      tenantId: z.string().min(1).max(128),
      serviceUrl: z.url(),
      conversationId: z.string().min(1).max(512),
      /** `group:<name>` approver entries resolve through these lists of AAD object ids. */
      groups: z.record(z.string().max(128), z.array(z.string().max(128))).default({}),
    })
    .optional(),
  /** Chat identities allowed to run, disable, enable playbooks and engage the kill switch. */
  operators: z.array(chatActor).default([]),
});

export const tiers = ['free', 'pro', 'enterprise'] as const;
export type Tier = (typeof tiers)[number];
export const tokenScopes = ['ingest', 'read', 'admin'] as const;
export type TokenScope = (typeof tokenScopes)[number];

export interface ParseContext {
  env: Record<string, string | undefined>;
  baseDir: string;
}

/**
 * A secret written as `env:NAME` (read from the environment) or as a literal (warned about at load,
 * unless it is a loopback-only demo value).
 */
function resolveSecret(
  ctx: ParseContext,
  raw: string,
  check: z.core.$RefinementCtx,
  literalSource: 'literal' | 'demo' = 'literal',
  path: string[] = [],
): Secret {
  if (!raw.startsWith('env:')) return new Secret(raw, literalSource);
  const name = raw.slice(4);
  const value = ctx.env[name];
  if (value === undefined || value === '') {
    check.addIssue({
      code: 'custom',
      path,
      message: `environment variable ${name} is not set. Fix: export ${name}=<value> before starting Warden.`,
    });
    return new Secret('', raw);
  }
  return new Secret(value, raw);
}

/** `whsec_` + base64 of 24–64 bytes (the prefix is optional), as Standard Webhooks specifies. */
function isStandardWebhookSecret(s: Secret): boolean {
  const b64 = s.reveal().replace(/^whsec_/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return s.reveal() === ''; // '' = env var missing, reported already
  const bytes = Buffer.from(b64, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

/** A secret field: `env:NAME` or a literal (warned about). */
export function secret(ctx: ParseContext) {
  return z
    .string()
    .min(1)
    .transform((raw, check) => resolveSecret(ctx, raw, check));
}

/**
 * `file:<relative dir>` (no slash after the colon) names a bucket folder relative to the config
 * file's folder, like `playbooks`; it becomes the absolute `file:///…` URL the bucket target takes.
 */
function resolveRelativeBucket(ctx: ParseContext, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const { type, url } = value as { type?: unknown; url?: unknown };
  if (type !== 'bucket' || typeof url !== 'string' || !/^file:(?!\/)./.test(url)) return value;
  return { ...value, url: pathToFileURL(resolve(ctx.baseDir, url.slice('file:'.length))).href };
}

/** Where a Trust Report goes: a bucket or webhook (the delivery port), a secure link, or chat. */
function reportTargetSchema(ctx: ParseContext) {
  return z.preprocess(
    (value) => resolveRelativeBucket(ctx, value),
    z.union([
      createDeliveryTargetSchema(secret(ctx)),
      z.strictObject({ type: z.literal('link') }),
      z.strictObject({ type: z.literal('chat') }),
    ]),
  );
}

const reportDefaults = {
  audience: 'customer' as const,
  format: 'pdf' as const,
  schedule: '0 6 * * 1',
  deliver: [],
  linkTtl: 7 * 86_400_000,
};

/** The weekly Trust Report: on for Enterprise unless `enabled: false`. */
function reportsSchema(ctx: ParseContext) {
  return z.strictObject({
    enabled: z.boolean().optional(),
    /** `customer` shows no private fields; `auditor` shows approver identities. */
    audience: z.enum(['customer', 'auditor']).default(reportDefaults.audience),
    format: z.enum(['pdf', 'html']).default(reportDefaults.format),
    /** Cron, UTC: when last week's report is made. @defaultValue Mondays 06:00 */
    schedule: z
      .string()
      .max(100)
      .superRefine((expr, ctx) => {
        const problem = validateCron(expr, 'UTC');
        if (problem) ctx.addIssue({ code: 'custom', message: `not a cron schedule: ${problem}` });
      })
      .default(reportDefaults.schedule),
    deliver: z.array(reportTargetSchema(ctx)).max(10).default([]),
    /** Used when a delivery fails for good. */
    alternate: reportTargetSchema(ctx).optional(),
    /** How long a secure link works. @defaultValue 7d */
    linkTtl: duration.default(reportDefaults.linkTtl),
  });
}

/** Per-source ingest settings: signing secrets and the tenant's rate limit. */
function ingestSchema(ctx: ParseContext) {
  return z
    .looseObject({
      grafana: z
        .looseObject({
          secret: secret(ctx),
          /** Header carrying the unix timestamp Grafana prefixes to the signed body, if configured. */
          timestampHeader: z.string().min(1).optional(),
        })
        .optional(),
      pagerduty: z.looseObject({ secret: secret(ctx) }).optional(),
      events: z
        .record(
          z
            .string()
            .regex(
              /^[a-z0-9][a-z0-9._-]{0,62}$/,
              'not a valid source name. Fix: use lowercase letters, digits, ".", "_" and "-"',
            ),
          z.looseObject({
            secret: secret(ctx).refine(isStandardWebhookSecret, {
              message:
                'not a Standard Webhooks secret. Fix: use whsec_ followed by 24 to 64 random bytes in base64 (openssl rand -base64 32)',
            }),
          }),
        )
        .default({}),
      /** Deliveries per second per tenant (token bucket), across all hook sources. */
      rateLimit: z
        .object({
          perSecond: z.number().positive().default(200),
          burst: z.number().int().positive().default(400),
        })
        .default({ perSecond: 200, burst: 400 }),
    })
    .default({ events: {}, rateLimit: { perSecond: 200, burst: 400 } });
}

function relativePath(ctx: ParseContext) {
  return z
    .string()
    .min(1)
    .transform((p) => (isAbsolute(p) ? p : resolve(ctx.baseDir, p)));
}

export function tenantSchema(ctx: ParseContext) {
  const token = z
    .looseObject({
      name: z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9._-]{0,62}$/,
          'not a valid token name. Fix: use lowercase letters, digits, ".", "_" and "-" (at most 63)',
        ),
      scope: z.enum(tokenScopes),
      /** Demo tokens: accepted only while the server listens on loopback. */
      loopbackOnly: z.boolean().default(false),
      value: z.string().min(1),
    })
    // Per token, so a problem elsewhere in the tenant does not hide a missing variable.
    .transform((t, check) => {
      const value = resolveSecret(ctx, t.value, check, t.loopbackOnly ? 'demo' : 'literal', [
        'value',
      ]);
      const length = value.reveal().length;
      if (length > 0 && (length < 16 || length > 512)) {
        check.addIssue({
          code: 'custom',
          path: ['value'],
          message: `a token must have 16 to 512 characters, this one has ${length}. Fix: generate one with \`openssl rand -base64 32\`.`,
        });
      }
      return { ...t, value };
    });
  return z
    .looseObject({
      id: z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9-]{0,62}$/,
          'not a valid tenant id. Fix: use lowercase letters, digits and "-" (at most 63)',
        ),
      name: z.string().min(1).optional(),
      tier: z.enum(tiers).default('free'),
      playbooks: relativePath(ctx).optional(),
      policies: relativePath(ctx).optional(),
      tokens: z.array(token).default([]),
      ingest: ingestSchema(ctx),
      /** Per plugin: its settings (checked by the plugin), `allowedHosts`, and `secrets` by name. */
      plugins: z
        .record(
          z.string(),
          z.looseObject({
            allowedHosts: z.array(z.string().min(1).max(253)).default([]),
            secrets: z.record(z.string(), secret(ctx)).default({}),
          }),
        )
        .default({}),
      chat: chatSchema.default({ operators: [] }),
      anchoring: z
        .looseObject({
          enabled: z.boolean().optional(),
          /** Outside witnesses: each new checkpoint is pushed to each of these. */
          witness: z
            .array(createDeliveryTargetSchema(secret(ctx)))
            .max(5)
            .default([]),
        })
        .default({ witness: [] }),
      reports: reportsSchema(ctx).default(reportDefaults),
      /** How long content beside the receipts is kept (`warden purge`). */
      retention: retentionSchema,
    })
    .transform((tenant) => ({ ...tenant, name: tenant.name ?? tenant.id }));
}
