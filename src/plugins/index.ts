/** The plugin registry: every built-in plugin, in one literal list validated at start. */
import type { PluginDefinition } from '../sdk/index.js';
import { chatPlugin } from './chat/index.js';
import { httpPlugin } from './http/index.js';
import { kubernetesPlugin } from './kubernetes/index.js';
import { pagerDutyPlugin } from './pagerduty/index.js';
import { prometheusPlugin } from './prometheus/index.js';
import { waitPlugin } from './wait/index.js';

/**
 * @example
 * const catalog = validatePlugins(plugins); // from ./registry.js
 */
export const plugins = [
  httpPlugin,
  waitPlugin,
  chatPlugin,
  prometheusPlugin,
  pagerDutyPlugin,
  kubernetesPlugin,
] as const satisfies readonly PluginDefinition[];
