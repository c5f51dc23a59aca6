/** Registry: checks the plugin list and the tenants' plugin settings once, at start. */
import type { TenantConfig } from '../config.js';
import { WardenError } from '../errors.js';
import { allowedHostProblem } from '../pipeline/step-http.js';
import type { PluginDefinition, Risk, StepDefinition } from '../sdk/index.js';

export interface RegisteredStep {
  plugin: PluginDefinition;
  step: StepDefinition;
}

const pluginName = /^[a-z][a-z0-9-]*$/;
const stepName = /^[a-zA-Z][a-zA-Z0-9]*$/;
/** Every risk class, checked against the SDK's `Risk` by the compiler. */
const riskClasses: Record<Risk, true> = { none: true, read: true, write: true, destructive: true };
const risks = Object.keys(riskClasses);
/** Keys of `plugins.<name>` that Warden itself reads; the rest belongs to the plugin. */
const wardenKeys = ['allowedHosts', 'secrets'];

const isFunction = (value: unknown) => typeof value === 'function';
const isSchema = (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  isFunction((value as { safeParse?: unknown }).safeParse);

function stepProblems(where: string, step: Partial<StepDefinition> | undefined): string[] {
  if (typeof step !== 'object' || step === null)
    return [`${where}: not a step. Fix: defineStep({ … }).`];
  const problems: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(`${where}: ${what}.`);
  };
  need(typeof step.description === 'string' && step.description !== '', 'needs a description');
  need(isSchema(step.input), 'needs an input zod schema');
  need(risks.includes(step.risk as string), `risk must be one of ${risks.join(', ')}`);
  need(typeof step.reversible === 'boolean', 'needs reversible: true or false');
  need(isFunction(step.targets), 'needs targets(input)');
  need(isFunction(step.simulate), 'needs simulate(ctx, input)');
  need(isFunction(step.execute), 'needs execute(ctx, input)');
  need(step.cost === undefined || isFunction(step.cost), 'cost must be a function');
  need(step.rollback === undefined || isFunction(step.rollback), 'rollback must be a function');
  need(!step.reversible || isFunction(step.rollback), 'is reversible but has no rollback');
  return problems;
}

function pluginProblems(plugin: PluginDefinition, index: number, seen: Set<string>): string[] {
  if (typeof plugin !== 'object' || plugin === null) return [`plugins[${index}]: not a plugin.`];
  const name = String(plugin.name);
  const where = `plugin ${JSON.stringify(name)}`;
  const problems: string[] = [];
  if (!pluginName.test(name))
    problems.push(`${where}: a name is lowercase letters, digits and "-".`);
  if (seen.has(name))
    problems.push(`${where}: declared twice. Fix: give each plugin its own name.`);
  seen.add(name);
  if (typeof plugin.version !== 'string' || !plugin.version)
    problems.push(`${where}: needs a version.`);
  if (plugin.settings !== undefined && !isSchema(plugin.settings)) {
    problems.push(`${where}: settings must be a zod schema.`);
  }
  if (plugin.secrets !== undefined && !plugin.secrets.every((s) => typeof s === 'string')) {
    problems.push(`${where}: secrets must list names.`);
  }
  const steps = Object.entries(plugin.steps ?? {});
  if (steps.length === 0) problems.push(`${where}: declares no steps.`);
  for (const [key, step] of steps) {
    if (!stepName.test(key)) problems.push(`step ${name}.${key}: a name is letters and digits.`);
    problems.push(...stepProblems(`step ${name}.${key}`, step));
  }
  return problems;
}

/**
 * Validates the static plugin list and returns its steps by `plugin.step`; throws a
 * `config_invalid` WardenError listing every problem, so a bad plugin stops start-up.
 * @example
 * const catalog = validatePlugins(plugins);
 * catalog.get('http.request')?.step.risk; // 'write'
 */
export function validatePlugins(list: readonly PluginDefinition[]): Map<string, RegisteredStep> {
  const seen = new Set<string>();
  const problems = list.flatMap((plugin, i) => pluginProblems(plugin, i, seen));
  if (problems.length > 0) {
    throw new WardenError(
      'config_invalid',
      `Invalid plugin registry (src/plugins/index.ts); ${problems.length} problem(s):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
      { details: problems },
    );
  }
  return new Map(
    list.flatMap((plugin) =>
      Object.entries(plugin.steps).map(([key, step]) => [
        `${plugin.name}.${key}`,
        { plugin, step },
      ]),
    ),
  );
}

function settingsProblems(where: string, plugin: PluginDefinition, raw: object): string[] {
  const { allowedHosts = [], secrets = {}, ...settings } = raw as Record<string, unknown>;
  const problems = (allowedHosts as string[]).flatMap((entry, i) => {
    const problem = allowedHostProblem(entry);
    return problem ? [`${where}.allowedHosts[${i}]: "${entry}": ${problem}.`] : [];
  });
  const declared = plugin.secrets ?? [];
  for (const name of Object.keys(secrets as object)) {
    if (declared.includes(name)) continue;
    const known = declared.length > 0 ? `one of ${declared.join(', ')}` : 'none';
    problems.push(
      `${where}.secrets.${name}: plugin ${plugin.name} reads no such secret (${known}).`,
    );
  }
  if (!plugin.settings) {
    for (const key of Object.keys(settings)) {
      problems.push(
        `${where}.${key}: plugin ${plugin.name} takes no settings besides ${wardenKeys.join(' and ')}.`,
      );
    }
    return problems;
  }
  const result = plugin.settings.safeParse(settings);
  for (const issue of result.error?.issues ?? []) {
    const path = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('');
    problems.push(`${where}${path}: ${issue.message}.`);
  }
  return problems;
}

/**
 * Checks every tenant's `plugins.<name>` against the plugin list: the plugin exists, its
 * `allowedHosts` entries can match, its secrets are ones the plugin reads, and its own settings
 * pass the plugin's `settings` schema. Returns one line per problem (empty when all is well).
 * @example
 * const problems = validatePluginSettings(plugins, config.tenants);
 * if (problems.length > 0) throw new WardenError('config_invalid', problems.join('\n'));
 */
export function validatePluginSettings(
  list: readonly PluginDefinition[],
  tenants: readonly Pick<TenantConfig, 'id' | 'plugins'>[],
): string[] {
  const byName = new Map(list.map((p) => [p.name, p]));
  const known = [...byName.keys()].join(', ');
  return tenants.flatMap((tenant, i) =>
    Object.entries(tenant.plugins).flatMap(([name, raw]) => {
      const where = `tenants[${i}] (${tenant.id}) plugins.${name}`;
      const plugin = byName.get(name);
      if (!plugin) return [`${where}: no plugin is called ${name}. Fix: use one of ${known}.`];
      return settingsProblems(where, plugin, raw);
    }),
  );
}
