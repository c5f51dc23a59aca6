/**
 * Verification without Warden: `docs/verify-bundle.mjs` (plain Node, no Warden imports, no packages)
 * checks real bundles the product exported — anchored, with non-ASCII text and fractional numbers
 * and a consistency proof from an older checkpoint, and not anchored — and agrees with the product's
 * `verifyBundle`, check by check, on each valid bundle and on one flipped byte in every part a bundle
 * signs or proves.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnchoring } from '../../src/ledger/anchor.js';
import { type EvidenceBundle, exportBundle } from '../../src/ledger/bundle.js';
import { createSigner, generateSigningKey } from '../../src/ledger/ed25519.js';
import { createLedger } from '../../src/ledger/ledger.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { type Database, openDatabase } from '../../src/storage/database.js';
import { getCheckpoint } from '../../src/storage/merkle.js';
import { createTenant } from '../../src/tenancy/tenants.js';

const script = fileURLToPath(new URL('../../docs/verify-bundle.mjs', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runScript(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The script's per-check lines as `[name, ok]`, in order. */
function checksOf(stdout: string): [string, boolean][] {
  return [...stdout.matchAll(/^ {2}([✓✗]) (\S+)/gm)].map((m) => [m[2] as string, m[1] === '✓']);
}

/** XORs one bit into byte `at` of a binary value written in `encoding`. */
function flipEncoded(text: string, encoding: 'hex' | 'base64' | 'base64url', at: number): string {
  const bytes = Buffer.from(text, encoding);
  bytes[at] = (bytes[at] as number) ^ 0x01;
  return bytes.toString(encoding);
}

/** XORs the low bit of one UTF-16 unit of a string ('c' → 'b'). */
const flipChar = (s: string, at: number) =>
  `${s.slice(0, at)}${String.fromCharCode(s.charCodeAt(at) ^ 0x01)}${s.slice(at + 1)}`;

/** Receipt data a naive canonicaliser gets wrong: non-ASCII text and keys, fractions, exponents. */
const awkward = {
  note: 'café €5 — 日本語 😂 naïve',
  cost: 0.1,
  ratio: 1.5e-7,
  total: 12.75,
  huge: 1e21,
  // UTF-16 order puts 😂 (U+1F602, D83D DE02) before דּ (U+FB33); code-point order does not.
  labels: { zone: 'eu-west', 'ü-key': 'ß', '😂': true, דּ: 'presentation form', a: null },
  series: [1.25, -0.5, 'ü', { z: 1, é: 2 }],
};

type Bundle = EvidenceBundle & { receipts: { payload: Record<string, unknown> }[] };
type ReceiptOf = EvidenceBundle['receipts'][number];
type ProofOf = EvidenceBundle['proofs'][number];

/** Each tampering of the valid anchored bundle, and the check that must catch it. */
const tamperings: Record<string, { check: string; tamper: (b: Bundle) => void }> = {
  'one flipped byte in a receipt payload field': {
    check: 'digests',
    tamper: (b) => {
      const p = b.receipts[3]?.payload as Record<string, unknown>;
      p.note = flipChar(p.note as string, 2);
    },
  },
  'a fractional number changed in a payload': {
    check: 'digests',
    tamper: (b) => {
      (b.receipts[4]?.payload as Record<string, unknown>).cost = 0.2;
    },
  },
  'one flipped byte in a digest': {
    check: 'digests',
    tamper: (b) => {
      const r = b.receipts[5] as ReceiptOf;
      r.digest = `sha256:${flipEncoded(r.digest.slice('sha256:'.length), 'hex', 31)}`;
    },
  },
  'one flipped byte in a signature': {
    check: 'signatures',
    tamper: (b) => {
      const r = b.receipts[6] as ReceiptOf;
      r.signature.sig = flipEncoded(r.signature.sig, 'base64url', 40);
    },
  },
  'one flipped byte in a proof hash': {
    check: 'inclusion',
    tamper: (b) => {
      const proof = b.proofs[7] as ProofOf;
      proof.hashes[1] = flipEncoded(proof.hashes[1] as string, 'base64', 5);
    },
  },
  'one flipped byte in the checkpoint root line': {
    check: 'checkpoint',
    tamper: (b) => {
      const lines = (b.checkpoint as string).split('\n');
      lines[2] = flipEncoded(lines[2] as string, 'base64', 0);
      b.checkpoint = lines.join('\n');
    },
  },
  'one flipped byte in the checkpoint signature': {
    check: 'checkpoint',
    tamper: (b) => {
      const note = b.checkpoint as string;
      const at = note.lastIndexOf(' ') + 1;
      b.checkpoint = `${note.slice(0, at)}${flipEncoded(note.slice(at, -1), 'base64', 20)}\n`;
    },
  },
  'one flipped byte in a consistency proof hash': {
    check: 'consistency',
    tamper: (b) => {
      const c = b.consistency as { hashes: string[] };
      c.hashes[0] = flipEncoded(c.hashes[0] as string, 'base64', 9);
    },
  },
  'the older checkpoint swapped for the current one': {
    check: 'consistency',
    tamper: (b) => {
      (b.consistency as { checkpoint: string }).checkpoint = b.checkpoint as string;
    },
  },
  'a missing proof': {
    check: 'inclusion',
    tamper: (b) => {
      b.proofs.splice(4, 1);
    },
  },
  'a proof moved to another leaf': {
    check: 'inclusion',
    tamper: (b) => {
      (b.proofs[2] as ProofOf).leafIndex = 3;
    },
  },
  'a receipt removed from the chain': {
    check: 'sequence',
    tamper: (b) => {
      b.receipts.splice(6, 1);
    },
  },
  'one flipped byte in a disclosure': {
    check: 'disclosures',
    tamper: (b) => {
      const d = b.disclosures[3] as EvidenceBundle['disclosures'][number];
      d.disclosure = flipChar(d.disclosure, 12);
    },
  },
  'a disclosure moved to another receipt': {
    check: 'disclosures',
    tamper: (b) => {
      const [d3, d4] = [b.disclosures[3], b.disclosures[4]] as EvidenceBundle['disclosures'];
      if (!d3 || !d4 || d3.receiptId === d4.receiptId) throw new Error('expected two receipts');
      d3.receiptId = d4.receiptId;
    },
  },
  'one flipped byte in a key id': {
    check: 'keys',
    tamper: (b) => {
      const key = b.keys[0] as EvidenceBundle['keys'][number];
      key.keyId = flipChar(key.keyId, key.keyId.length - 1);
    },
  },
};

describe('docs/verify-bundle.mjs (bundle verification without Warden)', () => {
  let db: Database;
  let dir: string;
  let anchored: EvidenceBundle;
  let plain: EvidenceBundle;

  /** Writes a bundle, runs the script on it, and runs the product's verifyBundle on the same file. */
  async function both(name: string, bundle: unknown) {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
    await writeFile(file, JSON.stringify(bundle, null, 2));
    const run = await runScript(file);
    const report = verifyBundle(JSON.parse(await readFile(file, 'utf8')));
    // Agreement check by check, not only overall.
    expect(checksOf(run.stdout)).toEqual(report.checks.map((c) => [c.name, c.ok]));
    return { run, report };
  }

  beforeAll(async () => {
    db = await openDatabase({});
    const signer = createSigner(generateSigningKey());
    const ledger = await createLedger({ knex: db.knex, signer });
    const deps = { knex: db.knex, ledger };
    await createTenant(
      deps,
      { id: 'acme', name: 'Açme Ünïcode 株式会社', tier: 'enterprise' },
      'test',
    );
    await createTenant(deps, { id: 'globex', tier: 'pro' }, 'test');
    for (let i = 0; i < 12; i++) {
      await ledger.append('acme', {
        kind: 'trigger.received',
        data: { ...awkward, i },
        // Private fields: committed as salted digests, disclosed by the export below.
        private: { annotations: { summary: `Disk full on ${awkward.note}`, n: i } },
      });
      await ledger.append('globex', { kind: 'trigger.received', data: { ...awkward, i } });
    }
    await createAnchoring({
      knex: db.knex,
      signer,
      origin: (tenant) => `warden.test/${tenant}`,
      enabled: async (tenant) => tenant === 'acme',
      logger: pino({ level: 'silent' }),
      batch: 5,
    }).anchor('acme');
    // Two receipts newer than the checkpoint: in the bundle, not yet covered by a proof.
    await ledger.append('acme', { kind: 'trigger.received', data: { after: 'checkpoint ✓' } });
    await ledger.append('acme', { kind: 'trigger.received', data: { after: 2.5 } });
    // Batches of 5 signed checkpoints of sizes 5, 10 and 13; the reader holds the one of size 5.
    const older = await getCheckpoint(db.knex, 'acme', 5);
    anchored = await exportBundle(db.knex, 'acme', {
      sinceCheckpoint: older?.note,
      disclose: 'all',
    });
    plain = await exportBundle(db.knex, 'globex');
    dir = await mkdtemp(join(tmpdir(), 'warden-standalone-'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await db?.close();
  });

  it('passes a valid anchored bundle with non-ASCII text and fractional numbers, as the product does', async () => {
    expect(anchored.proofs).toHaveLength(anchored.receipts.length - 2);
    expect(anchored.consistency?.hashes.length).toBeGreaterThan(0);
    expect(anchored.receipts[1]?.payload).toMatchObject({ cost: 0.1, note: awkward.note });
    const { run, report } = await both('anchored', anchored);
    expect(report.ok).toBe(true);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/✓ consistency .*size 5 → 13/);
    expect(run.stdout).toMatch(
      /✓ inclusion +13 receipt\(s\) proven included in the log of size 13/,
    );
    expect(run.stdout).toMatch(/✓ disclosures +12 disclosed field\(s\) match/);
    expect(run.stdout).toContain('OK: every check passed.');
    expect(run.code).toBe(0);

    const { consistency: _, ...withoutConsistency } = anchored;
    const again = await both('anchored without consistency', withoutConsistency);
    expect(again.report.ok).toBe(true);
    expect(again.run.code).toBe(0);
  });

  it('passes a bundle of a tenant that is not anchored (no checkpoint, no proofs), as the product does', async () => {
    expect(plain.checkpoint).toBeNull();
    expect(plain.proofs).toEqual([]);
    const { run, report } = await both('plain', plain);
    expect(report.ok).toBe(true);
    expect(run.code).toBe(0);
  });

  for (const [what, { check, tamper }] of Object.entries(tamperings)) {
    it(`fails ${what} (exit 1), as the product does`, async () => {
      const bundle = structuredClone(anchored) as Bundle;
      tamper(bundle);
      expect(bundle).not.toEqual(anchored);
      const { run, report } = await both(what, bundle);
      expect(report.ok).toBe(false);
      expect(report.checks.find((c) => c.name === check)?.ok).toBe(false);
      expect(run.stdout).toMatch(new RegExp(`✗ ${check} `));
      expect(run.stdout).toContain('FAILED: the bundle does not verify.');
      expect(run.code).toBe(1);
    });
  }

  it('fails a payload edit in a bundle that is not anchored, as the product does', async () => {
    const bundle = structuredClone(plain) as Bundle;
    (bundle.receipts[2]?.payload as Record<string, unknown>).total = 12.5;
    const { run, report } = await both('plain tampered', bundle);
    expect(report.ok).toBe(false);
    expect(run.code).toBe(1);
  });

  it('exits 2 with a usage line when no bundle is named, and 1 when the file is not JSON', async () => {
    const none = await runScript();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/usage: node verify-bundle\.mjs <bundle\.json>/);
    const missing = await runScript(join(dir, 'no-such-bundle.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot be read as JSON/);
  });

  it('imports nothing but Node built-ins', async () => {
    const source = await readFile(script, 'utf8');
    const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const name of imports) expect(name).toMatch(/^node:/);
    expect(source).not.toMatch(/\brequire\(|import\(/);
  });
});
