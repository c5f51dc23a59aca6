/**
 * Config-issues: the problems config validation reports beyond zod's own (duplicates found on the raw
 * input, token values shared across tenants) and the one format they are all printed in: a path, the
 * problem and a fix.
 */
import type { z } from 'zod';
import type { TenantConfig } from './config.js';

/**
 * Duplicate ids and token names, found on the raw input so they are reported even when other
 * problems stop zod before its refinements.
 */
export function duplicateIssues(file: unknown): z.core.$ZodIssue[] {
  const issues: z.core.$ZodIssue[] = [];
  const add = (path: (string | number)[], message: string) =>
    issues.push({ code: 'custom', path: ['file', ...path], message, input: undefined });
  const tenants = (file as { tenants?: unknown })?.tenants;
  if (!Array.isArray(tenants)) return issues;
  const ids = new Set<unknown>();
  tenants.forEach((t: { id?: unknown; tokens?: unknown }, i) => {
    if (typeof t?.id === 'string' && ids.has(t.id)) {
      add(
        ['tenants', i, 'id'],
        `tenant id "${t.id}" is declared twice. Fix: give each tenant a unique id.`,
      );
    }
    ids.add(t?.id);
    if (!Array.isArray(t?.tokens)) return;
    const names = new Set<unknown>();
    t.tokens.forEach((tok: { name?: unknown }, j) => {
      if (typeof tok?.name === 'string' && names.has(tok.name)) {
        add(
          ['tenants', i, 'tokens', j, 'name'],
          `token name "${tok.name}" is used twice in tenant ${String(t.id)}. Fix: rename one.`,
        );
      }
      names.add(tok?.name);
    });
  });
  return issues;
}

/** One token value may serve one token only: it is what identifies the tenant. */
export function sharedTokenIssues(tenants: readonly TenantConfig[]): z.core.$ZodIssue[] {
  const seen = new Map<string, string>();
  const issues: z.core.$ZodIssue[] = [];
  tenants.forEach((t, i) => {
    t.tokens.forEach((tok, j) => {
      const value = tok.value.reveal();
      if (!value) return;
      const first = seen.get(value);
      if (first) {
        issues.push({
          code: 'custom',
          path: ['file', 'tenants', i, 'tokens', j, 'value'],
          message: `this token value is also used by ${first}. Fix: give each token its own value.`,
          input: undefined,
        });
      } else seen.set(value, `tenant ${t.id} token ${tok.name}`);
    });
  });
  return issues;
}

export function displayPath(path: readonly PropertyKey[]): string {
  const [root, ...rest] = path;
  const parts = root === 'env' ? rest.map(String) : rest;
  let out = '';
  for (const p of parts)
    out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  return value;
}

function fixFor(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.message.includes('Fix:')) return '';
  const where = displayPath(issue.path);
  switch (issue.code) {
    case 'invalid_value':
      return ` Fix: use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'invalid_type':
      return valueAt(input, issue.path) === undefined
        ? ` Fix: add ${where}.`
        : ` Fix: give ${where} a value of type ${issue.expected}.`;
    case 'invalid_format':
      return ` Fix: give ${where} a valid ${issue.format}.`;
    case 'too_small':
    case 'too_big':
      return ` Fix: change ${where} to fit the limit.`;
    default:
      return ` Fix: correct ${where}.`;
  }
}

export function formatIssues(
  file: string | undefined,
  issues: z.core.$ZodIssue[],
  input: unknown,
): string {
  const source = file ? ` (config file ${file} and environment)` : ' (environment)';
  const lines = issues.map((i) => {
    const where = i.path[0] === 'env' ? `environment ${displayPath(i.path)}` : displayPath(i.path);
    return `  - ${where}: ${i.message}.${fixFor(i, input)}`.replace('..', '.');
  });
  return `Invalid configuration${source}; ${issues.length} problem(s):\n${lines.join('\n')}`;
}
