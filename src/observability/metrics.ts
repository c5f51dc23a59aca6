/**
 * Metrics: Warden's Prometheus registry (prom-client), one per process, passed to whoever records
 * (the receipt listener of metrics-recorder.ts, anchoring). Labels stay low-cardinality: tenant,
 * playbook, source, outcome, reason, target — never run, receipt or approval ids.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsSources {
  /** Per anchored tenant, the age in seconds of its oldest receipt not yet in the Merkle log. */
  anchoringLag?: () => Promise<Array<{ tenant: string; seconds: number }>>;
  /** Runs waiting for or being worked by a worker (`queued` and `running` in the database). */
  queueDepth?: () => Promise<number>;
}

export interface Metrics {
  readonly registry: Registry;
  readonly checkpointsSigned: Counter<'tenant'>;
  readonly triggers: Counter<'tenant' | 'source'>;
  readonly runs: Counter<'tenant' | 'playbook' | 'status'>;
  readonly stepDuration: Histogram<'tenant' | 'playbook'>;
  readonly guardrailDecisions: Counter<'tenant' | 'outcome' | 'reason'>;
  readonly budgetExceeded: Counter<'tenant' | 'playbook' | 'budget'>;
  readonly autoDisables: Counter<'tenant' | 'playbook'>;
  readonly approvals: Counter<'tenant' | 'outcome'>;
  readonly approvalWait: Histogram<'tenant'>;
  readonly timeSaved: Counter<'tenant' | 'playbook'>;
  readonly deliveries: Counter<'tenant' | 'target' | 'outcome'>;
  readonly deliveryLatency: Histogram<'tenant' | 'target'>;
}

/** Every metric createMetrics registers (besides `warden_process_*`), for rules and dashboards. */
export const metricNames = [
  'warden_checkpoints_signed_total',
  'warden_anchoring_lag_seconds',
  'warden_triggers_total',
  'warden_runs_total',
  'warden_step_duration_seconds',
  'warden_guardrail_decisions_total',
  'warden_budget_exceeded_total',
  'warden_playbook_auto_disables_total',
  'warden_approvals_total',
  'warden_approval_wait_seconds',
  'warden_time_saved_minutes_total',
  'warden_queue_depth',
  'warden_deliveries_total',
  'warden_delivery_latency_seconds',
] as const;

/**
 * @example
 * const metrics = createMetrics({ anchoringLag: () => anchoring.lag(), queueDepth: () => depth() });
 * ledger.subscribe(createMetricsRecorder(metrics, { manualMinutes: manualMinutesFrom(knex) }));
 * const text = await metrics.registry.metrics(); // Prometheus exposition format
 */
export function createMetrics(sources: MetricsSources = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'warden_process_' });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ) => new Histogram<L>({ name, help, labelNames, buckets, registers });

  const { anchoringLag, queueDepth } = sources;
  if (anchoringLag) {
    new Gauge({
      name: 'warden_anchoring_lag_seconds',
      help: 'Age of the oldest receipt not yet anchored in its tenant’s Merkle log (0 when caught up).',
      labelNames: ['tenant'] as const,
      registers,
      async collect() {
        this.reset();
        for (const { tenant, seconds } of await anchoringLag()) this.set({ tenant }, seconds);
      },
    });
  }
  if (queueDepth) {
    new Gauge({
      name: 'warden_queue_depth',
      help: 'Runs queued or running (unfinished), across tenants.',
      registers,
      async collect() {
        this.set(await queueDepth());
      },
    });
  }
  return {
    registry,
    checkpointsSigned: counter(
      'warden_checkpoints_signed_total',
      'Signed checkpoints of tenant Merkle logs.',
      ['tenant'],
    ),
    triggers: counter(
      'warden_triggers_total',
      'Triggers received and stored (alerts, events, cron), by source.',
      ['tenant', 'source'],
    ),
    runs: counter(
      'warden_runs_total',
      'Runs that finished, by final status (succeeded, failed, denied, cancelled).',
      ['tenant', 'playbook', 'status'],
    ),
    stepDuration: histogram(
      'warden_step_duration_seconds',
      'Time steps took to execute (executed steps, succeeded or failed).',
      ['tenant', 'playbook'],
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    ),
    guardrailDecisions: counter(
      'warden_guardrail_decisions_total',
      'Decisions on steps by outcome (allow: executed, deny: denied, approval_required: ticket opened) and first reason.',
      ['tenant', 'outcome', 'reason'],
    ),
    budgetExceeded: counter(
      'warden_budget_exceeded_total',
      'Steps a budget stopped (denied, or sent for approval when overridable), by budget.',
      ['tenant', 'playbook', 'budget'],
    ),
    autoDisables: counter(
      'warden_playbook_auto_disables_total',
      'Playbooks disabled by a breaker.',
      ['tenant', 'playbook'],
    ),
    approvals: counter(
      'warden_approvals_total',
      'Approval tickets settled, by outcome (approved, rejected, expired).',
      ['tenant', 'outcome'],
    ),
    approvalWait: histogram(
      'warden_approval_wait_seconds',
      'Time from an approval request to its settlement (approved, rejected or expired).',
      ['tenant'],
      [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400],
    ),
    timeSaved: counter(
      'warden_time_saved_minutes_total',
      'The playbook’s manualMinutes for each run that succeeded without an approval.',
      ['tenant', 'playbook'],
    ),
    deliveries: counter(
      'warden_deliveries_total',
      'Report deliveries finished, by target and final outcome (delivered, failed).',
      ['tenant', 'target', 'outcome'],
    ),
    deliveryLatency: histogram(
      'warden_delivery_latency_seconds',
      'Time each delivery attempt took to call its target.',
      ['tenant', 'target'],
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ),
  };
}
