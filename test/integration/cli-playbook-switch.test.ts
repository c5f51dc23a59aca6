/**
 * `warden playbook disable|enable` driven in-process through runCli on an embedded data dir: the line
 * it prints, exit codes, and the state and receipts left in the database (surviving the playbook sync
 * every command does at start).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { openDatabase } from '../../src/storage/database.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/playbooks');
const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
let dir: string;

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    ['--config', join(dir, 'warden.yaml'), '--data-dir', join(dir, 'data'), ...argv],
    { out: (l) => out.push(l), err: (l) => err.push(l) },
  );
  return { code, out, err: err.join('\n') };
}

/** Reads the embedded database between commands (each command holds it only while it runs). */
async function inDatabase<T>(fn: (knex: import('knex').Knex) => Promise<T>): Promise<T> {
  const db = await openDatabase({ dataDir: join(dir, 'data'), purpose: 'cli test' });
  try {
    return await fn(db.knex);
  } finally {
    await db.close();
  }
}

beforeAll(() => {
  // The CLI reads its settings from the environment: keep the suite on the embedded database.
  for (const name of ['DATABASE_URL', 'WARDEN_CONFIG', 'WARDEN_DATA_DIR', 'WARDEN_SIGNING_KEY']) {
    vi.stubEnv(name, '');
  }
  vi.stubEnv('LOG_LEVEL', 'error');
  dir = mkdtempSync(join(tmpdir(), 'warden-cli-switch-'));
  writeFileSync(
    join(dir, 'warden.yaml'),
    `tenants:\n  - { id: acme, tier: enterprise, playbooks: ${JSON.stringify(fixtures)} }\n`,
  );
});

afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('warden playbook disable and enable', { timeout: 120_000 }, () => {
  it('disables a playbook, printing the receipt id, and records why', async () => {
    const { code, out, err } = await cli(
      'playbook',
      'disable',
      'notify-oncall',
      '--tenant',
      'acme',
      '--reason',
      'paging the wrong team',
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.stringMatching(
        new RegExp(`^Disabled playbook notify-oncall of acme; receipt ${uuid}\\.$`),
      ),
    ]);
    const receiptId = out[0]?.match(new RegExp(uuid))?.[0];
    const { row, receipt } = await inDatabase(async (knex) => ({
      row: await knex('playbooks').where({ tenant_id: 'acme', name: 'notify-oncall' }).first(),
      receipt: await knex('receipts').where({ id: receiptId }).first('kind', 'body'),
    }));
    expect(row).toMatchObject({ disabled: true, disabled_reason: 'paging the wrong team' });
    expect(receipt?.kind).toBe('playbook.disabled');
    expect(JSON.parse(receipt?.body)).toMatchObject({
      playbook: 'notify-oncall',
      actor: 'cli',
      reason: 'paging the wrong team',
    });
  });

  it('says so and changes nothing when the playbook is already disabled', async () => {
    const { code, out } = await cli('playbook', 'disable', 'notify-oncall', '--tenant', 'acme');
    expect(code).toBe(0);
    expect(out).toEqual(['Playbook notify-oncall of acme is already disabled; nothing changed.']);
  });

  it('enables it again with a playbook.enabled receipt', async () => {
    const { code, out } = await cli('playbook', 'enable', 'notify-oncall', '--tenant', 'acme');
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.stringMatching(
        new RegExp(`^Enabled playbook notify-oncall of acme; receipt ${uuid}\\.$`),
      ),
    ]);
    const row = await inDatabase((knex) =>
      knex('playbooks').where({ tenant_id: 'acme', name: 'notify-oncall' }).first(),
    );
    expect(row).toMatchObject({ disabled: false, disabled_reason: null });
    expect(row.enabled_at).toBeInstanceOf(Date);
    const again = await cli('playbook', 'enable', 'notify-oncall', '--tenant', 'acme');
    expect(again.out).toEqual([
      'Playbook notify-oncall of acme is already enabled; nothing changed.',
    ]);
  });

  it('exits 1 for an unknown playbook and 2 for a missing --tenant or an overlong reason', async () => {
    const unknown = await cli('playbook', 'disable', 'nope', '--tenant', 'acme');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('No playbook named nope in tenant acme.');
    const missing = await cli('playbook', 'enable', 'notify-oncall');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--tenant');
    const long = await cli(
      'playbook',
      'disable',
      'notify-oncall',
      '--tenant',
      'acme',
      '--reason',
      'x'.repeat(1001),
    );
    expect(long.code).toBe(2);
    expect(long.err).toContain('longer than 1000 characters');
  });
});
