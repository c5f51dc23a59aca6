/**
 * Provable Posture Pack: built from a real ledger (anchored tenant, a real denial, a Trust Report),
 * every link of its pages resolves inside the pack, the signed manifest re-checks offline, the
 * standalone scripts pass on its artifacts, and one altered byte fails the manifest check.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAnchoring } from '../../src/ledger/anchor.js';
import { exportBundle } from '../../src/ledger/bundle.js';
import { canonicalBytes } from '../../src/ledger/canonical-json.js';
import { parseCheckpoint } from '../../src/ledger/checkpoint.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { leafHash, verifyInclusion } from '../../src/ledger/merkle.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { checkManifest, type PostureManifest, sha256Hex } from '../../src/posture/manifest.js';
import { buildPosturePack, type PostureResult } from '../../src/posture/pack.js';
import { isoWeekOf } from '../../src/reports/iso-week.js';
import { createPdfRenderer } from '../../src/reports/pdf.js';
import { makeTrustReport } from '../../src/reports/trust-report.js';
import { retentionSchema } from '../../src/retention/policy.js';
import { purge } from '../../src/retention/purge.js';
import { chromiumUnderTest } from '../helpers/chromium.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

const logger = pino({ level: 'silent' });
const tenant = 'acme';
const has = (tool: string, arg = '--version') => spawnSync(tool, [arg]).error === undefined;
const shellTools = has('openssl', 'version') && has('jq') && has('basenc');

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** Every href/src of a page, resolved against the page's folder, fragments and queries dropped. */
async function linksOf(dir: string, page: string): Promise<string[]> {
  const html = await readFile(join(dir, page), 'utf8');
  return [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => {
    const target = (m[1] as string).replace(/&amp;/g, '&').split(/[#?]/)[0] as string;
    return normalize(join(dirname(page), target));
  });
}

describeEngines('posture pack', ({ db }) => {
  let ledger: Ledger;
  let dir: string;
  let result: PostureResult;
  const chromium = chromiumUnderTest();

  beforeAll(async () => {
    const knex = db().knex;
    ({ ledger } = await createTestLedger(db(), [tenant, 'other']));
    await ledger.append(tenant, { kind: 'tenant.created', data: { name: tenant } });
    await ledger.append('other', { kind: 'tenant.created', data: { name: 'other' } });
    await ledger.append(tenant, {
      kind: 'step.denied',
      data: { playbook: 'restart-ingest@1', step: 'restart', reasons: ['policy:default-deny'] },
    });
    await ledger.append(tenant, { kind: 'step.executed', data: { step: 'notify' } });
    await makeTrustReport(
      { knex, ledger, logger, tenants: [], pdf: () => Promise.reject(), publicUrl: 'http://x' },
      { tenant, week: isoWeekOf(new Date()), format: 'html' },
    );
    const anchoring = createAnchoring({
      knex,
      signer: ledger.signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async () => true,
      logger,
    });
    const pdf = chromium ? createPdfRenderer({ chromiumPath: chromium }) : undefined;
    dir = await mkdtemp(join(tmpdir(), 'warden-posture-'));
    try {
      result = await buildPosturePack(
        { knex, ledger, logger, anchoring, ...(pdf ? { pdf } : {}) },
        { tenant, outDir: dir },
      );
    } finally {
      await pdf?.close();
    }
  }, 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('links every claim of the one-pager and the evaluation plan to a file in the pack', async () => {
    for (const page of ['index.html', 'evaluation/plan.html']) {
      const links = await linksOf(dir, page);
      expect(links.length).toBeGreaterThan(page === 'index.html' ? 10 : 2);
      for (const link of links) {
        expect(link.startsWith('..'), `${page} → ${link}`).toBe(false);
        expect(existsSync(join(dir, link)), `${page} → ${link}`).toBe(true);
      }
    }
    const index = await readFile(join(dir, 'index.html'), 'utf8');
    expect(index).toContain('href="policies/denial-receipt.json"');
    expect(index).toContain('href="evidence/verify-bundle.mjs"');
    expect(index).toContain('No purge has run yet');
    expect(index).toContain('No DR drill has run yet');
    expect(index).toMatch(/href="reports\/trust-report-\d{4}-W\d{2}\.html"/);
  });

  it('writes the real denial receipt and only the tenant’s receipts', async () => {
    const denial = JSON.parse(await readFile(join(dir, 'policies/denial-receipt.json'), 'utf8'));
    expect(denial.payload).toMatchObject({
      kind: 'step.denied',
      tenant,
      reasons: ['policy:default-deny'],
    });
    const bundle = JSON.parse(await readFile(join(dir, 'evidence/bundle.json'), 'utf8'));
    expect(
      bundle.receipts.every((r: { payload: { tenant: string } }) => r.payload.tenant === tenant),
    ).toBe(true);
    expect(bundle.checkpoint).toMatch(/^warden\.test\/acme\n/);
  });

  it('lists every file with a digest that matches, signed by a posture.generated receipt', async () => {
    const bytes = await readFile(join(dir, 'MANIFEST.json'));
    const manifest = JSON.parse(bytes.toString('utf8')) as PostureManifest;
    expect(manifest.artifacts.map((a) => a.path)).toContain('index.html');
    for (const a of manifest.artifacts) {
      const file = await readFile(join(dir, a.path));
      expect(sha256Hex(file), a.path).toBe(a.sha256);
      expect(file.length).toBe(a.size);
    }
    const receipt = JSON.parse(await readFile(join(dir, 'MANIFEST.receipt.json'), 'utf8'));
    expect(receipt.payload.kind).toBe('posture.generated');
    expect(receipt.payload.manifestSha256).toBe(sha256Hex(bytes));
    expect(await checkManifest(dir)).toEqual({ ok: true, problems: [] });
    // The receipt is on the tenant's chain and verifies like every other one.
    const fresh = await exportBundle(db().knex, tenant);
    expect(fresh.receipts.at(-1)?.digest).toBe(receipt.digest);
    expect(verifyBundle(fresh).ok).toBe(true);
  });

  it('passes the standalone bundle verifier shipped in the pack', async () => {
    const { code, out } = await run(
      process.execPath,
      ['evidence/verify-bundle.mjs', 'evidence/bundle.json'],
      dir,
    );
    expect(code, out).toBe(0);
  });

  it.skipIf(!shellTools)('verifies a sample receipt with openssl alone', async () => {
    const ok = await run('sh', ['receipts/verify-one-receipt.sh', 'receipts/sample-1.json'], dir);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain('Signature Verified Successfully');
    const manifest = await run(
      'sh',
      ['receipts/verify-one-receipt.sh', 'MANIFEST.receipt.json'],
      dir,
    );
    expect(manifest.code, manifest.out).toBe(0);
    const sample = JSON.parse(await readFile(join(dir, 'receipts/sample-1.json'), 'utf8'));
    sample.payload.seq += 1;
    await writeFile(join(dir, 'forged.json'), JSON.stringify(sample));
    const forged = await run('sh', ['receipts/verify-one-receipt.sh', 'forged.json'], dir);
    await rm(join(dir, 'forged.json'));
    expect(forged.code).not.toBe(0);
  });

  it('reports current success metrics and the real status of each onboarding item', async () => {
    const plan = await readFile(join(dir, 'evaluation/plan.html'), 'utf8');
    expect(plan).toMatch(/OIDC[\s\S]*?not built/);
    expect(plan).toContain('WARDEN_SIGNING_KEY');
    const { metrics } = JSON.parse(await readFile(join(dir, 'evaluation/metrics.json'), 'utf8'));
    expect(metrics.map((m: { name: string }) => m.name)).toEqual([
      'Coverage',
      'Failure rate',
      'MTTM delta',
      'Bypasses',
    ]);
    expect(metrics[3]).toMatchObject({ value: '0', met: true });
  });

  it.skipIf(!chromium)(
    'keeps a dashboard screenshot, listed with its digest and linked',
    async () => {
      const png = await readFile(join(dir, 'dashboard.png'));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.readUInt32BE(16)).toBe(1280); // IHDR width: the laptop viewport
      const manifest = JSON.parse(await readFile(join(dir, 'MANIFEST.json'), 'utf8')) as {
        artifacts: Array<{ path: string; sha256: string }>;
      };
      const listed = manifest.artifacts.find((a) => a.path === 'dashboard.png');
      expect(listed?.sha256).toBe(createHash('sha256').update(png).digest('hex'));
      expect(await readFile(join(dir, 'index.html'), 'utf8')).toContain('href="dashboard.png"');
    },
  );

  it.skipIf(!chromium)('renders the one-pager as a PDF when Chromium is available', async () => {
    const pdf = await readFile(join(dir, 'posture.pdf'));
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('fails the manifest check when one artifact is altered, added or the manifest is edited', async () => {
    const file = join(dir, 'policies/baseline.cedar');
    const original = await readFile(file);
    await writeFile(file, Buffer.concat([original, Buffer.from(' ')]));
    const altered = await checkManifest(dir);
    expect(altered.ok).toBe(false);
    expect(altered.problems.join('\n')).toContain('policies/baseline.cedar');
    await writeFile(file, original);
    expect((await checkManifest(dir)).ok).toBe(true);

    const manifestPath = join(dir, 'MANIFEST.json');
    const manifest = await readFile(manifestPath, 'utf8');
    const entry = result.manifest.artifacts.find((a) => a.path === 'policies/baseline.cedar');
    const digest = sha256Hex(Buffer.concat([original, Buffer.from(' ')]));
    await writeFile(file, Buffer.concat([original, Buffer.from(' ')]));
    await writeFile(
      manifestPath,
      manifest
        .replace(entry?.sha256 as string, digest)
        .replace(`"size": ${entry?.size}`, `"size": ${(entry?.size ?? 0) + 1}`),
    );
    const resigned = await checkManifest(dir);
    expect(resigned.problems).toEqual([expect.stringMatching(/^receipt: holds manifest sha256/)]);
    await writeFile(file, original);
    await writeFile(manifestPath, manifest);
  });

  it('shows the latest purge and DR drill once they exist', async () => {
    await ledger.append(tenant, {
      kind: 'retention.purged',
      data: { deleted: 3, policy: 'raw 30d' },
    });
    await ledger.append(tenant, { kind: 'dr.drill', data: { rpoSeconds: 12, rtoSeconds: 4.5 } });
    const again = await mkdtemp(join(tmpdir(), 'warden-posture-'));
    try {
      const { claims } = await buildPosturePack(
        { knex: db().knex, ledger, logger },
        { tenant, outDir: again },
      );
      // Built without a browser: only the dashboard screenshot is missing, and it says why.
      expect(claims.filter((c) => !c.evidenced).map((c) => c.id)).toEqual(['dashboard']);
      const index = await readFile(join(again, 'index.html'), 'utf8');
      expect(index).toContain('No screenshot: Chromium is not available');
      expect(index).toContain('rpoSeconds: 12');
      expect(index).toContain('No PDF');
      expect(existsSync(join(again, 'deletion/purge-receipt.json'))).toBe(true);
      expect(existsSync(join(again, 'dr/drill-receipt.json'))).toBe(true);
      expect((await checkManifest(again)).ok).toBe(true);
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });

  it('proves the latest purge: its id lists match the signed digests, and its receipt is in the log', async () => {
    const knex = db().knex;
    const done = await purge(
      { knex, ledger },
      { tenant, policy: retentionSchema.parse(undefined), now: new Date() },
    );
    const anchoring = createAnchoring({
      knex,
      signer: ledger.signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async () => true,
      logger,
    });
    const again = await mkdtemp(join(tmpdir(), 'warden-posture-'));
    try {
      await buildPosturePack({ knex, ledger, logger, anchoring }, { tenant, outDir: again });
      const proof = JSON.parse(await readFile(join(again, 'deletion/purge-proof.json'), 'utf8'));
      expect(proof.receiptId).toBe(done.receipt?.payload.id);
      const cp = parseCheckpoint(proof.checkpoint.slice(0, proof.checkpoint.indexOf('\n\n') + 1));
      const leaf = leafHash(canonicalBytes(done.receipt?.payload));
      const path = (proof.hashes as string[]).map((h) => Buffer.from(h, 'base64'));
      expect(verifyInclusion(leaf, proof.leafIndex, proof.treeSize, path, cp.rootHash)).toBe(true);
      const lists = JSON.parse(await readFile(join(again, 'deletion/purge-ids.json'), 'utf8'));
      expect(lists).toBeTruthy();
      expect((await checkManifest(again)).ok).toBe(true);
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });
});
