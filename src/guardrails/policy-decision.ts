/**
 * Policy-decision: evaluates one step against a prepared Cedar policy set, once per target, and
 * maps Cedar's answer to Warden's: allow, deny, or approval_required when only `@approval` forbids
 * stand in the way. Several targets: the strictest outcome wins.
 */
import { setFlagsFromString } from 'node:v8';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyDecision, PolicyRequest } from './policy.js';

// Every cedar-wasm export returns a Wasm externref, and builds it with JSON.parse inside the call.
// Node 20's V8 (11.3) inlines JS→Wasm calls into optimized callers; if that JSON.parse changes a map
// the caller depends on, V8 deoptimizes the caller while the call is on the stack, cannot rebuild an
// externref result (Deoptimizer::TranslatedValueForWasmReturnKind handles numbers only) and aborts
// the process ("unreachable code", exit 133). Not inlining these calls avoids that path; a decision
// costs ~100 µs inside Cedar, far more than the inlining saves.
setFlagsFromString('--no-turbo-inline-js-wasm-calls');

/** A policy set cedar-wasm has parsed and cached under `cacheId`, and what Warden needs per policy. */
export interface PreparedSet {
  cacheId: string;
  /** By id: the policy's position in the set (to list reasons in a stable order) and `@approval`. */
  policies: ReadonlyMap<string, { rank: number; approval?: number | undefined }>;
  /** Some policy looks at which target it is; otherwise every target decides alike. */
  perTarget: boolean;
}

const strictness = { allow: 0, approval_required: 1, deny: 2 } as const;

/** Decides the step for each of its targets (or once, for `Target::"*"`) and keeps the strictest. */
export function decideTargets(set: PreparedSet, request: PolicyRequest): PolicyDecision {
  let result: PolicyDecision | undefined;
  for (const target of targetsToEvaluate(set, request.targets)) {
    const one = decideTarget(set, request, target);
    result = result ? strictest(result, one) : one;
  }
  return result as PolicyDecision;
}

function targetsToEvaluate(set: PreparedSet, targets: readonly string[]): Iterable<string> {
  if (targets.length === 0) return ['*'];
  // When no policy looks at which target it is, every target decides alike: evaluate one.
  return set.perTarget ? new Set(targets) : targets.slice(0, 1);
}

function decideTarget(set: PreparedSet, request: PolicyRequest, target: string): PolicyDecision {
  const resource = { type: 'Warden::Target', id: target };
  const answer = cedar.statefulIsAuthorized({
    principal: { type: `Warden::${request.principal.type}`, id: request.principal.id },
    action: { type: 'Warden::Action', id: request.action },
    resource,
    context: {
      risk: request.risk,
      reversible: request.reversible,
      approvals: request.approvals,
      targetCount: request.targets.length,
    },
    entities: [
      {
        uid: resource,
        attrs: { name: target, environment: request.environment, tier: request.tier },
        parents: [],
      },
    ],
    preparsedPolicySetId: set.cacheId,
  });
  // An erroring policy is skipped by Cedar, which could turn a forbid into an allow: never allow.
  if (answer.type === 'failure' || answer.response.diagnostics.errors.length > 0) {
    return { outcome: 'deny', reasons: ['policy:error'] };
  }
  const { decision, diagnostics } = answer.response;
  // Cedar lists the determining policies in no particular order.
  const ids = diagnostics.reason.sort(
    (x, y) => (set.policies.get(x)?.rank ?? 0) - (set.policies.get(y)?.rank ?? 0),
  );
  const reasons = ids.map((id) => `policy:${id}`);
  if (decision === 'allow') return { outcome: 'allow', reasons };
  if (reasons.length === 0) return { outcome: 'deny', reasons: ['policy:no-permit'] };
  const approvals = ids.map((id) => set.policies.get(id)?.approval);
  if (approvals.some((n) => n === undefined)) return { outcome: 'deny', reasons };
  return {
    outcome: 'approval_required',
    reasons,
    minApprovals: Math.max(...(approvals as number[])),
  };
}

/** The stricter outcome; at equal strictness, reasons merged and the larger minApprovals. */
function strictest(a: PolicyDecision, b: PolicyDecision): PolicyDecision {
  if (strictness[a.outcome] !== strictness[b.outcome]) {
    return strictness[a.outcome] > strictness[b.outcome] ? a : b;
  }
  const merged: PolicyDecision = {
    outcome: a.outcome,
    reasons: [...new Set([...a.reasons, ...b.reasons])],
  };
  if (a.minApprovals !== undefined || b.minApprovals !== undefined) {
    merged.minApprovals = Math.max(a.minApprovals ?? 0, b.minApprovals ?? 0);
  }
  return merged;
}
