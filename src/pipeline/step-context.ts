/**
 * Step-context: what a plugin step is given — its tenant, an HTTP client limited to the hosts the
 * tenant allowed for that plugin, the tenant's settings and secrets for that plugin, a logger, an
 * abort signal and an idempotency key — and, to a plugin that declares the `chat` capability, the
 * run's chat. Nothing else reaches a plugin.
 */
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import type {
  ChatMessenger,
  PluginDefinition,
  SimulateContext,
  StepContext,
  StepDefinition,
} from '../sdk/index.js';
import { createStepHttp } from './step-http.js';

export interface StepEntry {
  plugin: PluginDefinition;
  step: StepDefinition;
}

/** Every `plugin.step` the registry validated, by name. */
export type StepCatalog = ReadonlyMap<string, StepEntry>;

type PluginSettings = TenantConfig['plugins'][string];

function settingsOf(tenant: TenantConfig | undefined, plugin: string) {
  const raw: PluginSettings | undefined = tenant?.plugins[plugin];
  const { secrets = {}, allowedHosts = [], ...settings } = raw ?? { secrets: {}, allowedHosts: [] };
  return { secrets, allowedHosts, settings: settings as Record<string, unknown> };
}

/** The hosts a plugin may reach for a tenant: its configured list plus its own endpoint. */
function hostsOf(entry: StepEntry, allowedHosts: string[], settings: Record<string, unknown>) {
  return [...allowedHosts, ...(entry.plugin.hosts?.(settings) ?? [])];
}

function stepLogger(logger: Logger, fields: Record<string, unknown>) {
  const child = logger.child(fields);
  return {
    info: (message: string, extra?: Record<string, unknown>) => child.info(extra ?? {}, message),
    warn: (message: string, extra?: Record<string, unknown>) => child.warn(extra ?? {}, message),
  };
}

export function simulateContext(
  tenant: string,
  config: TenantConfig | undefined,
  entry: StepEntry,
  logger: Logger,
): SimulateContext {
  return {
    tenant,
    settings: settingsOf(config, entry.plugin.name).settings,
    logger: stepLogger(logger, { tenant, plugin: entry.plugin.name, simulate: true }),
  };
}

export function stepContext(opts: {
  tenant: string;
  config: TenantConfig | undefined;
  entry: StepEntry;
  logger: Logger;
  signal: AbortSignal;
  idempotencyKey: string;
  /** The run's chat; handed on only when the plugin declares the `chat` capability. */
  chat?: ChatMessenger | undefined;
}): StepContext {
  const { secrets, allowedHosts, settings } = settingsOf(opts.config, opts.entry.plugin.name);
  const hosts = hostsOf(opts.entry, allowedHosts, settings);
  return {
    tenant: opts.tenant,
    http: createStepHttp({
      allowedHosts: hosts,
      signal: opts.signal,
      plugin: opts.entry.plugin.name,
    }),
    settings,
    secrets: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, v.reveal()])),
    logger: stepLogger(opts.logger, { tenant: opts.tenant, plugin: opts.entry.plugin.name }),
    signal: opts.signal,
    idempotencyKey: opts.idempotencyKey,
    ...(opts.chat && opts.entry.plugin.capabilities?.includes('chat') ? { chat: opts.chat } : {}),
  };
}
