import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { type EvidenceBundle, exportBundle } from '../../src/ledger/bundle.js';
import type { Receipt } from '../../src/ledger/receipt.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

/** Runs `warden verify <file>` in-process and captures what it prints. */
async function verify(file: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['verify', file], {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The printed line of a failed check, e.g. `  ✗ digests    receipt … (seq 3, #3 in bundle): …`. */
function failureOf(out: string, check: string): string | undefined {
  return out.split('\n').find((line) => new RegExp(`✗ ${check}\\s`).test(line));
}

const text = (bundle: EvidenceBundle) => `${JSON.stringify(bundle, null, 2)}\n`;

describeEngines('warden verify on tampered bundles', ({ db }) => {
  let dir: string;
  let acme: EvidenceBundle;
  let globex: EvidenceBundle;
  const nth = (bundle: EvidenceBundle, seq: number) => bundle.receipts[seq - 1] as Receipt;

  beforeAll(async () => {
    const { ledger } = await createTestLedger(db(), ['acme', 'globex']);
    for (let i = 1; i <= 5; i++) {
      await ledger.append('acme', {
        kind: 'tenant.updated',
        data: { note: `approved change ${i}` },
      });
      await ledger.append('globex', { kind: 'tenant.updated', data: { note: `globex ${i}` } });
    }
    acme = await exportBundle(db().knex, 'acme');
    globex = await exportBundle(db().knex, 'globex');
    dir = await mkdtemp(join(tmpdir(), 'warden-tamper-'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function verifyText(name: string, content: string | Buffer) {
    const file = join(dir, `${name}.json`);
    await writeFile(file, content);
    return verify(file);
  }

  const withReceipts = (receipts: Receipt[]): EvidenceBundle => ({ ...acme, receipts });

  it('exits 0 and prints OK for the untouched bundle', async () => {
    expect(acme.receipts.map((r) => r.payload.seq)).toEqual([1, 2, 3, 4, 5]);
    const result = await verifyText('untouched', text(acme));
    expect(result.code).toBe(0);
    expect(result.out).toContain('OK: every check passed.');
    expect(result.out).toMatch(/✓ signatures\s+5\/5 Ed25519 signatures valid/);
    expect(result.out).not.toContain('✗');
  });

  it('fails and names the receipt when a byte of a stored payload string is flipped', async () => {
    const target = nth(acme, 3);
    const bytes = Buffer.from(text(acme));
    const at = bytes.indexOf('"approved change 3"');
    expect(at).toBeGreaterThan(0);
    bytes[at + 2] = (bytes[at + 2] as number) ^ 0x01; // 'p' -> 'q'
    expect(JSON.parse(bytes.toString()).receipts[2].payload.note).toBe('aqproved change 3');

    const result = await verifyText('flipped', bytes);
    expect(result.code).toBe(1);
    expect(result.out).toContain('FAILED');
    const label = `receipt ${target.payload.id} (seq 3, #3 in bundle)`;
    expect(failureOf(result.out, 'digests')).toContain(`${label}: payload hashes to`);
    expect(failureOf(result.out, 'signatures')).toContain(`${label}: Ed25519 signature`);
  });

  it('fails and names the receipt after the gap when a receipt is deleted', async () => {
    const receipts = acme.receipts.filter((r) => r.payload.seq !== 3);
    const result = await verifyText('deleted', text(withReceipts(receipts)));
    expect(result.code).toBe(1);
    const line = failureOf(result.out, 'sequence');
    expect(line).toContain(`receipt ${nth(acme, 4).payload.id} (seq 4, #3 in bundle)`);
    expect(line).toContain('expected seq 3; 1 receipt(s) missing');
  });

  it('fails and names the first displaced receipt when two receipts are swapped', async () => {
    const [r1, r2, r3, ...rest] = acme.receipts as Receipt[];
    const receipts = [r1, r3, r2, ...rest] as Receipt[];
    const result = await verifyText('swapped', text(withReceipts(receipts)));
    expect(result.code).toBe(1);
    const line = failureOf(result.out, 'sequence');
    expect(line).toContain(`receipt ${nth(acme, 3).payload.id} (seq 3, #2 in bundle)`);
    expect(line).toContain('(and 2 more)');
    expect(result.out).toContain('✗');
  });

  it('fails and names the spliced receipt when another tenant’s receipt is inserted', async () => {
    const stranger = nth(globex, 2);
    const receipts = [...acme.receipts];
    receipts.splice(2, 0, stranger);
    const result = await verifyText('spliced', text(withReceipts(receipts)));
    expect(result.code).toBe(1);
    expect(failureOf(result.out, 'tenant')).toContain(
      `receipt ${stranger.payload.id} (seq 2, #3 in bundle) belongs to tenant "globex", not acme`,
    );
    // Same signing key: the stranger's own signature is valid, only its place is wrong.
    expect(result.out).toMatch(/✓ signatures/);
    expect(failureOf(result.out, 'chain')).toContain(`receipt ${nth(acme, 3).payload.id} (seq 3`);
  });

  it('exits 1 with a clear message for a file that is not JSON', async () => {
    const file = join(dir, 'garbage.json');
    await writeFile(file, 'this is { not json');
    const result = await verify(file);
    expect(result.code).toBe(1);
    expect(result.err).toBe(`warden: ${file} is not valid JSON.`);
    expect(result.out).not.toContain('OK');
  });

  it('exits 1 with a clear message for a file that does not exist', async () => {
    const file = join(dir, 'missing.json');
    const result = await verify(file);
    expect(result.code).toBe(1);
    expect(result.err).toBe(`warden: ${file} does not exist.`);
  });
});
