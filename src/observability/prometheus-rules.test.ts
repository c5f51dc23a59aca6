import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { requireServices } from '../../test/helpers/services.js';
import { metricNames } from './metrics.js';

const rulesFile = fileURLToPath(new URL('../../docs/prometheus-rules.yaml', import.meta.url));

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: Array<{ rules: Rule[] }> })
  .groups[0]?.rules as Rule[];

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).error === undefined;
if (!hasPromtool && requireServices) {
  throw new Error(
    'WARDEN_REQUIRE_SERVICES=1 but promtool is missing: install Debian’s `prometheus` package.',
  );
}
const withPromtool = hasPromtool ? it : it.skip;

const dir = mkdtempSync(join(tmpdir(), 'warden-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `promtool` with a file written for it; returns its exit status and output. */
function promtool(args: string[], file?: { name: string; text: string }) {
  if (file) writeFileSync(join(dir, file.name), file.text);
  const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

// Input series, one sample a minute; `a+bxn` is a, then n steps of +b (promtool's notation).
const series: Record<string, string> = {
  'warden_runs_total{tenant="acme",playbook="loop",status="failed"}': '0+20x20 400x40',
  'warden_runs_total{tenant="acme",playbook="calm",status="succeeded"}': '0+5x60',
  'warden_guardrail_decisions_total{tenant="acme",outcome="deny",reason="kill_switch:tenant"}':
    '0+1x40',
  'warden_guardrail_decisions_total{tenant="acme",outcome="allow",reason="none"}': '0+100x40',
  'warden_guardrail_decisions_total{tenant="globex",outcome="deny",reason="none"}': '0+0.5x40',
  'warden_budget_exceeded_total{tenant="acme",playbook="race",budget="actionsPerHour"}': '0+1x80',
  'warden_budget_exceeded_total{tenant="acme",playbook="calm",budget="costPerRun"}': '0+0.05x80',
  'warden_playbook_auto_disables_total{tenant="acme",playbook="flaky"}': '0x5 1x40',
  'warden_deliveries_total{tenant="acme",target="deliver[1]",outcome="failed"}': '0x30 1x80',
  'warden_deliveries_total{tenant="acme",target="deliver[0]",outcome="delivered"}': '0+1x110',
  'warden_anchoring_lag_seconds{tenant="acme"}': '0+60x30 0x20',
  'warden_anchoring_lag_seconds{tenant="globex"}': '0x50',
  warden_queue_depth: '150x30 0x10',
};

/** When each alert must be silent (pending or cleared) and when it fires, with which labels. */
const cases: Array<[alert: string, minute: number, firing: Array<Record<string, string>>]> = [
  ['WardenRunawayRunRate', 5, []],
  ['WardenRunawayRunRate', 15, [{ tenant: 'acme', playbook: 'loop' }]],
  ['WardenRunawayRunRate', 40, []],
  ['WardenRepeatedDenials', 12, []],
  ['WardenRepeatedDenials', 25, [{ tenant: 'acme' }]],
  ['WardenBudgetExceedAttempts', 3, []],
  [
    'WardenBudgetExceedAttempts',
    70,
    [{ tenant: 'acme', playbook: 'race', budget: 'actionsPerHour' }],
  ],
  ['WardenPlaybookAutoDisabled', 6, []],
  ['WardenPlaybookAutoDisabled', 8, [{ tenant: 'acme', playbook: 'flaky' }]],
  ['WardenPlaybookAutoDisabled', 30, []],
  ['WardenDeliveryFailures', 33, []],
  ['WardenDeliveryFailures', 40, [{ tenant: 'acme', target: 'deliver[1]' }]],
  ['WardenDeliveryFailures', 100, []],
  ['WardenAnchoringLag', 10, []],
  ['WardenAnchoringLag', 25, [{ tenant: 'acme' }]],
  ['WardenAnchoringLag', 45, []],
  ['WardenQueueBacklog', 10, []],
  ['WardenQueueBacklog', 20, [{}]],
  ['WardenQueueBacklog', 35, []],
];

const severityOf = (alert: string) => rules.find((r) => r.alert === alert)?.labels?.severity;

describe('docs/prometheus-rules.yaml', () => {
  it('alerts on runaway runs, denials, budgets, auto-disables, deliveries, anchoring, backlog', () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'WardenRunawayRunRate',
      'WardenRepeatedDenials',
      'WardenBudgetExceedAttempts',
      'WardenPlaybookAutoDisabled',
      'WardenDeliveryFailures',
      'WardenAnchoringLag',
      'WardenQueueBacklog',
    ]);
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(rule.labels?.severity, rule.alert).toMatch(/^(warning|critical)$/);
      expect(Object.keys(rule.annotations ?? {}).sort(), rule.alert).toEqual([
        'description',
        'summary',
      ]);
    }
  });

  it('names only metrics that createMetrics registers', () => {
    const known = new Set<string>(metricNames);
    const named = rules.flatMap((r) => r.expr.match(/\bwarden_[a-z_]+/g) ?? []);
    const unknown = named
      .map((n) => n.replace(/_(bucket|sum|count)$/, ''))
      .filter((n) => !known.has(n));
    expect(named.length).toBeGreaterThan(0);
    expect(unknown).toEqual([]);
  });

  withPromtool('passes promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', rulesFile]);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(status).toBe(0);
  });

  withPromtool('fires each alert at its threshold, not before, and clears it', () => {
    // Thresholds, on a copy without annotations (promtool compares those verbatim; their
    // rendering is checked below).
    const bare = {
      groups: [{ name: 'warden', rules: rules.map(({ annotations: _a, ...rest }) => rest) }],
    };
    writeFileSync(join(dir, 'bare-rules.yaml'), stringify(bare));
    const tests = {
      rule_files: ['bare-rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: Object.entries(series).map(([s, values]) => ({ series: s, values })),
          alert_rule_test: cases.map(([alertname, minute, firing]) => ({
            eval_time: `${minute}m`,
            alertname,
            exp_alerts: firing.map((labels) => ({
              exp_labels: { severity: severityOf(alertname), ...labels },
            })),
          })),
        },
      ],
    };
    const { status, output } = promtool(['test', 'rules', 'thresholds.yaml'], {
      name: 'thresholds.yaml',
      text: stringify(tests),
    });
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  withPromtool('renders annotations with the labels and value of the alert', () => {
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'warden_anchoring_lag_seconds{tenant="acme"}', values: '0+60x30' },
          ],
          alert_rule_test: [
            {
              eval_time: '25m',
              alertname: 'WardenAnchoringLag',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', tenant: 'acme' },
                  exp_annotations: {
                    summary: 'Receipts of acme are not being anchored',
                    description:
                      "The oldest receipt of acme not yet in its Merkle log has waited 25m 0s. Checkpoints are not being signed: check the database and the anchoring sweep in Warden's logs.",
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const { status, output } = promtool(['test', 'rules', 'annotations.yaml'], {
      name: 'annotations.yaml',
      text: stringify(tests),
    });
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });
});
