/**
 * Policy: the Cedar guardrail. Decides allow / deny / approval_required for one plugin step from
 * Warden's built-in policies (src/guardrails/policies/) plus the tenant's own file, parsed and
 * validated once at start and evaluated per target before every step.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { TenantConfig, Tier } from '../config.js';
import { WardenError } from '../errors.js';
import type { Risk } from '../sdk/index.js';
import { decideTargets, type PreparedSet } from './policy-decision.js';
import {
  buildSchema,
  type CedarSchema,
  checkPolicyFile,
  type PolicyEntry,
  type PolicyFile,
} from './policy-set.js';

export type { Tier };

export interface PolicyRequest {
  tenant: string;
  tier: Tier;
  /** Who asks: the playbook for triggered runs; an operator (API token) or chat user for manual ones. */
  principal: { type: 'Playbook' | 'Operator' | 'ChatUser'; id: string };
  /** The plugin step, e.g. 'kubernetes.scale'. */
  action: string;
  /** The step's targets (from the plugin's targets(input)); [] is evaluated once against Target::"*". */
  targets: readonly string[];
  /** The run's environment ('' when the playbook sets none). */
  environment: string;
  risk: Risk;
  reversible: boolean;
  /** Distinct valid approvals already given for this step (0 before any ticket). */
  approvals: number;
}

export interface PolicyDecision {
  outcome: 'allow' | 'deny' | 'approval_required';
  /** e.g. ['policy:destructive-needs-approval']; ['policy:no-permit'] when nothing permits. */
  reasons: string[];
  /** For approval_required: the approvals needed (max over the forbids that fired). */
  minApprovals?: number;
}

export interface PolicyEngine {
  decide(request: PolicyRequest): PolicyDecision;
}

export interface PolicyEngineOptions {
  /** Every plugin step name in the catalog (each becomes a Cedar action). */
  actions: readonly string[];
  /** Tenant id → its own policy file (absolute path) and text, added to the built-ins for that tenant only. */
  tenantPolicies?: ReadonlyMap<string, PolicyFile>;
}

/** The built-in policies every tenant gets, beside this module in ./policies/. */
const builtinFiles = ['baseline.cedar', 'destructive.cedar', 'dual-control.cedar'];

/**
 * Reads and validates the schema, the built-in policies and every tenant's file; throws one
 * `config_invalid` WardenError listing every problem (`file:line:col: message`).
 * @example
 * const engine = createPolicyEngine({ actions: [...catalog.keys()], tenantPolicies });
 * engine.decide({ tenant: 'acme', tier: 'pro', principal: { type: 'Playbook', id: 'restart-ingest' },
 *   action: 'kubernetes.scale', targets: ['deployment/prod/ingest'], environment: 'production',
 *   risk: 'destructive', reversible: true, approvals: 0 });
 * // → { outcome: 'approval_required', minApprovals: 2,
 * //     reasons: ['policy:destructive-needs-approval', 'policy:privileged-dual-control'] }
 */
export function createPolicyEngine(options: PolicyEngineOptions): PolicyEngine {
  const dir = builtinDirectory();
  const schema = buildSchema(readPolicyFile(new URL('warden.cedarschema', dir)), options.actions);
  const problems: string[] = [];
  const builtins = builtinFiles.flatMap((name) => {
    const checked = checkPolicyFile(readPolicyFile(new URL(name, dir)), schema);
    problems.push(...checked.problems);
    return checked.entries;
  });
  problems.push(...duplicateIds(builtins));
  const tenants = new Map<string, PolicyEntry[]>();
  for (const [tenant, file] of options.tenantPolicies ?? []) {
    const set = tenantSet(file, builtins, schema);
    problems.push(...set.problems.map((p) => `tenant ${tenant}: ${p}`));
    tenants.set(tenant, set.entries);
  }
  if (problems.length > 0) {
    throw new WardenError(
      'config_invalid',
      `Invalid Cedar policies; ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix: correct them (docs/policies.md describes the schema and the built-in policies).`,
      { details: problems },
    );
  }
  // cedar-wasm caches prepared sets process-wide by id: a fresh prefix keeps engines apart.
  const prefix = `warden-${randomUUID()}`;
  const base = prepare(`${prefix}/builtin`, builtins);
  const sets = new Map([...tenants].map(([t, entries]) => [t, prepare(`${prefix}/${t}`, entries)]));
  const actions = new Set(options.actions);
  return {
    decide(request) {
      if (!actions.has(request.action))
        return { outcome: 'deny', reasons: ['policy:unknown-action'] };
      return decideTargets(sets.get(request.tenant) ?? base, request);
    },
  };
}

/**
 * Reads the `policies` file of every tenant that names one; throws `config_invalid` naming each
 * tenant and path that cannot be read.
 * @example
 * const engine = createPolicyEngine({ actions, tenantPolicies: await loadTenantPolicies(config.tenants) });
 */
export async function loadTenantPolicies(
  tenants: ReadonlyArray<Pick<TenantConfig, 'id' | 'policies'>>,
): Promise<Map<string, PolicyFile>> {
  const files = new Map<string, PolicyFile>();
  const problems: string[] = [];
  for (const { id, policies: file } of tenants) {
    if (!file) continue;
    try {
      files.set(id, { file, text: await readFile(file, 'utf8') });
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? String(err);
      problems.push(`tenant ${id}: cannot read its policies file ${file} (${why})`);
    }
  }
  if (problems.length > 0) {
    throw new WardenError(
      'config_invalid',
      `Invalid policies; ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix: create the file or correct tenants[].policies in the config file.`,
      { details: problems },
    );
  }
  return files;
}

/** Beside this module; a compiled build (dist/src/guardrails/) reads them from the sources. */
function builtinDirectory(): URL {
  const here = new URL('./policies/', import.meta.url);
  return existsSync(here) ? here : new URL('../../../src/guardrails/policies/', import.meta.url);
}

function readPolicyFile(url: URL): PolicyFile {
  return { file: fileURLToPath(url), text: readFileSync(url, 'utf8') };
}

function tenantSet(file: PolicyFile, builtins: readonly PolicyEntry[], schema: CedarSchema) {
  const checked = checkPolicyFile(file, schema);
  const entries = [...builtins, ...checked.entries];
  return { entries, problems: [...checked.problems, ...duplicateIds(entries)] };
}

function duplicateIds(entries: readonly PolicyEntry[]): string[] {
  const seen = new Map<string, string>();
  return entries.flatMap(({ id, where }) => {
    const first = seen.get(id);
    seen.set(id, first ?? where);
    return first
      ? [`${where}: @id("${id}") is also used at ${first}; give each policy its own id`]
      : [];
  });
}

function prepare(cacheId: string, entries: readonly PolicyEntry[]): PreparedSet {
  const staticPolicies = Object.fromEntries(entries.map((e) => [e.id, e.text]));
  const answer = cedar.preparsePolicySet(cacheId, { staticPolicies });
  if (answer.type === 'failure') {
    throw new WardenError(
      'internal',
      `Cedar could not prepare a checked policy set: ${answer.errors[0]?.message}`,
    );
  }
  const policies = entries.map((e, rank) => [e.id, { rank, approval: e.approval }] as const);
  return { cacheId, policies: new Map(policies), perTarget: entries.some((e) => e.readsTargetId) };
}
