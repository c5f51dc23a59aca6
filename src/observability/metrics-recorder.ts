/**
 * Metrics-recorder: a ledger listener that turns the receipts this process commits into the figures
 * of metrics.ts — triggers, runs, step durations, guardrail decisions, budget stops, auto-disables,
 * approvals and their wait, time saved, deliveries. It reads public payload fields only (private
 * ones are salted digests), never throws, and keeps two small bounded maps: approval requests (for
 * the wait) and runs that needed a human (no time saved for them).
 */
import type { Knex } from 'knex';
import type { ReceiptListener } from '../ledger/ledger.js';
import type { JsonValue, ReceiptKind, ReceiptPayload } from '../ledger/receipt.js';
import { findVersionByDigest } from '../storage/playbooks.js';
import type { Metrics } from './metrics.js';

export interface MetricsRecorderDeps {
  /**
   * The `spec.manualMinutes` of a playbook version, by name and digest (a run's receipts name
   * `<name>@<digest>`). Versions are immutable, so each is asked once. Without it, no time saved.
   */
  manualMinutes?: (tenant: string, playbook: string, digest: string) => Promise<number | undefined>;
  /** Told when a lookup or an update failed (the figure is then not counted). */
  onError?: (err: unknown) => void;
  /** Approval requests and runs with approvals remembered. @defaultValue 10000 */
  remember?: number;
}

/** The listener, and a way to wait for time-saved lookups still in flight (tests, shutdown). */
export type MetricsRecorder = ReceiptListener & { settled(): Promise<void> };

/** Guardrail reason → the budget it names (src/guardrails/chain.ts). */
const budgetOf: Record<string, string> = {
  actions_per_hour_exceeded: 'actionsPerHour',
  blast_radius_exceeded: 'blastRadius',
  cost_per_run_exceeded: 'costPerRun',
  environment_not_allowed: 'allowedEnvironments',
};

type Fields = { [key: string]: JsonValue | undefined };
type Handler = (tenant: string, p: ReceiptPayload) => void;

const text = (v: JsonValue | undefined, fallback = 'unknown') =>
  typeof v === 'string' && v !== '' ? v : fallback;
const fields = (v: JsonValue | undefined): Fields =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
const strings = (v: JsonValue | undefined): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
/** `restart-ingest@sha256:…` → name and digest; approval and switch receipts carry the bare name. */
const refOf = (v: JsonValue | undefined) => {
  const ref = text(v);
  const at = ref.indexOf('@');
  return at < 0 ? { name: ref, digest: '' } : { name: ref.slice(0, at), digest: ref.slice(at + 1) };
};
const secondsBetween = (from: unknown, to: string) => {
  const s = (Date.parse(to) - Date.parse(typeof from === 'string' ? from : '')) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : undefined;
};

/** A Map that forgets its oldest entries beyond `max`. */
function boundedMap<V>(max: number) {
  const map = new Map<string, V>();
  return {
    get: (key: string) => map.get(key),
    take(key: string) {
      const v = map.get(key);
      map.delete(key);
      return v;
    },
    set(key: string, value: V) {
      map.delete(key);
      map.set(key, value);
      if (map.size > max) map.delete(map.keys().next().value as string);
    },
  };
}

/**
 * @example
 * const recorder = createMetricsRecorder(metrics, { manualMinutes: manualMinutesFrom(db.knex) });
 * const unsubscribe = ledger.subscribe(recorder);
 */
export function createMetricsRecorder(
  metrics: Metrics,
  deps: MetricsRecorderDeps = {},
): MetricsRecorder {
  const max = deps.remember ?? 10_000;
  const requestedAt = boundedMap<string>(max);
  const withHuman = boundedMap<true>(max);
  const minutes = boundedMap<number | Promise<number>>(1_000);
  const pending = new Set<Promise<void>>();
  /** Failures go to onError, itself guarded: a listener must not throw. */
  const report = (err: unknown) => {
    try {
      deps.onError?.(err);
    } catch {
      // nothing left to tell
    }
  };
  const safely = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      report(err);
    }
  };
  const key = (tenant: string, id: JsonValue | undefined) => `${tenant}\u0000${text(id)}`;

  const decided = (tenant: string, outcome: string, reasons: string[]) =>
    metrics.guardrailDecisions.inc({ tenant, outcome, reason: reasons[0] ?? 'none' });
  const budgets = (tenant: string, playbook: string, reasons: string[]) => {
    for (const reason of new Set(reasons)) {
      const budget = budgetOf[reason];
      if (budget) metrics.budgetExceeded.inc({ tenant, playbook, budget });
    }
  };
  const settle = (tenant: string, p: ReceiptPayload, outcome: string) => {
    metrics.approvals.inc({ tenant, outcome });
    const requested = requestedAt.take(key(tenant, p.approval));
    const wait = secondsBetween(p.requestedAt ?? requested, p.at);
    if (wait !== undefined) metrics.approvalWait.observe({ tenant }, wait);
  };

  function saveTime(tenant: string, ref: { name: string; digest: string }) {
    const lookup = deps.manualMinutes;
    if (!lookup) return;
    const add = (n: number) =>
      safely(() => {
        if (n > 0) metrics.timeSaved.inc({ tenant, playbook: ref.name }, n);
      });
    const k = `${tenant}\u0000${ref.name}@${ref.digest}`;
    let known = minutes.get(k);
    if (typeof known === 'number') return add(known);
    if (!known) {
      known = lookup(tenant, ref.name, ref.digest).then((n) => {
        const value = typeof n === 'number' && Number.isFinite(n) ? n : 0;
        minutes.set(k, value);
        return value;
      });
      minutes.set(k, known);
    }
    const done: Promise<void> = known
      .then(add, (err: unknown) => {
        minutes.take(k); // asked again next time
        report(err);
      })
      .finally(() => pending.delete(done));
    pending.add(done);
  }

  const handlers: Partial<Record<ReceiptKind, Handler>> = {
    'trigger.received': (tenant, p) => metrics.triggers.inc({ tenant, source: text(p.source) }),
    'step.executed': (tenant, p) => {
      const playbook = refOf(p.playbook).name;
      if (typeof p.durationMs === 'number') {
        metrics.stepDuration.observe({ tenant, playbook }, p.durationMs / 1000);
      }
      if (p.decision === undefined) return; // outcome unknown after a crash: nothing was decided
      const decision = fields(p.decision);
      decided(tenant, 'allow', strings(decision.reasons));
      if (strings(decision.approvals).length > 0) withHuman.set(key(tenant, p.run), true);
    },
    'step.denied': (tenant, p) => {
      const reasons = strings(p.reasons);
      decided(tenant, 'deny', reasons);
      budgets(tenant, refOf(p.playbook).name, reasons);
    },
    'approval.requested': (tenant, p) => {
      const reasons = strings(fields(p.decision).reasons);
      decided(tenant, 'approval_required', reasons);
      budgets(tenant, refOf(p.playbook).name, reasons);
      withHuman.set(key(tenant, p.run), true);
      requestedAt.set(key(tenant, p.approval), p.at);
    },
    'approval.decided': (tenant, p) => {
      if (p.outcome === 'approved' || p.outcome === 'rejected') settle(tenant, p, p.outcome);
    },
    'approval.expired': (tenant, p) => settle(tenant, p, 'expired'),
    'run.finished': (tenant, p) => {
      const ref = refOf(p.playbook);
      const status = text(p.status);
      metrics.runs.inc({ tenant, playbook: ref.name, status });
      const human = withHuman.take(key(tenant, p.run));
      // Only runs a trigger started save a person's time; a run by hand was a person's work.
      const byHand = p.trigger === null; // (receipts from before `trigger` was recorded lack it)
      if (status === 'succeeded' && !human && !byHand) saveTime(tenant, ref);
    },
    'playbook.disabled': (tenant, p) => {
      if (p.actor === 'breaker' || typeof p.rule === 'string') {
        metrics.autoDisables.inc({ tenant, playbook: refOf(p.playbook).name });
      }
    },
    'delivery.attempted': (tenant, p) => {
      if (typeof p.latencyMs === 'number') {
        metrics.deliveryLatency.observe({ tenant, target: text(p.target) }, p.latencyMs / 1000);
      }
    },
    'delivery.finished': (tenant, p) =>
      metrics.deliveries.inc({ tenant, target: text(p.target), outcome: text(p.outcome) }),
  };

  const listener: ReceiptListener = (tenant, receipts) => {
    for (const { payload } of receipts) {
      safely(() => handlers[payload.kind as ReceiptKind]?.(tenant, payload));
    }
  };
  return Object.assign(listener, {
    async settled() {
      while (pending.size > 0) await Promise.all(pending);
    },
  });
}

/**
 * `manualMinutes` read from the stored playbook version.
 * @example
 * createMetricsRecorder(metrics, { manualMinutes: manualMinutesFrom(db.knex) });
 */
export function manualMinutesFrom(knex: Knex): NonNullable<MetricsRecorderDeps['manualMinutes']> {
  return async (tenant, name, digest) =>
    (await findVersionByDigest(knex, tenant, name, digest))?.definition.spec.manualMinutes;
}
