import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bundleFormat } from './bundle.js';
import { createSigner, generateSigningKey, type Signer } from './ed25519.js';
import { type Receipt, sealReceipt } from './receipt.js';
import { type VerifyReport, verifyBundle } from './verify-bundle.js';

const signer = createSigner(generateSigningKey());
const other = createSigner(generateSigningKey());
const at = '2026-01-01T00:00:00.000Z';
const someDigest = `sha256:${'ab'.repeat(32)}`;

/** `count` receipts of tenant acme chained from seq `from`, the first linking to `prev`. */
function chain(options: { from?: number; count?: number; prev?: string | null } = {}): Receipt[] {
  const { from = 1, count = 3 } = options;
  let prev = options.prev ?? null;
  const receipts: Receipt[] = [];
  for (let seq = from; seq < from + count; seq++) {
    const { receipt } = sealReceipt(
      { tenant: 'acme', seq, prev },
      { kind: 'tenant.updated', data: { n: seq } },
      { id: `r-${seq}`, at },
      signer,
    );
    receipts.push(receipt);
    prev = receipt.digest;
  }
  return receipts;
}

const keyOf = (s: Signer) => ({ keyId: s.keyId, alg: 'Ed25519', publicKeyPem: s.publicKeyPem });

function bundleOf(receipts: unknown[], keys: unknown[] = [keyOf(signer)]) {
  return {
    format: bundleFormat,
    tenant: 'acme',
    exportedAt: at,
    range: { since: null, until: null },
    keys,
    receipts,
    proofs: [],
    checkpoint: null,
  };
}

const failed = (report: VerifyReport) => report.checks.filter((c) => !c.ok).map((c) => c.name);
const detail = (report: VerifyReport, name: string) =>
  report.checks.find((c) => c.name === name)?.detail;

describe('verifyBundle', () => {
  it('accepts an empty bundle and runs every check', () => {
    const report = verifyBundle(bundleOf([], []));
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'format',
      'keys',
      'shape',
      'tenant',
      'digests',
      'signatures',
      'sequence',
      'chain',
      'checkpoint',
      'inclusion',
      'disclosures',
    ]);
    expect(detail(report, 'sequence')).toBe('no receipts');
  });

  it('accepts a chain that starts at seq 1', () => {
    const report = verifyBundle(bundleOf(chain()));
    expect(failed(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(detail(report, 'signatures')).toBe('3/3 Ed25519 signatures valid');
    expect(detail(report, 'chain')).toContain('from the chain start');
  });

  it('accepts a slice that starts at seq > 1 with a non-null prev', () => {
    const slice = bundleOf(chain({ from: 41, prev: someDigest }));
    const report = verifyBundle({ ...slice, range: { since: at, until: null } });
    expect(failed(report)).toEqual([]);
    expect(detail(report, 'sequence')).toBe('seq 41..43 with no gap');
    expect(detail(report, 'chain')).toContain('slice starts at seq 41');
  });

  it('rejects a full export (no since) whose first receipts were removed', () => {
    const report = verifyBundle(bundleOf(chain({ from: 41, prev: someDigest })));
    expect(failed(report)).toEqual(['sequence']);
    expect(detail(report, 'sequence')).toContain(
      'a full export must start at seq 1; 40 receipt(s) missing',
    );
  });

  it('rejects a signature that is not canonical base64url', () => {
    const [first] = chain({ count: 1 }) as Array<{ signature: { sig: string } }>;
    if (!first) throw new Error('no receipt');
    const padded = { ...first, signature: { ...first.signature, sig: `${first.signature.sig}==` } };
    expect(failed(verifyBundle(bundleOf([padded])))).toEqual(['signatures']);
  });

  it('stops at the format check when the format is not warden-evidence/v1', () => {
    const report = verifyBundle({ ...bundleOf(chain()), format: 'warden-evidence/v2' });
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([
      {
        name: 'format',
        ok: false,
        detail: 'format is "warden-evidence/v2", expected "warden-evidence/v1"',
        failures: 1,
      },
    ]);
  });

  it('rejects a bundle that is not an object or lacks tenant, receipts and keys', () => {
    for (const bad of [null, [], 'bundle', 42]) {
      const report = verifyBundle(bad);
      expect(report.ok).toBe(false);
      expect(report.checks[0]?.detail).toBe('the bundle is not a JSON object');
    }
    const report = verifyBundle({ format: bundleFormat });
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]?.detail).toBe('tenant is missing (and 2 more)');
  });

  it('rejects receipts signed by a key the bundle does not carry', () => {
    const report = verifyBundle(bundleOf(chain(), [keyOf(other)]));
    expect(report.ok).toBe(false);
    expect(failed(report)).toEqual(['signatures']);
    expect(detail(report, 'signatures')).toBe(
      `receipt r-1 (seq 1, #1 in bundle): signed by unknown key ${signer.keyId} (and 2 more)`,
    );
  });

  it('rejects a key whose keyId is not the id of its public key', () => {
    const forged = { keyId: signer.keyId, alg: 'Ed25519', publicKeyPem: other.publicKeyPem };
    const report = verifyBundle(bundleOf(chain(), [forged]));
    expect(report.ok).toBe(false);
    expect(detail(report, 'keys')).toBe(
      `key ${signer.keyId} has id ${other.keyId} by its public key`,
    );
    expect(failed(report)).toEqual(['keys', 'signatures']);
  });

  it('rejects keys that are not Ed25519 public keys in PEM', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const keys = [
      { keyId: 'ec:1', alg: 'ES256', publicKeyPem: ec.export({ format: 'pem', type: 'spki' }) },
      { keyId: 'junk:1', alg: 'Ed25519', publicKeyPem: 'not a pem' },
      { keyId: 'none:1' },
    ];
    const report = verifyBundle(bundleOf([], keys));
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'keys')).toEqual({
      name: 'keys',
      ok: false,
      detail: 'key ec:1 is not Ed25519 (and 2 more)',
      failures: 3,
    });
  });

  it('rejects a signature whose algorithm is not Ed25519, naming the receipt', () => {
    const receipts = chain();
    const second = receipts[1] as Receipt;
    (second.signature as { alg: string }).alg = 'ES256';
    const report = verifyBundle(bundleOf(receipts));
    expect(failed(report)).toEqual(['signatures']);
    expect(detail(report, 'signatures')).toBe(
      'receipt r-2 (seq 2, #2 in bundle): algorithm ES256 is not Ed25519',
    );
  });

  it('rejects a first receipt of the chain whose prev is not null, though signed', () => {
    const report = verifyBundle(bundleOf(chain({ prev: someDigest })));
    expect(report.ok).toBe(false);
    expect(failed(report)).toEqual(['chain']);
    expect(detail(report, 'chain')).toBe(
      'receipt r-1 (seq 1, #1 in bundle): the first receipt of the chain must have prev null',
    );
  });

  it('reports progress every progressEvery receipts and once at the end', () => {
    const calls: Array<[number, number]> = [];
    const report = verifyBundle(bundleOf(chain({ count: 25 })), {
      progressEvery: 10,
      onProgress: (done, total) => calls.push([done, total]),
    });
    expect(report.ok).toBe(true);
    expect(calls).toEqual([
      [10, 25],
      [20, 25],
      [25, 25],
    ]);
  });

  it('stays silent on a bundle smaller than progressEvery', () => {
    const calls: number[] = [];
    verifyBundle(bundleOf(chain({ count: 9 })), {
      progressEvery: 10,
      onProgress: (done) => calls.push(done),
    });
    expect(calls).toEqual([]);
  });

  it('reports progress every 10,000 receipts by default on a large bundle', () => {
    // Malformed entries keep this cheap: progress does not depend on the receipts being valid.
    const receipts = Array.from({ length: 20_001 }, () => ({}));
    const calls: Array<[number, number]> = [];
    const report = verifyBundle(bundleOf(receipts), {
      onProgress: (done, total) => calls.push([done, total]),
    });
    expect(report.ok).toBe(false);
    expect(calls).toEqual([
      [10_000, 20_001],
      [20_000, 20_001],
      [20_001, 20_001],
    ]);
  });
});

describe('verifyBundle: selective disclosure', () => {
  /** One approval receipt whose actor and comment are private, and its two Disclosures. */
  function approval() {
    const { receipt, disclosures } = sealReceipt(
      { tenant: 'acme', seq: 1, prev: null },
      {
        kind: 'approval.decided',
        data: { approval: 'a-1', decision: 'approve' },
        private: { actor: 'slack:U012AB3CD', comment: 'looks safe' },
      },
      { id: 'r-1', at },
      signer,
    );
    const entries = disclosures.map((d) => ({ receiptId: 'r-1', disclosure: d.disclosure }));
    return { receipt, entries };
  }
  const withDisclosures = (receipts: unknown[], disclosures: unknown) => ({
    ...bundleOf(receipts),
    disclosures,
  });

  it('accepts disclosures whose digests the signed receipt commits to', () => {
    const { receipt, entries } = approval();
    expect(receipt.payload._sd).toHaveLength(2);
    expect(receipt.payload).not.toHaveProperty('actor');
    const report = verifyBundle(withDisclosures([receipt], entries));
    expect(failed(report)).toEqual([]);
    expect(detail(report, 'disclosures')).toBe(
      "2 disclosed field(s) match their receipts' digests; 0 private field(s) stay hidden",
    );
  });

  it('counts the fields a bundle keeps hidden', () => {
    const { receipt, entries } = approval();
    const report = verifyBundle(withDisclosures([receipt], entries.slice(0, 1)));
    expect(report.ok).toBe(true);
    expect(detail(report, 'disclosures')).toContain('1 private field(s) stay hidden');
  });

  it('fails a disclosure altered by one character', () => {
    const { receipt, entries } = approval();
    const first = entries[0] as { receiptId: string; disclosure: string };
    const d = first.disclosure;
    const flipped = `${d.slice(0, 10)}${d[10] === 'A' ? 'B' : 'A'}${d.slice(11)}`;
    const report = verifyBundle(withDisclosures([receipt], [{ ...first, disclosure: flipped }]));
    expect(failed(report)).toEqual(['disclosures']);
  });

  it('fails a disclosure of a different value under a fresh salt', () => {
    const { receipt } = approval();
    const forged = Buffer.from(
      JSON.stringify(['c2FsdHNhbHRzYWx0c2FsdA', 'actor', 'slack:UATTACKER']),
    ).toString('base64url');
    const report = verifyBundle(
      withDisclosures([receipt], [{ receiptId: 'r-1', disclosure: forged }]),
    );
    expect(detail(report, 'disclosures')).toContain(
      'the disclosure of "actor" does not match any digest the receipt commits to',
    );
  });

  it('fails a disclosure attached to another receipt, a repeated one and a malformed one', () => {
    const { receipt, entries } = approval();
    const first = entries[0] as { receiptId: string; disclosure: string };
    expect(
      failed(verifyBundle(withDisclosures([receipt], [{ ...first, receiptId: 'r-9' }]))),
    ).toEqual(['disclosures']);
    expect(
      detail(verifyBundle(withDisclosures([receipt], [first, first])), 'disclosures'),
    ).toContain('disclosed twice');
    const notArray = Buffer.from('{"a":1}').toString('base64url');
    expect(
      detail(
        verifyBundle(withDisclosures([receipt], [{ receiptId: 'r-1', disclosure: notArray }])),
        'disclosures',
      ),
    ).toContain('not a JSON array of [salt, name, value]');
    expect(failed(verifyBundle(withDisclosures([receipt], 'nope')))).toEqual(['disclosures']);
  });
});
