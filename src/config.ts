/**
 * Configuration: the only reader of `process.env`. Parses `warden.yaml` (or `WARDEN_CONFIG`) and the
 * environment with zod, resolves `env:NAME` secret references, lists every problem with a fix, and
 * returns a deep-frozen result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { displayPath, duplicateIssues, formatIssues, sharedTokenIssues } from './config-issues.js';
import { type ParseContext, tenantSchema } from './config-tenant.js';
import { WardenError } from './errors.js';
import { Secret } from './secret.js';

export { type Tier, type TokenScope, tiers, tokenScopes } from './config-tenant.js';

/** The folder holding package.json, from the sources (src/) or the build (dist/src/). */
function findPackageRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
  }
  return from;
}

export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
/** The config used when neither `WARDEN_CONFIG` nor `./warden.yaml` exists. */
export const exampleConfigPath = resolve(packageRoot, 'examples/warden.yaml');

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function rootSchema(ctx: ParseContext) {
  const port = z.coerce.number().int().min(0).max(65535);
  return z.object({
    file: z.looseObject({ tenants: z.array(tenantSchema(ctx)).default([]) }),
    env: z.object({
      PORT: port.default(3000),
      HOST: z.string().min(1).default('127.0.0.1'),
      DATABASE_URL: z
        .url({
          protocol: /^postgres(ql)?$/,
          error:
            'expected a PostgreSQL URL. Fix: set DATABASE_URL=postgres://user:password@host:5432/db',
        })
        .optional(),
      REDIS_URL: z
        .url({
          protocol: /^rediss?$/,
          error: 'expected a Redis URL. Fix: set REDIS_URL=redis://host:6379',
        })
        .optional(),
      WARDEN_DATA_DIR: z.string().min(1).default('.warden'),
      WARDEN_REDIS_PREFIX: z
        .string()
        .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'not a valid prefix. Fix: use letters, digits, "_" and "-"')
        .default('warden'),
      WARDEN_ROLE: z.enum(['all', 'ingress', 'worker']).default('all'),
      WARDEN_ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
      WARDEN_SIGNING_KEY: z
        .string()
        .includes('PRIVATE KEY', {
          message: 'expected a PEM private key. Fix: openssl genpkey -algorithm ed25519',
        })
        .optional(),
      LOG_LEVEL: z.enum(logLevels).default('info'),
      CHROMIUM_PATH: z.string().optional(),
      SLACK_SIGNING_SECRET: z.string().optional(),
      SLACK_BOT_TOKEN: z.string().optional(),
      SLACK_API_URL: z.url().optional(),
      TEAMS_APP_ID: z.string().optional(),
      TEAMS_APP_PASSWORD: z.string().optional(),
      WARDEN_PUBLIC_URL: z.url().optional(),
      WARDEN_LOG_ORIGIN: z
        .string()
        .regex(/^[^\s+]+$/, 'not a valid log origin. Fix: a host name and path, no spaces or "+"')
        .optional(),
    }),
  });
}

type Parsed = z.output<ReturnType<typeof rootSchema>>;
export type TenantConfig = Parsed['file']['tenants'][number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** What `warden serve` runs: HTTP ingress and API, workers, or both (the default). */
  readonly role: 'all' | 'ingress' | 'worker';
  /** Key prefix of Warden's queues in Redis (several deployments or test runs may share one). */
  readonly redisPrefix: string;
  readonly adminToken: Secret | undefined;
  readonly signingKeyPem: Secret | undefined;
  readonly logLevel: (typeof logLevels)[number];
  readonly chromiumPath: string | undefined;
  /** Where people reach this Warden (links in chat cards); default http://HOST:PORT. */
  readonly publicUrl: string;
  /** The Merkle logs' origin prefix: checkpoints name `<logOrigin>/<tenant>`. */
  readonly logOrigin: string;
  readonly slack: { signingSecret?: Secret; botToken?: Secret; apiUrl?: string };
  readonly teams: { appId?: string; appPassword?: Secret };
  /** The config file that was read, or undefined when none was. */
  readonly configFile: string | undefined;
  readonly tenants: readonly TenantConfig[];
  /** Non-fatal problems (inline secrets) to log once at start. */
  readonly warnings: readonly string[];
  /** True when `WARDEN_REQUIRE_SERVICES=1`: tests needing Postgres/Redis/Chromium must not skip. */
  readonly requireServices: boolean;
}

export interface LoadConfigOptions {
  /** @defaultValue process.env */
  env?: Record<string, string | undefined>;
  /** Overrides `WARDEN_CONFIG` and the default lookup. */
  configFile?: string;
  /** Overrides `PORT`. */
  port?: number;
  /** Overrides `WARDEN_DATA_DIR`. */
  dataDir?: string;
  /** Overrides `WARDEN_ROLE`. */
  role?: string;
  /** Working directory for relative paths. @defaultValue process.cwd() */
  cwd?: string;
}

/**
 * Loads and validates configuration. Throws a `config_invalid` WardenError listing every problem.
 * @example
 * const config = loadConfig({ port: 0 });
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const configFile = findConfigFile(env, cwd, options.configFile);
  const ctx: ParseContext = { env, baseDir: configFile ? dirname(configFile) : cwd };
  const file = configFile ? readYaml(configFile) : {};
  const envInput = { ...env } as Record<string, string | undefined>;
  if (options.port !== undefined) envInput.PORT = String(options.port);
  if (options.dataDir !== undefined) envInput.WARDEN_DATA_DIR = options.dataDir;
  if (options.role !== undefined) envInput.WARDEN_ROLE = options.role;
  for (const [k, v] of Object.entries(envInput)) if (v === '') delete envInput[k];

  const input = { file: file ?? {}, env: envInput };
  const result = rootSchema(ctx).safeParse(input);
  const issues = [
    ...duplicateIssues(input.file),
    ...(result.error?.issues ?? []),
    ...(result.data ? sharedTokenIssues(result.data.file.tenants) : []),
    ...(result.data && result.data.env.WARDEN_ROLE !== 'all' && !result.data.env.REDIS_URL
      ? [
          {
            code: 'custom' as const,
            path: ['env', 'WARDEN_ROLE'],
            message: `role ${result.data.env.WARDEN_ROLE} needs a queue shared between processes. Fix: set REDIS_URL, or run with --role all`,
            input: undefined,
          },
        ]
      : []),
  ];
  if (!result.success || issues.length > 0) {
    throw new WardenError('config_invalid', formatIssues(configFile, issues, input), {
      details: issues.map((i) => ({ path: displayPath(i.path), message: i.message })),
    });
  }
  const { file: f, env: e } = result.data;
  const secret = (name: string, value: string | undefined) =>
    value === undefined ? undefined : new Secret(value, `env:${name}`);
  const publicUrl = (
    e.WARDEN_PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`
  ).replace(/\/$/, '');
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(cwd, e.WARDEN_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.WARDEN_REDIS_PREFIX,
    role: e.WARDEN_ROLE,
    adminToken: secret('WARDEN_ADMIN_TOKEN', e.WARDEN_ADMIN_TOKEN),
    signingKeyPem: secret('WARDEN_SIGNING_KEY', e.WARDEN_SIGNING_KEY),
    logLevel: e.LOG_LEVEL,
    chromiumPath: e.CHROMIUM_PATH,
    publicUrl,
    // The host name only: a log must keep its origin when the port changes.
    logOrigin: e.WARDEN_LOG_ORIGIN ?? new URL(publicUrl).hostname,
    slack: compact({
      signingSecret: secret('SLACK_SIGNING_SECRET', e.SLACK_SIGNING_SECRET),
      botToken: secret('SLACK_BOT_TOKEN', e.SLACK_BOT_TOKEN),
      apiUrl: e.SLACK_API_URL,
    }),
    teams: compact({
      appId: e.TEAMS_APP_ID,
      appPassword: secret('TEAMS_APP_PASSWORD', e.TEAMS_APP_PASSWORD),
    }),
    configFile,
    tenants: f.tenants,
    warnings: literalSecrets(f.tenants, 'tenants').map(
      (where) =>
        `${where} is written inline; reference it as env:NAME so the secret never lands in a file`,
    ),
    requireServices: env.WARDEN_REQUIRE_SERVICES === '1',
  };
  return deepFreeze(config);
}

/** Paths of secrets written as literals (demo tokens excepted). */
function literalSecrets(value: unknown, path: string): string[] {
  if (value instanceof Secret) return value.source === 'literal' ? [path] : [];
  if (Array.isArray(value)) {
    return value.flatMap((v, i) =>
      literalSecrets(v, `${path}[${(v as { id?: string })?.id ?? i}]`),
    );
  }
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => literalSecrets(v, `${path}.${k}`));
  }
  return [];
}

function findConfigFile(
  env: Record<string, string | undefined>,
  cwd: string,
  explicit: string | undefined,
): string | undefined {
  const named = explicit ?? env.WARDEN_CONFIG;
  if (named) {
    const path = resolve(cwd, named);
    if (!existsSync(path)) {
      throw new WardenError(
        'config_invalid',
        `Config file ${path} does not exist. Fix: point WARDEN_CONFIG (or --config) at a readable warden.yaml.`,
      );
    }
    return path;
  }
  const local = resolve(cwd, 'warden.yaml');
  if (existsSync(local)) return local;
  return existsSync(exampleConfigPath) ? exampleConfigPath : undefined;
}

function readYaml(path: string): unknown {
  const doc = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `  - ${e.message.split('\n')[0]}`);
    throw new WardenError(
      'config_invalid',
      `Config file ${path} is not valid YAML:\n${lines.join('\n')}\nFix: correct the YAML syntax at the line shown.`,
    );
  }
  return doc.toJS();
}

function compact<T extends Record<string, unknown>>(
  obj: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as never;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
