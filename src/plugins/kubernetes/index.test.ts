import { describe, expect, it } from 'vitest';
import { validatePlugins } from '../registry.js';
import { kubernetesPlugin } from './index.js';

describe('kubernetesPlugin', () => {
  it('registers kubernetes.scale and kubernetes.rolloutRestart', () => {
    const catalog = validatePlugins([kubernetesPlugin]);
    expect([...catalog.keys()]).toEqual(['kubernetes.scale', 'kubernetes.rolloutRestart']);
  });

  it('allows the host of its API server, with the port when there is one', () => {
    expect(kubernetesPlugin.hosts({ apiUrl: 'https://kubernetes.default.svc' })).toEqual([
      'kubernetes.default.svc',
    ]);
    expect(kubernetesPlugin.hosts({ apiUrl: 'https://10.0.0.1:6443/' })).toEqual(['10.0.0.1:6443']);
    expect(kubernetesPlugin.hosts({})).toEqual([]);
  });
});
