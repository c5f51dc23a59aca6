/**
 * Signed notes and checkpoints against the shared vectors: the C2SP signed-note example, Go's
 * sumdb/note sign/open vectors (re-signed byte for byte from the seed) and checkpoint bodies.
 */
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointText, parseCheckpoint, verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { rawPublicKey } from '../../src/ledger/ed25519.js';
import {
  openNote,
  parseVerifierKey,
  signNote,
  verifierKey,
  verifyNote,
} from '../../src/ledger/signed-note.js';
import { hasVectors, vectorsDir } from '../helpers/vectors.js';

type NoteVectors = [
  { vkey: string; note: string; check: { computedKeyId: string } },
  {
    skey: string;
    vkey: string;
    text: string;
    expected_signed_note: string;
    second_signer: { vkey: string; sig_line: string };
  },
];

interface CheckpointVectors {
  examples: [
    { origin: string; tree_size: number; root_hash_b64: string; body: string },
    { signed_note: string },
    { cosigned_message_example: string; cosignature_line: string },
  ];
}

const read = <T>(file: string): T =>
  JSON.parse(readFileSync(join(vectorsDir, 'signed-note', file), 'utf8')) as T;

/** A Go sumdb/note private key: `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`. */
function parseGoSkey(skey: string) {
  const [, name = '', key64 = ''] = /^PRIVATE\+KEY\+([^+]+)\+[0-9a-f]{8}\+(.+)$/.exec(skey) ?? [];
  const key = Buffer.from(key64, 'base64');
  expect(key[0]).toBe(0x01);
  const pkcs8 = Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    key.subarray(1),
  ]);
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return {
    name,
    publicKeyRaw: rawPublicKey(createPublicKey(privateKey)),
    sign: (msg: Buffer) => sign(null, msg, privateKey),
  };
}

describe.skipIf(!hasVectors)('signed-note vectors', () => {
  const [c2sp, go] = hasVectors ? read<NoteVectors>('signed-note-ed25519.json') : [];

  it('verifies the C2SP signed-note example with its vkey', () => {
    if (!c2sp) throw new Error('vector missing');
    const key = parseVerifierKey(c2sp.vkey);
    expect(key.keyId.toString('hex')).toBe(c2sp.check.computedKeyId);
    expect(verifyNote(c2sp.note, [c2sp.vkey])).toMatchObject({
      ok: true,
      text: 'This is an example message.\n',
      signatures: [{ name: 'example.com/foo', keyId: '530d903a', known: true, verified: true }],
    });
  });

  it("derives Go's vkey from the seed and re-signs to the identical note", async () => {
    if (!go) throw new Error('vector missing');
    const signer = parseGoSkey(go.skey);
    expect(signer.name).toBe('PeterNeumann');
    expect(verifierKey(signer.name, signer.publicKeyRaw)).toBe(go.vkey);
    expect(await signNote(go.text, [signer])).toBe(go.expected_signed_note);
    expect(verifyNote(go.expected_signed_note, [go.vkey])).toMatchObject({
      ok: true,
      text: go.text,
    });
  });

  it("verifies Go's second signer and ignores whichever signer is unknown", () => {
    if (!go) throw new Error('vector missing');
    const note = `${go.expected_signed_note}${go.second_signer.sig_line}\n`;
    const both = verifyNote(note, [go.vkey, go.second_signer.vkey]);
    expect(both.ok && both.signatures.map((s) => [s.name, s.keyId, s.verified])).toEqual([
      ['PeterNeumann', 'c74f20a3', true],
      ['EnochRoot', 'af0cfe78', true],
    ]);
    const enochOnly = openNote(note, [go.second_signer.vkey]).signatures;
    expect(enochOnly.map((s) => s.known)).toEqual([false, true]);
    expect(verifyNote(note, [go.second_signer.vkey]).ok).toBe(true);
  });

  it('rejects the vectors with a wrong key ID, another key, or an altered text', () => {
    if (!c2sp || !go) throw new Error('vector missing');
    const wrongId = c2sp.vkey.replace('+530d903a+', '+530d903b+');
    expect(() => parseVerifierKey(wrongId)).toThrow(/key ID 530d903b does not match.*530d903a/);
    expect(verifyNote(c2sp.note, [go.vkey]).problems).toEqual([
      'No signature by a known key: signed by example.com/foo+530d903a; known keys: PeterNeumann+c74f20a3.',
    ]);
    const altered = go.expected_signed_note.replace('cryptography', 'Cryptography');
    expect(verifyNote(altered, [go.vkey]).problems).toEqual([
      expect.stringMatching(/^The signature by PeterNeumann\+c74f20a3 does not verify/),
    ]);
  });
});

describe.skipIf(!hasVectors)('checkpoint body vectors', () => {
  const [golden, c2sp, cosigned] = hasVectors
    ? read<CheckpointVectors>('checkpoint-body-examples.json').examples
    : [];

  it("parses and re-formats Go's FormatTree golden body", () => {
    if (!golden) throw new Error('vector missing');
    const parsed = parseCheckpoint(golden.body);
    expect(parsed).toEqual({
      origin: golden.origin,
      size: golden.tree_size,
      rootHash: Buffer.from(golden.root_hash_b64, 'base64'),
      extensions: [],
    });
    const leaf = createHash('sha256').update(Buffer.from('\x00hello world', 'latin1')).digest();
    expect(parsed.rootHash).toEqual(leaf);
    expect(checkpointText(parsed)).toBe(golden.body);
  });

  it('opens the C2SP tlog-checkpoint example, whose key name is its origin', () => {
    if (!c2sp) throw new Error('vector missing');
    const { text, signatures } = openNote(c2sp.signed_note, []);
    const parsed = parseCheckpoint(text);
    expect(parsed).toMatchObject({ origin: 'example.com/behind-the-sofa', size: 20852163 });
    expect(checkpointText(parsed)).toBe(text);
    expect(signatures).toEqual([
      { name: parsed.origin, keyId: '033de0ae', known: false, verified: false },
    ]);
    const someKey = verifierKey(parsed.origin, Buffer.alloc(32, 1));
    expect(verifyCheckpoint(c2sp.signed_note, someKey).ok).toBe(false);
  });

  it('reads a tlog-cosignature line as an unknown 76-byte signature on the same body', () => {
    if (!c2sp || !cosigned) throw new Error('vector missing');
    const body = cosigned.cosigned_message_example.replace(/^cosignature\/v1\ntime \d+\n/, '');
    expect(body).toBe(openNote(c2sp.signed_note, []).text);
    const note = `${c2sp.signed_note}${cosigned.cosignature_line}\n`;
    const [, witness] = openNote(note, []).signatures;
    expect(witness).toMatchObject({ name: 'witness.example.com/w1', known: false });
    expect(Buffer.from(cosigned.cosignature_line.split(' ')[2] ?? '', 'base64')).toHaveLength(76);
  });
});
