import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { WardenError } from '../errors.js';
import { definePlugin, defineStep, type PluginDefinition, z } from '../sdk/index.js';
import { Secret } from '../secret.js';
import { plugins } from './index.js';
import { validatePluginSettings, validatePlugins } from './registry.js';

const step = defineStep({
  description: 'does nothing',
  input: z.object({}),
  risk: 'none',
  reversible: false,
  targets: () => [],
  simulate: () => ({ summary: 'nothing' }),
  execute: async () => ({}),
});

const plugin = (name: string, steps: Record<string, unknown> = { noop: step }) =>
  ({ name, version: '1.0.0', description: name, steps }) as PluginDefinition;

function problemsOf(list: readonly PluginDefinition[]): string[] {
  try {
    validatePlugins(list);
  } catch (err) {
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).code).toBe('config_invalid');
    return (err as WardenError).details as string[];
  }
  throw new Error('expected validatePlugins to throw');
}

describe('validatePlugins', () => {
  it('returns every built-in step by plugin.step', () => {
    const catalog = validatePlugins(plugins);
    expect([...catalog.keys()].sort()).toEqual([
      'chat.notify',
      'http.request',
      'kubernetes.rolloutRestart',
      'kubernetes.scale',
      'pagerduty.acknowledge',
      'pagerduty.note',
      'pagerduty.resolve',
      'prometheus.expect',
      'prometheus.query',
      'wait.sleep',
    ]);
    expect(catalog.get('http.request')?.plugin.name).toBe('http');
    expect(catalog.get('http.request')?.step.risk).toBe('write');
  });

  it('refuses two plugins with the same name', () => {
    expect(problemsOf([plugin('ops'), plugin('ops')])).toEqual([
      'plugin "ops": declared twice. Fix: give each plugin its own name.',
    ]);
  });

  it('refuses plugin and step names the playbook syntax cannot address', () => {
    const problems = problemsOf([plugin('Ops'), plugin('k8s', { 'scale-up': step })]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('plugin "Ops"');
    expect(problems[1]).toContain('step k8s.scale-up');
  });

  it('lists every missing or invalid part of a step in one error', () => {
    const broken = { description: 'x', input: {}, risk: 'dangerous', reversible: true };
    const problems = problemsOf([plugin('ops', { broken }), plugin('empty', {})]);
    expect(problems).toEqual([
      'step ops.broken: needs an input zod schema.',
      'step ops.broken: risk must be one of none, read, write, destructive.',
      'step ops.broken: needs targets(input).',
      'step ops.broken: needs simulate(ctx, input).',
      'step ops.broken: needs execute(ctx, input).',
      'step ops.broken: is reversible but has no rollback.',
      'plugin "empty": declares no steps.',
    ]);
  });

  it('puts every problem in the message so start-up shows them all', () => {
    expect(() => validatePlugins([plugin('A'), plugin('A')])).toThrow(
      /3 problem\(s\):\n {2}- plugin "A": a name is .*\n.*\n {2}- plugin "A": declared twice/,
    );
  });
});

describe('validatePluginSettings', () => {
  const withSettings = definePlugin({
    name: 'prom',
    version: '1.0.0',
    description: 'settings example',
    settings: z.strictObject({ url: z.url() }),
    secrets: ['token'],
    steps: { noop: step },
  });
  const list = [...plugins, withSettings];
  const tenant = (plugins: Record<string, Record<string, unknown>>) => ({
    id: 'acme',
    plugins: Object.fromEntries(
      Object.entries(plugins).map(([k, v]) => [k, { allowedHosts: [], secrets: {}, ...v }]),
    ),
  });

  it('finds no problem in settings that fit', () => {
    const good = tenant({
      http: { allowedHosts: ['ingest.internal', '*.svc.cluster.local:8443'] },
      prom: { url: 'http://prometheus:9090', secrets: { token: new Secret('t', 'env:T') } },
    });
    expect(validatePluginSettings(list, [good])).toEqual([]);
  });

  it('reports a plugin the registry does not know, naming the known ones', () => {
    const [problem] = validatePluginSettings(list, [tenant({ htp: {} })]);
    expect(problem).toBe(
      'tenants[0] (acme) plugins.htp: no plugin is called htp. Fix: use one of http, wait, chat, prometheus, pagerduty, kubernetes, prom.',
    );
  });

  it("reports settings the plugin's schema rejects, with their path", () => {
    const problems = validatePluginSettings(list, [tenant({ prom: { url: 'not a url', x: 1 } })]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^tenants\[0\] \(acme\) plugins\.prom\.url: /);
    expect(problems[1]).toContain('plugins.prom: Unrecognized key: "x"');
  });

  it('reports settings given to a plugin that takes none', () => {
    expect(validatePluginSettings(list, [tenant({ http: { allowedHost: ['a.b'] } })])).toEqual([
      'tenants[0] (acme) plugins.http.allowedHost: plugin http takes no settings besides allowedHosts and secrets.',
    ]);
  });

  it('reports allowedHosts entries that could never match and secrets no step reads', () => {
    const problems = validatePluginSettings(list, [
      tenant({
        http: { allowedHosts: ['ok.internal', 'https://ingest.internal'] },
        prom: { url: 'http://p:9090', secrets: { tokn: new Secret('t', 'env:T') } },
      }),
    ]);
    expect(problems).toEqual([
      'tenants[0] (acme) plugins.http.allowedHosts[1]: "https://ingest.internal": write the host alone, without a scheme (ingest.internal).',
      'tenants[0] (acme) plugins.prom.secrets.tokn: plugin prom reads no such secret (one of token).',
    ]);
  });

  it('checks tenants as loadConfig returns them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-registry-'));
    const file = join(dir, 'warden.yaml');
    const yaml = [
      'tenants:',
      '  - id: acme',
      '    plugins: { http: { allowedHosts: [ingest.internal] }, wait: {} }',
      '  - id: globex',
      '    plugins: { pagerdutty: { secrets: { token: env:PD } } }',
    ];
    writeFileSync(file, `${yaml.join('\n')}\n`);
    const config = loadConfig({ configFile: file, env: { PD: 'x' } });
    const problems = validatePluginSettings(plugins, config.tenants);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('tenants[1] (globex) plugins.pagerdutty: no plugin');
  });
});
