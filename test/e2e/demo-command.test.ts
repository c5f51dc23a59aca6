/**
 * `warden demo` end to end: the command, as a newcomer runs it, against a served Warden on the demo
 * config (examples/warden.yaml and its playbooks, copied with the demo target's port rewritten to
 * a free one so runs never collide) and the demo target with its chat sink. Its narration must
 * show all five steps, and what it claims must be true in Warden's API, the bucket and on disk.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoTarget, startDemoTarget } from '../../examples/demo-target/server.js';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config.js';
import { prepareDemoWorkspace } from '../../src/demo/demo-workspace.js';
import { type Server, serve } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';

describe('warden demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-demo-'));
  let target: DemoTarget;
  let server: Server;
  const lines: string[] = [];
  let code = -1;

  beforeAll(async () => {
    target = await startDemoTarget({ port: 0, recoveryMs: 500 });
    const configFile = prepareDemoWorkspace(dir, new URL(target.url).host);
    const config = loadConfig({
      configFile,
      env: { PORT: '0', HOST: '127.0.0.1', WARDEN_DATA_DIR: join(dir, 'data') },
      cwd: dir,
    });
    server = await serve(config, { logger: createLogger({ level: 'silent' }) });
    code = await runCli(
      ['demo', '--url', server.url, '--target', target.url, '--out', join(dir, 'out')],
      { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`) },
    );
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const text = () => lines.join('\n');

  it('narrates the five steps and ends cleanly', () => {
    expect(code, text()).toBe(0);
    for (const step of ['[1/5]', '[2/5]', '[3/5]', '[4/5]', '[5/5]', 'Done.']) {
      expect(text()).toContain(step);
    }
    expect(text()).not.toContain('✗');
  });

  it('step 1: receipt-lag succeeded, every receipt proved, the bundle verified offline', () => {
    expect(text()).toMatch(/✓ run \S+ succeeded .*\(receipt-lag v1/);
    expect(text()).toMatch(/#\d+\s+run\.simulated\s+✓ leaf/);
    expect(text()).toMatch(/#\d+\s+run\.finished\s+✓ leaf/);
    expect(text()).toContain('node docs/verify-bundle.mjs: OK, every check passed');
    expect(existsSync(join(dir, 'out/acme-bundle.json'))).toBe(true);
  });

  it('step 2 and the target: each action reached the demo target once', async () => {
    expect(text()).toMatch(/✓ run \S+ succeeded .*\(metering-lag v1/);
    const { calls } = (await (await fetch(`${target.url}/admin/calls`)).json()) as {
      calls: Array<{ path: string; replayed: boolean }>;
    };
    const count = (path: string) => calls.filter((c) => c.path === path && !c.replayed).length;
    expect(count('/admin/restart')).toBe(1);
    expect(count('/admin/cache/purge')).toBe(2);
    // One good rerun, two that crashed while the rollup job was broken.
    expect(count('/admin/rollup/rerun')).toBe(3);
  });

  it('step 3: the Trust Report is in the bucket, with its delivery receipt', () => {
    expect(text()).toMatch(/✓ deliver\[0\]: delivered after 1 attempt\(s\) → file:/);
    expect(text()).toContain('the file in the bucket matches the SHA-256 in the report receipt');
    expect(text()).toMatch(/receipt #\d+ delivery\.finished → bucket file:.*: delivered/);
    expect(
      readdirSync(join(dir, 'bucket/acme')).some((f) => f.startsWith('acme-trust-report-')),
    ).toBe(true);
  });

  it('step 4: a budget denial approved in chat, a breaker, and the figures', () => {
    expect(text()).toMatch(/denied by the budget \(actions_per_hour_exceeded\)/);
    expect(text()).toContain('teams:aad-demo-oncall clicked Approve: approved');
    expect(text()).toMatch(/us-east-1: run \S+ succeeded after approval/);
    expect(text()).toContain('metering-lag is disabled by its breaker: 2 consecutive failed runs');
    expect(text()).toContain('a third MeteringLag starts no run: the playbook is off');
    expect(text()).toMatch(/last 24 h: 6 runs — 4 succeeded, 2 failed/);
    const cards = target.chat().filter((m) => m.actions.some((a) => a.verb === 'approve'));
    expect(cards.length).toBeGreaterThanOrEqual(1);
  });

  it('step 5: the posture pack is on disk and its manifest checks', () => {
    expect(text()).toMatch(/posture: \d+ files; MANIFEST\.json ✓ matches every file/);
    expect(existsSync(join(dir, 'out/posture/MANIFEST.json'))).toBe(true);
    expect(existsSync(join(dir, 'out/posture/evaluation/plan.html'))).toBe(true);
  });

  it('can run again on the same Warden (budgets spent, breakers reset)', async () => {
    const again: string[] = [];
    const second = await runCli(
      ['demo', '--url', server.url, '--target', target.url, '--out', join(dir, 'out2')],
      { out: (l) => again.push(l), err: (l) => again.push(`ERR ${l}`) },
    );
    expect(second, again.join('\n')).toBe(0);
    expect(again.join('\n')).toContain('Done.');
  }, 240_000);
});
