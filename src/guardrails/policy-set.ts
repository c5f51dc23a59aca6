/**
 * Policy-set: reads Warden's Cedar schema (adding one action per plugin step) and checks policy
 * files against it — syntax, schema validation, `@approval` — describing each policy for the engine
 * and each problem as `file:line:col: message`.
 */
import { basename } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { WardenError } from '../errors.js';

export type CedarSchema = cedar.SchemaJson<string>;

export interface PolicyFile {
  /** Absolute path, shown in problems. */
  file: string;
  text: string;
}

export interface PolicyEntry {
  /** `@id`, or `<file basename>#<index>`: the policy's key in the Cedar set and Warden's reason. */
  id: string;
  file: string;
  /** `file:line:col` of the policy, for problems. */
  where: string;
  /** The policy's own Cedar text. */
  text: string;
  /** `@approval("N")` on a forbid: the approvals that lift it. */
  approval?: number;
  /** Whether it looks at which target it is (then each target is evaluated on its own). */
  readsTargetId: boolean;
}

const principalTypes = ['Playbook', 'Operator', 'ChatUser'];

/** The schema file plus one action per plugin step (the file ships with Warden: it must parse). */
export function buildSchema(schema: PolicyFile, actions: readonly string[]): CedarSchema {
  const answer = cedar.schemaToJson(schema.text);
  const warden = answer.type === 'success' ? answer.json.Warden : undefined;
  if (answer.type === 'failure' || !warden) {
    const errors = answer.type === 'failure' ? answer.errors.map((e) => problem(schema, e)) : [];
    throw new WardenError(
      'config_invalid',
      `Invalid Cedar schema ${schema.file}: ${errors.join('; ') || 'no namespace Warden'}`,
    );
  }
  for (const action of actions) {
    warden.actions[action] = {
      appliesTo: { principalTypes, resourceTypes: ['Target'], context: { type: 'StepContext' } },
    };
  }
  return answer.json;
}

/** Parses and validates one policy file; the entries are in file order. */
export function checkPolicyFile(
  source: PolicyFile,
  schema: CedarSchema,
): { entries: PolicyEntry[]; problems: string[] } {
  const parts = cedar.policySetTextToParts(source.text);
  if (parts.type === 'failure') {
    return { entries: [], problems: parts.errors.map((e) => problem(source, e)) };
  }
  const problems = parts.policy_templates.map(
    () => `${source.file}: templates (?principal, ?resource) are not supported; use plain policies`,
  );
  const entries = inFileOrder(parts.policies).map((text, index) => {
    const entry = describe(source, text, index);
    problems.push(...entry.problems);
    return entry.entry;
  });
  const answer = cedar.validate({ schema, policies: { staticPolicies: source.text } });
  if (answer.type === 'failure') problems.push(...answer.errors.map((e) => problem(source, e)));
  else {
    for (const { policyId, error } of answer.validationErrors) {
      // Validation names policies as Cedar numbered them in the file: policy0, policy1, …
      const entry = entries[Number(policyId.replace(/^policy/, ''))];
      problems.push(problem(source, error, entry?.id));
    }
  }
  // Validation repeats a mistake once per action the policy applies to: list it once.
  return { entries, problems: [...new Set(problems)] };
}

/** `policySetTextToParts` sorts by the ids it assigns (policy0, policy1, policy10, …, policy2). */
function inFileOrder(sorted: readonly string[]): string[] {
  const ids = sorted.map((_, i) => `policy${i}`).sort();
  const ordered: string[] = [];
  ids.forEach((id, k) => {
    ordered[Number(id.slice(6))] = sorted[k] as string;
  });
  return ordered;
}

function describe(source: PolicyFile, text: string, index: number) {
  const answer = cedar.policyToJson(text);
  const json = answer.type === 'success' ? answer.json : undefined;
  const id = json?.annotations?.id || `${basename(source.file)}#${index}`;
  // The parts are verbatim slices of the file.
  const where = locate(source, Math.max(0, source.text.indexOf(text)));
  const entry: PolicyEntry = { id, file: source.file, where, text, readsTargetId: true };
  if (!json) return { entry, problems: [] };
  entry.readsTargetId = readsTargetId(json);
  const approval = approvalOf(json);
  if (typeof approval === 'number') entry.approval = approval;
  const problems = typeof approval === 'string' ? [`${where}: policy "${id}": ${approval}`] : [];
  return { entry, problems };
}

/** `@approval("N")`'s count, or what is wrong with it. */
function approvalOf(json: cedar.PolicyJson): number | string | undefined {
  const raw = json.annotations?.approval;
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]?$/.test(raw ?? '')) {
    return '@approval needs a number of approvals from 1 to 99, e.g. @approval("2")';
  }
  if (json.effect !== 'forbid') return '@approval applies to forbid policies only';
  if (!JSON.stringify(json.conditions).includes('{"Var":"context"},"attr":"approvals"')) {
    return `@approval("${raw}") needs a condition on context.approvals, e.g. unless { context.approvals >= ${raw} }, or no approval can ever lift it`;
  }
  return Number(raw);
}

/** `resource.environment`, `resource.tier` (or `has`): the same for every target of a step. */
const sharedAttribute =
  /\{"(?:\.|has)":\{"left":\{"Var":"resource"\},"attr":"(?:environment|tier)"\}\}/g;

/** Whether the policy looks at which target it is (its id or name), not only at shared attributes. */
function readsTargetId(json: cedar.PolicyJson): boolean {
  if (json.resource.op === '==' || json.resource.op === 'in') return true;
  if (json.resource.op === 'is' && json.resource.in) return true;
  const conditions = JSON.stringify(json.conditions).replace(sharedAttribute, '');
  return conditions.includes('{"Var":"resource"}');
}

function problem(source: PolicyFile, error: cedar.DetailedError, policy?: string): string {
  const start = error.sourceLocations?.[0]?.start;
  // Cedar reports UTF-8 byte offsets.
  const where =
    start === undefined
      ? source.file
      : locate(source, Buffer.from(source.text).subarray(0, start).toString().length);
  const message = error.message
    .replace(/^for policy `policy\d+`, /, '')
    .replace(/ for Warden::Action::"(?:[^"\\]|\\.)*"/, '');
  const label = error.sourceLocations?.[0]?.label;
  const detail = [label, error.help].filter(Boolean).join('; ');
  return `${where}: ${policy ? `policy "${policy}": ` : ''}${message}${detail ? ` (${detail})` : ''}`;
}

/** `file:line:col` of a character offset. */
function locate(source: PolicyFile, offset: number): string {
  const before = source.text.slice(0, offset);
  return `${source.file}:${before.split('\n').length}:${offset - before.lastIndexOf('\n')}`;
}
