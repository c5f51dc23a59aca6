/**
 * The `warden` command driven in-process through runCli: exit codes (0 ok, 1 failure, 2 usage), what
 * lands on stdout and stderr, and the effect on a real embedded data dir.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { EvidenceBundle } from '../../src/ledger/bundle.js';
import { openDatabase } from '../../src/storage/database.js';
import { authenticateToken } from '../../src/tenancy/api-token.js';

interface Captured {
  code: number;
  out: string[];
  err: string[];
}

let dir: string;
let dataDir: string;
let configFile: string;

/** Runs the CLI with the suite's data dir and config, capturing both streams. */
async function cli(...args: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--data-dir', dataDir, '--config', configFile, ...args], {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out, err };
}

const readBundle = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;

beforeAll(() => {
  // The CLI reads its settings from the environment: keep the suite on the embedded database.
  for (const name of ['DATABASE_URL', 'WARDEN_CONFIG', 'WARDEN_DATA_DIR', 'WARDEN_SIGNING_KEY']) {
    vi.stubEnv(name, '');
  }
  vi.stubEnv('LOG_LEVEL', 'error');
  dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
  dataDir = join(dir, 'data');
  configFile = join(dir, 'warden.yaml');
  writeFileSync(configFile, 'tenants:\n  - id: alpha\n    name: Alpha Inc\n    tier: free\n');
});

afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('warden migrate', { timeout: 120_000 }, () => {
  it('applies the migrations on a fresh data dir, then says it is up to date', async () => {
    const first = await cli('migrate');
    expect(first.code).toBe(0);
    expect(first.out.join('\n')).toMatch(/^Applied: 0001_foundation/);
    const second = await cli('migrate');
    expect(second).toEqual({ code: 0, out: ['Already up to date.'], err: [] });
  });
});

describe('warden tenant create', { timeout: 120_000 }, () => {
  it('creates a tenant and prints its receipt id', async () => {
    const { code, out } = await cli('tenant', 'create', 'beta', '--tier', 'pro');
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.stringMatching(
        /^Created tenant beta \(pro\); receipt [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.$/,
      ),
    ]);
  });

  it('exits 1 saying the tenant already exists when the id is taken', async () => {
    const { code, out, err } = await cli('tenant', 'create', 'beta', '--tier', 'pro');
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('\n')).toContain('Tenant beta already exists.');
  });

  it('exits 2 listing the allowed tiers when the tier is unknown', async () => {
    const { code, err } = await cli('tenant', 'create', 'gamma', '--tier', 'gold');
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/'gold' is invalid.*free, pro, enterprise/s);
  });

  it('exits 2 when the tenant id is not lowercase letters, digits and -', async () => {
    const { code, err } = await cli('tenant', 'create', 'Not_Valid', '--tier', 'free');
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('tenant id "Not_Valid" is invalid');
  });
});

describe('warden token create', { timeout: 120_000 }, () => {
  it('prints only the token on stdout, and the token authenticates for its tenant', async () => {
    const { code, out, err } = await cli('token', 'create', '--tenant', 'beta', '--scope', 'read');
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const token = out[0] as string;
    expect(token).toMatch(/^wdn_[A-Za-z0-9_-]{43}$/);
    expect(err.join('\n')).toContain('it is not shown again');
    expect(err.join('\n')).not.toContain(token);

    const db = await openDatabase({ dataDir, purpose: 'cli test' });
    try {
      const principal = await authenticateToken(db.knex, token, { serverOnLoopback: false });
      expect(principal).toMatchObject({ tenant: 'beta', tier: 'pro', scope: 'read' });
      expect(await authenticateToken(db.knex, `${token}x`, { serverOnLoopback: false })).toBe(
        undefined,
      );
    } finally {
      await db.close();
    }
  });

  it('exits 1 saying the tenant does not exist when it is unknown', async () => {
    const { code, out, err } = await cli('token', 'create', '--tenant', 'nope', '--scope', 'read');
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('\n')).toContain('Tenant nope does not exist');
  });

  it('exits 2 when the scope is missing', async () => {
    const { code, err } = await cli('token', 'create', '--tenant', 'beta');
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('--scope');
  });
});

describe('warden export and verify', { timeout: 120_000 }, () => {
  it('exports a bundle of the tenant that verifies', async () => {
    const file = join(dir, 'f.json');
    const exported = await cli('export', '--tenant', 'beta', '--out', file);
    expect(exported.code).toBe(0);
    expect(exported.out.join('\n')).toContain(`Wrote 2 receipt(s) (seq 1..2) of beta to ${file}`);
    const bundle = readBundle(file);
    expect(bundle.format).toBe('warden-evidence/v1');
    expect(bundle.receipts.map((r) => r.payload.kind)).toEqual(['tenant.created', 'token.created']);

    const verified = await cli('verify', file);
    expect(verified.code).toBe(0);
    expect(verified.out.at(-1)).toBe('OK: every check passed.');
    expect(verified.out.filter((l) => l.includes('✓'))).toHaveLength(11); // disclosures too
  });

  it('anchors an Enterprise tenant before export: every receipt is proven in a signed checkpoint', async () => {
    expect((await cli('tenant', 'create', 'gamma', '--tier', 'enterprise')).code).toBe(0);
    const file = join(dir, 'gamma.json');
    expect((await cli('export', '--tenant', 'gamma', '--out', file)).code).toBe(0);
    const bundle = readBundle(file) as ReturnType<typeof readBundle> & {
      proofs: unknown[];
      checkpoint: string | null;
    };
    expect(bundle.proofs).toHaveLength(bundle.receipts.length);
    expect(bundle.checkpoint).toMatch(/\/gamma\n1\n/);
    const verified = await cli('verify', file);
    expect(verified.code).toBe(0);
    expect(verified.out.join('\n')).toMatch(/✓ inclusion\s+1 receipt\(s\) proven included/);
  });

  it('exits 1 naming the failed check when a receipt of the bundle was altered', async () => {
    const bundle = readBundle(join(dir, 'f.json'));
    const first = bundle.receipts[0];
    if (!first) throw new Error('the bundle has no receipts');
    first.payload = { ...first.payload, kind: 'tenant.deleted' };
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(bundle));
    const { code, out } = await cli('verify', tampered);
    expect(code).toBe(1);
    expect(out.join('\n')).toMatch(/✗ digests\s+receipt \S+ \(seq 1/);
    expect(out.at(-1)).toBe('FAILED: the bundle does not verify.');
  });

  it('exports an empty bundle that verifies when nothing is after --since', async () => {
    const file = join(dir, 'g.json');
    const { code, out } = await cli(
      'export',
      '--tenant',
      'beta',
      '--since',
      '2999-01-01T00:00:00Z',
      '--out',
      file,
    );
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('Wrote 0 receipt(s) of beta');
    const bundle = readBundle(file);
    expect(bundle.receipts).toEqual([]);
    expect(bundle.range.since).toBe('2999-01-01T00:00:00.000Z');
    expect((await cli('verify', file)).code).toBe(0);
  });

  it('exits 2 without writing a file when --since is not a date', async () => {
    const file = join(dir, 'h.json');
    const { code, err } = await cli(
      'export',
      '--tenant',
      'beta',
      '--since',
      'notadate',
      '--out',
      file,
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('expected an ISO 8601 date or time');
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  it('exits 1 when the bundle file does not exist', async () => {
    const { code, err } = await cli('verify', join(dir, 'missing.json'));
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('missing.json does not exist');
  });
});

describe('warden --help', () => {
  it.each([
    [['serve'], ['--port <port>']],
    [['migrate'], ['apply database migrations', '--help']],
    [
      ['tenant', 'create'],
      ['<id>', '--tier <tier>', 'free', 'pro', 'enterprise', '--name'],
    ],
    [
      ['token', 'create'],
      ['--tenant <id>', '--scope <scope>', 'ingest', 'admin', '--name'],
    ],
    [['export'], ['--tenant <id>', '--since <iso>', '--until <iso>', '--out <file>']],
    [['verify'], ['<bundle>']],
    [[], ['--config <file>', '--data-dir <dir>', 'serve', 'migrate', 'tenant', 'export']],
  ])('lists the options of "warden %s" and exits 0', async (command, expected) => {
    const { code, out } = await cli(...command, '--help');
    expect(code).toBe(0);
    const help = out.join('\n');
    expect(help).toContain(`Usage: warden ${command.join(' ')}`.trimEnd());
    for (const text of expected) expect(help).toContain(text);
  });

  it('exits 2 and says so when the command is unknown', async () => {
    const { code, err } = await cli('frobnicate');
    expect(code).toBe(2);
    expect(err.join('\n')).toContain("unknown command 'frobnicate'");
  });
});
