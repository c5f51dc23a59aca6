/**
 * The plugin SDK: everything a plugin may import. A plugin declares steps as data
 * (`defineStep`, `definePlugin`); the pipeline validates their input, simulates them, runs them
 * under the guardrails and receipts every outcome. A step sees only its StepContext: its tenant,
 * an HTTP client limited to the hosts the tenant allowed for this plugin, the tenant's settings and
 * secrets for this plugin, a logger, an abort signal and an idempotency key — no database, no other
 * tenant, no guardrails.
 */
import type { z } from 'zod';

export { z } from 'zod';

/** Side-effect class, from none to destructive; guardrails and policies key on it. */
export type Risk = 'none' | 'read' | 'write' | 'destructive';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface StepLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** `fetch` restricted to the tenant's allowed hosts for this plugin; throws on any other host. */
export type HttpClient = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** Chat for a plugin that declares `capabilities: ['chat']`. */
export interface ChatMessenger {
  /**
   * Posts `text` into the run's thread in the tenant's chat (or into `channel` of the tenant's
   * workspace); resolves to the platforms it reached — none when the tenant has no chat.
   */
  post(message: { text: string; channel?: string | undefined }): Promise<string[]>;
}

export interface StepContext {
  tenant: string;
  http: HttpClient;
  /** The tenant's settings for this plugin (validated by the plugin's `settings` schema). */
  settings: Readonly<Record<string, unknown>>;
  /** The tenant's secrets for this plugin, by name. */
  secrets: Readonly<Record<string, string>>;
  logger: StepLogger;
  signal: AbortSignal;
  /** Stable for one (tenant, run, step): send it where the vendor supports idempotency. */
  idempotencyKey: string;
  /** The run's chat, given only to plugins that declare `capabilities: ['chat']`. */
  chat?: ChatMessenger;
}

/** Simulation sees no network and no secrets: it can only describe what it would do. */
export type SimulateContext = Pick<StepContext, 'tenant' | 'settings' | 'logger'>;

export interface SimulationPlan {
  /** One line for people: what the step would do. */
  summary: string;
  /** Details: the requests it would send, the resources it would change. */
  effects?: Json[];
}

export interface StepDefinition<S extends z.ZodType = z.ZodType, O extends Json = Json> {
  description: string;
  /** Validates (and types) the step's input after interpolation. */
  input: S;
  risk: Risk;
  /** Whether `rollback` can undo it. */
  reversible: boolean;
  /** Safe to run again after a crash left it claimed but unfinished. @defaultValue false */
  idempotent?: boolean;
  /**
   * Escapers by top-level input field, for fields that are a language of their own (PromQL, a
   * URL…): a value interpolated inside a longer string of that field is passed through it first,
   * so a trigger's label cannot change the statement around it. An escaper may throw to refuse a
   * value (the step is then denied `invalid_input`).
   */
  escapes?: Readonly<Record<string, (value: string) => string>>;
  /** What the step touches, for the blast-radius budget (one entry per target). */
  targets(input: z.output<S>): string[];
  /** Cost units the step spends, for the per-run cost budget. @defaultValue 0 */
  cost?(input: z.output<S>): number;
  /** Describes the step without touching anything outside the process. */
  simulate(ctx: SimulateContext, input: z.output<S>): SimulationPlan | Promise<SimulationPlan>;
  execute(ctx: StepContext, input: z.output<S>): Promise<O>;
  /** Undoes a succeeded execution (called in reverse order when a later step fails). */
  rollback?(ctx: StepContext, input: z.output<S>, output: O): Promise<void>;
}

/**
 * Declares a step; returns it unchanged with its types inferred from the input schema.
 * @example
 * export const sleep = defineStep({
 *   description: 'Waits', input: z.object({ seconds: z.number().max(300) }), risk: 'none',
 *   reversible: false, targets: () => [], simulate: (_c, i) => ({ summary: `wait ${i.seconds}s` }),
 *   execute: async (ctx, i) => { await setTimeout(i.seconds * 1000, undefined, { signal: ctx.signal }); return {}; },
 * });
 */
export function defineStep<S extends z.ZodType, O extends Json>(
  step: StepDefinition<S, O>,
): StepDefinition<S, O> {
  return step;
}

export interface PluginDefinition {
  /** Lowercase; steps are used as `<name>.<step>`. */
  name: string;
  version: string;
  description: string;
  /** Validates the tenant's `plugins.<name>` settings at start. */
  settings?: z.ZodType;
  /** Names of secrets the plugin reads from `plugins.<name>.secrets`. */
  secrets?: string[];
  /**
   * Hosts the plugin's own settings point at (its API's URL), allowed in addition to
   * `plugins.<name>.allowedHosts`, so the endpoint a tenant configured needs no second entry.
   */
  hosts?(settings: Record<string, unknown>): string[];
  /** What the plugin needs beyond the basic context: `chat` gives its steps `ctx.chat`. */
  capabilities?: ReadonlyArray<'chat'>;
  // biome-ignore lint/suspicious/noExplicitAny: each step has its own input type
  steps: Record<string, StepDefinition<any, any>>;
}

/** Declares a plugin; returns it unchanged. */
export function definePlugin<P extends PluginDefinition>(plugin: P): P {
  return plugin;
}

/**
 * The `host[:port]` of a URL setting, for `hosts()`; nothing when it is missing or not a URL.
 * @example hostOf('http://prometheus.internal:9090') // ['prometheus.internal:9090']
 */
export function hostOf(url: unknown): string[] {
  if (typeof url !== 'string') return [];
  try {
    return [new URL(url).host];
  } catch {
    return [];
  }
}
