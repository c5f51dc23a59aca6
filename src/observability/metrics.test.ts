import { describe, expect, it } from 'vitest';
import { createMetrics, metricNames } from './metrics.js';

describe('createMetrics', () => {
  it('registers every named metric once the sources are given, plus warden_process_*', async () => {
    const metrics = createMetrics({
      anchoringLag: async () => [{ tenant: 'acme', seconds: 0 }],
      queueDepth: async () => 0,
    });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining([...metricNames]));
    expect(names.filter((n) => !n.startsWith('warden_process_')).sort()).toEqual(
      [...metricNames].sort(),
    );
  });

  it('reads the queue depth and the anchoring lag at each scrape', async () => {
    let depth = 3;
    const metrics = createMetrics({
      anchoringLag: async () => [{ tenant: 'acme', seconds: 12 }],
      queueDepth: async () => depth,
    });
    expect(await metrics.registry.metrics()).toMatch(/^warden_queue_depth 3$/m);
    depth = 0;
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^warden_queue_depth 0$/m);
    expect(text).toMatch(/^warden_anchoring_lag_seconds\{tenant="acme"\} 12$/m);
  });

  it('leaves out the gauges whose source is not wired', async () => {
    const text = await createMetrics().registry.metrics();
    expect(text).not.toContain('warden_queue_depth');
    expect(text).not.toContain('warden_anchoring_lag_seconds');
    expect(text).toContain('# TYPE warden_runs_total counter');
  });
});
