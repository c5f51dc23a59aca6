import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/playbooks');
const dir = mkdtempSync(join(tmpdir(), 'warden-cli-pb-'));
const config = join(dir, 'warden.yaml');
writeFileSync(
  config,
  `tenants:\n  - { id: acme, tier: enterprise, playbooks: ${JSON.stringify(fixtures)} }\n`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--config', config, '--data-dir', join(dir, 'data'), ...argv], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('warden playbook and simulate', () => {
  it('validates good files and names every problem of a bad one, exiting 1', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: warden/v1\nkind: Playbook\nmetadata: { name: Bad }\nspec: { on: [], steps: [] }\n',
    );
    const good = await cli('playbook', 'validate', join(fixtures, 'notify.yaml'));
    expect(good.code).toBe(0);
    expect(good.out).toContain('✓');
    const result = await cli('playbook', 'validate', join(fixtures, 'notify.yaml'), bad);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/✗ .*bad\.yaml/);
    expect(result.out).toContain('metadata.name');
    expect(result.out).toContain('spec.on');
    expect(result.out).toContain('spec.steps');
  });

  it('reports a step no plugin provides', async () => {
    const file = join(dir, 'unknown-step.yaml');
    writeFileSync(
      file,
      'apiVersion: warden/v1\nkind: Playbook\nmetadata: { name: x }\nspec:\n  on: [{ cron: "0 * * * *" }]\n  steps: [{ id: a, uses: nope.doIt }]\n',
    );
    const result = await cli('playbook', 'validate', file);
    expect(result.code).toBe(1);
    expect(result.out).toContain('no plugin step named nope.doIt');
  });

  it("lists the config's playbooks with their triggers and steps", async () => {
    const result = await cli('playbook', 'list');
    expect(result.code).toBe(0);
    expect(result.out).toContain('acme:');
    expect(result.out).toMatch(/notify-oncall .* chat\.notify/);
    expect(result.out).toContain('cron "* * * * * *"');
  });

  it('simulates a playbook against an example event, receipted, and refuses an invalid input', async () => {
    const event = join(dir, 'event.json');
    writeFileSync(
      event,
      JSON.stringify({
        alert: { labels: { alertname: 'DiskFull', severity: 'page', instance: 'db-1' } },
      }),
    );
    const ok = await cli('simulate', 'notify-oncall', '--tenant', 'acme', '--event', event);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('trigger: matches');
    expect(ok.out).toMatch(/1\. tell \(chat\.notify, risk none\)/);
    expect(ok.out).toMatch(/receipt [0-9a-f-]{36}/);
    const missing = join(dir, 'missing.json');
    writeFileSync(missing, JSON.stringify({ alert: { labels: { alertname: 'CpuHigh' } } }));
    const denied = await cli('simulate', 'notify-oncall', '--tenant', 'acme', '--event', missing);
    expect(denied.code).toBe(1);
    expect(denied.out).toContain('tell (chat.notify) denied: invalid_input');
    expect(denied.out).toContain('would NOT start this playbook');
  });
});
