/**
 * Simulate-run: every run is planned before it acts. Each step's input is interpolated from the run
 * context and validated by the step's schema; the plugin describes what it would do (no network, no
 * secrets); targets, cost and risk feed the guardrails. An input that fails — a missing field, a
 * label carrying `{{…}}` or `"; rm -rf /` that the schema refuses — denies the step with reason
 * `invalid_input`, and nothing runs.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import { canonicalBytes } from '../ledger/canonical-json.js';
import type { JsonValue } from '../ledger/receipt.js';
import type { Risk } from '../sdk/index.js';
import { InterpolationError, interpolate } from './interpolate.js';
import type { Playbook } from './playbook-schema.js';
import { type StepCatalog, simulateContext } from './step-context.js';

export interface StepPlan {
  step: string;
  uses: string;
  summary: string;
  effects: JsonValue[];
  targets: string[];
  cost: number;
  risk: Risk;
  reversible: boolean;
  inputDigest: string;
  /** The validated input, for execution. */
  input: unknown;
}

export type Simulation =
  | { ok: true; steps: StepPlan[] }
  | {
      ok: false;
      step: string;
      uses: string;
      reason: 'invalid_input' | 'unknown_step';
      detail: string;
    };

export const digestJson = (value: unknown) =>
  `sha256:${createHash('sha256')
    .update(canonicalBytes(value ?? null))
    .digest('hex')}`;

/** Interpolates and validates one step input (also used for rollback steps). */
export function resolveInput(
  catalog: StepCatalog,
  uses: string,
  template: unknown,
  context: unknown,
):
  | { ok: true; input: unknown }
  | { ok: false; reason: 'invalid_input' | 'unknown_step'; detail: string } {
  const entry = catalog.get(uses);
  if (!entry) return { ok: false, reason: 'unknown_step', detail: `no plugin step named ${uses}` };
  let raw: unknown;
  try {
    raw = interpolate(template, context, entry.step.escapes);
  } catch (err) {
    if (err instanceof InterpolationError)
      return { ok: false, reason: 'invalid_input', detail: err.message };
    throw err;
  }
  const parsed = entry.step.input.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`)
      .join('; ');
    return { ok: false, reason: 'invalid_input', detail };
  }
  return { ok: true, input: parsed.data };
}

/**
 * @example
 * const sim = await simulateRun({ playbook, context, catalog, tenant: 'acme', config, logger });
 */
export async function simulateRun(opts: {
  playbook: Playbook;
  context: unknown;
  catalog: StepCatalog;
  tenant: string;
  config: TenantConfig | undefined;
  logger: Logger;
}): Promise<Simulation> {
  const steps: StepPlan[] = [];
  for (const s of opts.playbook.spec.steps) {
    const resolved = resolveInput(opts.catalog, s.uses, s.with, opts.context);
    if (!resolved.ok) {
      return {
        ok: false,
        step: s.id,
        uses: s.uses,
        reason: resolved.reason,
        detail: resolved.detail,
      };
    }
    const entry = opts.catalog.get(s.uses);
    if (!entry) throw new Error('unreachable: resolveInput checked the step exists');
    const { step } = entry;
    const plan = await step.simulate(
      simulateContext(opts.tenant, opts.config, entry, opts.logger),
      resolved.input,
    );
    steps.push({
      step: s.id,
      uses: s.uses,
      summary: plan.summary,
      effects: plan.effects ?? [],
      targets: step.targets(resolved.input),
      cost: step.cost?.(resolved.input) ?? 0,
      risk: step.risk,
      reversible: step.reversible || s.rollback !== undefined,
      inputDigest: digestJson(resolved.input),
      input: resolved.input,
    });
  }
  return { ok: true, steps };
}
