/**
 * Metrics: Warden's Prometheus registry (prom-client), one per process, passed to whoever records.
 * Labels stay low-cardinality: tenant and playbook, never run or receipt ids.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export interface MetricsSources {
  /** Per anchored tenant, the age in seconds of its oldest receipt not yet in the Merkle log. */
  anchoringLag?: () => Promise<Array<{ tenant: string; seconds: number }>>;
}

export interface Metrics {
  readonly registry: Registry;
  readonly checkpointsSigned: Counter<'tenant'>;
}

/**
 * @example
 * const metrics = createMetrics({ anchoringLag: () => anchoring.lag() });
 * metrics.checkpointsSigned.inc({ tenant: 'acme' });
 * const text = await metrics.registry.metrics(); // Prometheus exposition format
 */
export function createMetrics(sources: MetricsSources = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'warden_process_' });
  const checkpointsSigned = new Counter({
    name: 'warden_checkpoints_signed_total',
    help: 'Signed checkpoints of tenant Merkle logs.',
    labelNames: ['tenant'] as const,
    registers: [registry],
  });
  const { anchoringLag } = sources;
  if (anchoringLag) {
    new Gauge({
      name: 'warden_anchoring_lag_seconds',
      help: 'Age of the oldest receipt not yet anchored in its tenant’s Merkle log (0 when caught up).',
      labelNames: ['tenant'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const { tenant, seconds } of await anchoringLag()) this.set({ tenant }, seconds);
      },
    });
  }
  return { registry, checkpointsSigned };
}
