import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { exampleConfigPath, loadConfig } from './config.js';
import { isWardenError, type WardenError } from './errors.js';
import { createLogger } from './observability/logger.js';
import { Secret } from './secret.js';

/** A fresh folder, optionally holding `warden.yaml` (or another file name) with this YAML. */
function tempDir(yaml?: string, file = 'warden.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-config-'));
  if (yaml !== undefined) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), yaml);
  }
  return dir;
}

/** Runs `fn`, expecting it to throw a WardenError, and returns that error. */
function thrownBy(fn: () => unknown): WardenError {
  try {
    fn();
  } catch (err) {
    if (isWardenError(err)) return err;
    throw err;
  }
  throw new Error('expected a WardenError, nothing was thrown');
}

const secretToken = 'wdn_super_secret_value_7c1f2e9a';

describe('loadConfig', () => {
  it('applies defaults when the environment and the config file say nothing', () => {
    const cwd = tempDir('tenants: []\n');
    const config = loadConfig({ env: {}, cwd });
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.dataDir).toBe(resolve(cwd, '.warden'));
    expect(config.logLevel).toBe('info');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
    expect(config.configFile).toBe(join(cwd, 'warden.yaml'));
    expect(config.tenants).toEqual([]);
    expect(config.warnings).toEqual([]);
    expect(config.publicUrl).toBe('http://127.0.0.1:3000');
    expect(config.logOrigin).toBe('127.0.0.1');
  });

  it('takes the public URL and the log origin from the environment', () => {
    const cwd = tempDir('tenants: []\n');
    const config = loadConfig({
      env: { WARDEN_PUBLIC_URL: 'https://warden.example.com:8443/', PORT: '9000' },
      cwd,
    });
    expect(config.publicUrl).toBe('https://warden.example.com:8443');
    expect(config.logOrigin).toBe('warden.example.com');
    const pinned = loadConfig({ env: { WARDEN_LOG_ORIGIN: 'log.example.com/warden' }, cwd });
    expect(pinned.logOrigin).toBe('log.example.com/warden');
    expect(() => loadConfig({ env: { WARDEN_LOG_ORIGIN: 'has space' }, cwd })).toThrow(
      /WARDEN_LOG_ORIGIN/,
    );
  });

  it('treats empty environment variables as unset', () => {
    const config = loadConfig({ env: { PORT: '', HOST: '' }, cwd: tempDir('tenants: []\n') });
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
  });

  it('reads PORT, HOST and WARDEN_DATA_DIR, resolving the data dir against cwd', () => {
    const cwd = tempDir('tenants: []\n');
    const config = loadConfig({
      env: { PORT: '8080', HOST: '0.0.0.0', WARDEN_DATA_DIR: 'state' },
      cwd,
    });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.dataDir).toBe(join(cwd, 'state'));
  });

  it('lets the port and dataDir options override the environment', () => {
    const cwd = tempDir('tenants: []\n');
    const config = loadConfig({
      env: { PORT: '8080', WARDEN_DATA_DIR: 'state' },
      cwd,
      port: 0,
      dataDir: '/var/lib/warden',
    });
    expect(config.port).toBe(0);
    expect(config.dataDir).toBe('/var/lib/warden');
  });

  it('resolves env:NAME token values into Secrets holding the environment value', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tier: pro',
        '    tokens:',
        '      - { name: alertmanager, scope: ingest, value: env:ACME_INGEST }',
      ].join('\n'),
    );
    const config = loadConfig({
      env: { ACME_INGEST: secretToken, WARDEN_ADMIN_TOKEN: 'operator-token-0123456789' },
      cwd,
    });
    const token = config.tenants[0]?.tokens[0];
    expect(token?.value).toBeInstanceOf(Secret);
    expect(token?.value.reveal()).toBe(secretToken);
    expect(token?.value.source).toBe('env:ACME_INGEST');
    expect(token?.loopbackOnly).toBe(false);
    expect(config.adminToken?.reveal()).toBe('operator-token-0123456789');
    expect(config.warnings).toEqual([]);
  });

  it('lists every problem with its path and a fix in one config_invalid error', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tier: platinum',
        '  - id: globex',
        '    tokens:',
        '      - { name: bot, scope: read, value: env:GLOBEX_BOT_TOKEN }',
        '      - { name: bot, scope: admin, value: env:GLOBEX_ADMIN_TOKEN }',
        '  - id: acme',
        '    tier: pro',
      ].join('\n'),
    );
    const err = thrownBy(() =>
      loadConfig({
        env: { GLOBEX_ADMIN_TOKEN: 'wdn_globex_admin', PORT: 'eighty', DATABASE_URL: 'mysql://db' },
        cwd,
      }),
    );
    expect(err.code).toBe('config_invalid');
    const lines = err.message.split('\n').filter((l) => l.startsWith('  - '));
    const expected: Array<[string, RegExp]> = [
      ['tenants[0].tier', /platinum|free|enterprise/],
      ['tenants[1].tokens[0].value', /GLOBEX_BOT_TOKEN/],
      ['tenants[1].tokens[1].name', /bot/],
      ['tenants[2].id', /acme/],
      ['environment PORT', /number/],
      ['environment DATABASE_URL', /URL/i],
    ];
    for (const [path, about] of expected) {
      const line = lines.find((l) => l.startsWith(`  - ${path}:`));
      expect(line, `a line for ${path} in:\n${err.message}`).toBeDefined();
      expect(line).toMatch(about);
      expect(line).toContain('Fix:');
    }
    expect(lines).toHaveLength(expected.length);
  });

  it('checks report targets, the report schedule and outside witnesses, with their paths', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tier: enterprise',
        '    reports:',
        '      schedule: "61 * * * *"',
        '      deliver:',
        '        - { type: webhook, url: "http://hooks.example.com/in", secret: env:ACME_WHSEC }',
        '        - { type: carrier-pigeon }',
        '    anchoring:',
        '      witness:',
        '        - { type: bucket, url: "ftp://nope" }',
        '  - id: globex',
        '    reports:',
        '      deliver: [{ type: link }, { type: chat }]',
        '      alternate: { type: bucket, url: "file:///var/lib/warden/undelivered" }',
        '      linkTtl: 2d',
      ].join('\n'),
    );
    const err = thrownBy(() => loadConfig({ env: { ACME_WHSEC: 'not-a-secret' }, cwd }));
    for (const path of [
      'tenants[0].reports.schedule',
      'tenants[0].reports.deliver[0]',
      'tenants[0].reports.deliver[1]',
      'tenants[0].anchoring.witness[0]',
    ]) {
      expect(err.message, err.message).toContain(`  - ${path}`);
    }
    expect(err.message).not.toContain('not-a-secret');
    expect(err.message).not.toMatch(/tenants\[1\]/);
  });

  it("resolves a relative bucket folder (file:<dir>) against the config file's folder", () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    reports:',
        '      deliver: [{ type: bucket, url: "file:./bucket" }, { type: bucket, url: "file:///srv/out" }]',
        '      alternate: { type: bucket, url: "file:../spare" }',
      ].join('\n'),
    );
    const [acme] = loadConfig({ env: {}, cwd }).tenants;
    expect(acme?.reports.deliver).toEqual([
      { type: 'bucket', url: pathToFileURL(join(cwd, 'bucket')).href },
      { type: 'bucket', url: 'file:///srv/out' },
    ]);
    expect(acme?.reports.alternate).toEqual({
      type: 'bucket',
      url: pathToFileURL(join(cwd, '../spare')).href,
    });
  });

  it('gives weekly reports their defaults: customer audience, PDF, Mondays 06:00 UTC, 7-day links', () => {
    const cwd = tempDir(['tenants:', '  - id: acme', '    tier: enterprise'].join('\n'));
    const [acme] = loadConfig({ env: {}, cwd }).tenants;
    expect(acme?.reports).toEqual({
      audience: 'customer',
      format: 'pdf',
      schedule: '0 6 * * 1',
      deliver: [],
      linkTtl: 7 * 86_400_000,
    });
    expect(acme?.anchoring).toEqual({ witness: [] });
  });

  it('reports a missing env var even in a tenant that has another problem', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tier: platinum',
        '    tokens:',
        '      - { name: bot, scope: read, value: env:ACME_BOT_TOKEN }',
      ].join('\n'),
    );
    const err = thrownBy(() => loadConfig({ env: {}, cwd }));
    expect(err.message).toMatch(/tenants\[0\]\.tier: .*Fix:/);
    expect(err.message).toMatch(/tenants\[0\]\.tokens\[0\]\.value: .*ACME_BOT_TOKEN.*Fix:/);
  });

  it('does not tell the user to add PORT when PORT is set but not a number', () => {
    const err = thrownBy(() => loadConfig({ env: { PORT: 'eighty' }, cwd: tempDir('{}\n') }));
    const line = err.message.split('\n').find((l) => l.includes('environment PORT'));
    expect(line).toContain('Fix:');
    expect(line).not.toMatch(/Fix: add PORT/);
  });

  it('rejects a PORT outside 0..65535', () => {
    const err = thrownBy(() => loadConfig({ env: { PORT: '70000' }, cwd: tempDir('{}\n') }));
    expect(err.code).toBe('config_invalid');
    expect(err.message).toMatch(/environment PORT: .*65535.*Fix:/);
  });

  it('reports a duplicate tenant id and a duplicate token name with their paths', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tokens:',
        '      - { name: bot, scope: read, loopbackOnly: true, value: wdn_a }',
        '      - { name: bot, scope: read, loopbackOnly: true, value: wdn_b }',
        '  - id: acme',
      ].join('\n'),
    );
    const err = thrownBy(() => loadConfig({ env: {}, cwd }));
    expect(err.code).toBe('config_invalid');
    expect(err.message).toMatch(/tenants\[0\]\.tokens\[1\]\.name: token name "bot" .*Fix:/);
    expect(err.message).toMatch(/tenants\[1\]\.id: tenant id "acme" .*Fix:/);
  });

  it('never puts a secret value in the error when validation fails', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tokens:',
        '      - { name: bot, scope: root, value: env:ACME_BOT }',
      ].join('\n'),
    );
    const err = thrownBy(() => loadConfig({ env: { ACME_BOT: secretToken }, cwd }));
    expect(err.message).toContain('tenants[0].tokens[0].scope');
    expect(err.message).not.toContain(secretToken);
    expect(JSON.stringify(err.details)).not.toContain(secretToken);
  });

  it('names the file, the line and a fix when the YAML does not parse', () => {
    const cwd = tempDir('tenants:\n  - id: acme\n   tier: pro\n');
    const err = thrownBy(() => loadConfig({ env: {}, cwd }));
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain(join(cwd, 'warden.yaml'));
    expect(err.message).toMatch(/not valid YAML/);
    expect(err.message).toMatch(/line \d+/);
    expect(err.message).toContain('Fix:');
  });

  it('fails with config_invalid when WARDEN_CONFIG points to a missing file', () => {
    const cwd = tempDir('tenants: []\n');
    const err = thrownBy(() => loadConfig({ env: { WARDEN_CONFIG: 'nope/warden.yaml' }, cwd }));
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain(join(cwd, 'nope/warden.yaml'));
    expect(err.message).toContain('Fix:');
  });

  it('prefers WARDEN_CONFIG, resolved against cwd, over ./warden.yaml', () => {
    const cwd = tempDir('tenants: [{ id: local }]\n');
    writeFileSync(join(cwd, 'other.yaml'), 'tenants: [{ id: named }]\n');
    const config = loadConfig({ env: { WARDEN_CONFIG: 'other.yaml' }, cwd });
    expect(config.configFile).toBe(join(cwd, 'other.yaml'));
    expect(config.tenants.map((t) => t.id)).toEqual(['named']);
  });

  it('lets the configFile option override WARDEN_CONFIG', () => {
    const cwd = tempDir('tenants: [{ id: chosen }]\n', 'chosen.yaml');
    const config = loadConfig({
      env: { WARDEN_CONFIG: 'missing.yaml' },
      cwd,
      configFile: 'chosen.yaml',
    });
    expect(config.tenants.map((t) => t.id)).toEqual(['chosen']);
  });

  it('warns about a literal token value but not about a loopbackOnly one', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tokens:',
        `      - { name: inline, scope: read, value: ${secretToken} }`,
        '      - { name: demo, scope: read, loopbackOnly: true, value: wdn_demo_value_0123456 }',
      ].join('\n'),
    );
    const config = loadConfig({ env: {}, cwd });
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toMatch(/acme.*inline/);
    expect(config.warnings[0]).toContain('env:NAME');
    expect(config.warnings[0]).not.toContain(secretToken);
    expect(config.tenants[0]?.tokens[0]?.value.reveal()).toBe(secretToken);
    expect(config.tenants[0]?.tokens[1]?.loopbackOnly).toBe(true);
  });

  it('rejects a token shorter than 16 characters, naming its length but not its value', () => {
    const cwd = tempDir(
      'tenants: [{ id: acme, tokens: [{ name: weak, scope: read, value: hunter2 }] }]',
    );
    const err = thrownBy(() => loadConfig({ env: {}, cwd }));
    expect(err.message).toContain(
      'tenants[0].tokens[0].value: a token must have 16 to 512 characters',
    );
    expect(err.message).not.toContain('hunter2');
  });

  it('rejects one token value shared by two tenants', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - { id: acme, tokens: [{ name: a, scope: read, value: env:SHARED }] }',
        '  - { id: globex, tokens: [{ name: b, scope: admin, value: env:SHARED }] }',
      ].join('\n'),
    );
    const err = thrownBy(() => loadConfig({ env: { SHARED: secretToken }, cwd }));
    expect(err.message).toContain(
      'tenants[1].tokens[0].value: this token value is also used by tenant acme token a',
    );
    expect(err.message).not.toContain(secretToken);
  });

  it('returns a deep-frozen config that throws on assignment', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tokens: [{ name: demo, scope: read, loopbackOnly: true, value: wdn_demo_0123456789ab }]',
        '    plugins: { http: { allowedHosts: [ingest.internal] } }',
      ].join('\n'),
    );
    const config = loadConfig({ env: {}, cwd });
    const tenant = config.tenants[0] as { tier: string; tokens: unknown[] };
    const hosts = config.tenants[0]?.plugins.http?.allowedHosts as string[];
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      tenant.tier = 'enterprise';
    }).toThrow(TypeError);
    expect(() => tenant.tokens.push({})).toThrow(TypeError);
    expect(() => hosts.push('evil.example')).toThrow(TypeError);
    expect(() => {
      (config.slack as { apiUrl?: string }).apiUrl = 'http://evil.example';
    }).toThrow(TypeError);
    expect(config.port).toBe(3000);
    expect(config.tenants[0]?.tier).toBe('free');
  });

  it("resolves relative playbooks and policies paths against the config file's folder", () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    playbooks: ./playbooks/acme',
        '    policies: ../policies/acme.cedar',
        '  - id: globex',
        '    playbooks: /srv/playbooks/globex',
      ].join('\n'),
      'conf/warden.yaml',
    );
    const config = loadConfig({ env: {}, cwd, configFile: 'conf/warden.yaml' });
    expect(config.tenants[0]?.playbooks).toBe(join(cwd, 'conf/playbooks/acme'));
    expect(config.tenants[0]?.policies).toBe(join(cwd, 'policies/acme.cedar'));
    expect(config.tenants[1]?.playbooks).toBe('/srv/playbooks/globex');
  });

  it('falls back to examples/warden.yaml when there is no config anywhere', () => {
    const config = loadConfig({ env: {}, cwd: tempDir() });
    expect(config.configFile).toBe(exampleConfigPath);
    expect(config.tenants.map((t) => [t.id, t.tier])).toEqual([
      ['acme', 'enterprise'],
      ['globex', 'pro'],
    ]);
    expect(config.tenants.flatMap((t) => t.tokens).every((t) => t.loopbackOnly)).toBe(true);
    expect(config.warnings).toEqual([]);
  });
});

describe('Secret', () => {
  const secret = new Secret(secretToken, 'env:ACME_INGEST');

  it('never prints its value through JSON, String or util.inspect', () => {
    expect(JSON.stringify({ token: secret })).toBe('{"token":"[secret]"}');
    expect(String(secret)).toBe('[secret]');
    expect(`${secret}`).toBe('[secret]');
    expect(inspect(secret)).toBe('Secret(env:ACME_INGEST)');
    expect(inspect({ nested: { secret } }, { depth: null })).not.toContain(secretToken);
    expect(secret.reveal()).toBe(secretToken);
  });

  it('keeps a whole loaded config free of secret values when serialised', () => {
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tokens: [{ name: bot, scope: admin, value: env:ACME_BOT }]',
      ].join('\n'),
    );
    const config = loadConfig({
      env: { ACME_BOT: secretToken, SLACK_SIGNING_SECRET: 'slack_signing_3b9f0e' },
      cwd,
    });
    for (const text of [JSON.stringify(config), inspect(config, { depth: null })]) {
      expect(text).not.toContain(secretToken);
      expect(text).not.toContain('slack_signing_3b9f0e');
    }
  });

  it('never reaches a pino log line, wherever it is nested', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const cwd = tempDir(
      [
        'tenants:',
        '  - id: acme',
        '    tokens: [{ name: bot, scope: admin, value: env:ACME_BOT }]',
      ].join('\n'),
    );
    const config = loadConfig({ env: { ACME_BOT: secretToken }, cwd });
    logger.info({ config }, 'loaded');
    logger.info({ credentials: { bearer: secret } }, 'nested');
    logger.info({ apiKey: secret }, 'top level');
    logger.info(`message with ${secret}`);
    expect(lines).toHaveLength(4);
    const output = lines.join('');
    expect(output).not.toContain(secretToken);
    expect(JSON.parse(lines[2] as string).apiKey).toBe('[secret]');
    expect(JSON.parse(lines[3] as string).msg).toBe('message with [secret]');
  });
});
