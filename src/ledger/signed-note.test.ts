import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSigner, generateSigningKey, rawPublicKey } from './ed25519.js';
import {
  createNoteSigner,
  decodeBase64Std,
  type NoteSigner,
  noteKeyId,
  openNote,
  parseVerifierKey,
  signNote,
  verifierKey,
  verifyNote,
} from './signed-note.js';

const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const keyFromSeed = (seed: Buffer) =>
  createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });

const noteSigner = (name: string) => createNoteSigner(name, createSigner(generateSigningKey()));
const vkeyOf = (s: NoteSigner) => verifierKey(s.name, s.publicKeyRaw);
const labelOf = (s: NoteSigner) => `${s.name}+${noteKeyId(s.name, s.publicKeyRaw).toString('hex')}`;

const alice = noteSigner('example.com/alice');
const bob = noteSigner('example.com/bob');
const text = 'first line\nsecond line\n';
const signed = await signNote(text, [alice]);
const [aliceLine = ''] = signed.split('\n').slice(-2);

describe('noteKeyId and verifierKey', () => {
  it('hash the name, a newline, the type byte 0x01 and the raw key', () => {
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(`${alice.name}\n`), Buffer.of(1), alice.publicKeyRaw]))
      .digest()
      .subarray(0, 4);
    expect(noteKeyId(alice.name, alice.publicKeyRaw)).toEqual(expected);
    const [, name, id, key] = /^([^+]*)\+([^+]*)\+(.*)$/.exec(vkeyOf(alice)) ?? [];
    expect([name, id]).toEqual([alice.name, expected.toString('hex')]);
    expect(Buffer.from(key ?? '', 'base64')).toEqual(
      Buffer.concat([Buffer.of(1), alice.publicKeyRaw]),
    );
  });

  it('refuses key names with spaces or "+" and keys that are not 32 bytes', () => {
    expect(() => verifierKey('a b', alice.publicKeyRaw)).toThrow(/no white space/);
    expect(() => verifierKey('a+b', alice.publicKeyRaw)).toThrow(/no "\+"/);
    expect(() => verifierKey('a\u00a0b', alice.publicKeyRaw)).toThrow(/no white space/);
    expect(() => verifierKey('', alice.publicKeyRaw)).toThrow(/non-empty/);
    expect(() => verifierKey('a', alice.publicKeyRaw.subarray(1))).toThrow(/32 bytes, not 31/);
  });
});

describe('parseVerifierKey', () => {
  it('round-trips a vkey', () => {
    const parsed = parseVerifierKey(vkeyOf(alice));
    expect(parsed.name).toBe(alice.name);
    expect(parsed.publicKeyRaw).toEqual(Buffer.from(alice.publicKeyRaw));
    expect(rawPublicKey(parsed.publicKey)).toEqual(parsed.publicKeyRaw);
  });

  it('splits on the first two "+" only, as base64 keys may contain "+"', () => {
    let seed = 0;
    let vkey = '';
    while (vkey.split('+').length < 4) {
      const key = keyFromSeed(createHash('sha256').update(`seed ${seed++}`).digest());
      vkey = verifierKey('example.com/plus', rawPublicKey(createPublicKey(key)));
    }
    expect(parseVerifierKey(vkey).name).toBe('example.com/plus');
  });

  it.each([
    ['example.com/foo', /expected <name>\+<key ID>\+<base64 key>/],
    ['example.com/foo+530d903a', /expected <name>\+<key ID>\+<base64 key>/],
    ['+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', /non-empty/],
    ['example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', /8 hex digits/],
    ['example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2', /base64/],
    ['example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2-', /base64/],
    ['example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', /type 0x02/],
    ['example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3Q==', /32 bytes, not 30/],
    [
      'example.com/foo+00000000+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k',
      /does not match.*530d903a/,
    ],
    ['example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', /does not match/],
  ])('rejects %s', (vkey, message) => {
    expect(() => parseVerifierKey(vkey)).toThrow(message);
  });
});

describe('signNote', () => {
  it('appends a blank line and one "— <name> <base64(key ID ‖ sig)>" line per signer', async () => {
    const note = await signNote(text, [alice, bob]);
    const lines = note.slice(text.length).split('\n');
    expect(lines[0]).toBe('');
    expect(lines.slice(1, 3).map((line) => line.split(' ')[1])).toEqual([alice.name, bob.name]);
    expect(lines[3]).toBe('');
    expect(lines[1]?.startsWith('\u2014 ')).toBe(true);
    const sig = Buffer.from(lines[1]?.split(' ')[2] ?? '', 'base64');
    expect(sig.subarray(0, 4)).toEqual(noteKeyId(alice.name, alice.publicKeyRaw));
    expect(sig).toHaveLength(68);
  });

  it('signs texts with blank lines and signature-like lines, which still open intact', async () => {
    const tricky = 'a\n\n\u2014 example.com/alice AAAA\n\n';
    const note = await signNote(tricky, [alice]);
    expect(verifyNote(note, [vkeyOf(alice)])).toMatchObject({ ok: true, text: tricky });
  });

  it.each([
    ['no final newline', 'text', /must end with a newline/],
    ['an empty text', '', /must end with a newline/],
    ['a carriage return', 'a\r\n', /control character U\+000D at offset 1/],
    ['a tab', 'a\tb\n', /control character U\+0009/],
    ['a lone surrogate', 'a\ud800\n', /not valid UTF-8/],
  ])('refuses a text with %s', async (_, bad, message) => {
    await expect(signNote(bad, [alice])).rejects.toThrow(message);
  });

  it('refuses no signers, a signer given twice and a signer whose key does not match', async () => {
    await expect(signNote(text, [])).rejects.toThrow(/no signers/);
    await expect(signNote(text, [alice, alice])).rejects.toThrow(/given twice/);
    const liar = { ...alice, publicKeyRaw: bob.publicKeyRaw };
    await expect(signNote(text, [liar])).rejects.toThrow(/does not verify with that signer/);
    await expect(signNote(text, [{ ...alice, name: 'a b' }])).rejects.toThrow(/no white space/);
  });

  it('accepts asynchronous signers', async () => {
    const later = { ...alice, sign: async (msg: Buffer) => alice.sign(msg) };
    expect(await signNote(text, [later])).toBe(signed);
  });
});

describe('openNote', () => {
  it('returns the text and each signature with its key ID', () => {
    expect(openNote(signed, [vkeyOf(alice)])).toEqual({
      text,
      signatures: [
        {
          name: alice.name,
          keyId: noteKeyId(alice.name, alice.publicKeyRaw).toString('hex'),
          known: true,
          verified: true,
        },
      ],
    });
  });

  it('accepts parsed keys, { vkey } objects and UTF-8 bytes', () => {
    const bytes = Buffer.from(signed);
    expect(openNote(bytes, [parseVerifierKey(vkeyOf(alice))]).signatures[0]?.verified).toBe(true);
    expect(openNote(bytes, [{ vkey: vkeyOf(alice) }]).signatures[0]?.verified).toBe(true);
  });

  it('reports signers it has no key for as unknown and unverified', () => {
    const note = `${signed}\u2014 example.com/carol AAAAAAE=\n`;
    const { signatures } = openNote(note, [vkeyOf(alice)]);
    expect(signatures[1]).toEqual({
      name: 'example.com/carol',
      keyId: '00000000',
      known: false,
      verified: false,
    });
  });

  it('refuses two different verifier keys with the same name and key ID', () => {
    const parsed = parseVerifierKey(vkeyOf(alice));
    const collision = { ...parsed, publicKeyRaw: Buffer.from(bob.publicKeyRaw) };
    expect(() => openNote(signed, [parsed, collision])).toThrow(/Two different verifier keys/);
    expect(() => openNote(signed, [vkeyOf(alice), vkeyOf(alice)])).not.toThrow();
  });

  const base64 = aliceLine.split(' ')[2] ?? '';
  const malformed: Array<[string, string | Uint8Array, RegExp]> = [
    ['no blank line', signed.replace('\n\n', '\n'), /no blank line before the signature lines/],
    ['an extra newline at the end', `${signed}\n`, /no signature line after the last blank line/],
    ['no final newline', signed.slice(0, -1), /last line must end with a newline/],
    ['nothing at all', '', /no blank line/],
    ['only a blank line', '\n\n', /no signature line/],
    ['an en dash', signed.replace('\u2014', '\u2013'), /line 1 does not start with "— "/],
    ['a hyphen', signed.replace('\u2014', '-'), /line 1 does not start with "— "/],
    ['no space after the dash', signed.replace('\u2014 ', '\u2014'), /does not start with "— "/],
    ['no signature', `${text}\n\u2014 ${alice.name}\n`, /no space between the key name/],
    ['an empty key name', `${text}\n\u2014  ${base64}\n`, /invalid key name ""/],
    ['a "+" in the key name', `${text}\n\u2014 a+b ${base64}\n`, /invalid key name "a\+b"/],
    ['two spaces', signed.replace(`${alice.name} `, `${alice.name}  `), /not canonical/],
    ['a base64url signature', `${text}\n\u2014 x ${'-'.repeat(92)}\n`, /not canonical/],
    ['unpadded base64', `${text}\n\u2014 x ${base64.replace('=', '')}\n`, /not canonical/],
    [
      'non-zero pad bits',
      signed.replace(/.=\n$/, (m) => `${flip(m[0] ?? 'A')}=\n`),
      /not canonical/,
    ],
    ['a 4-byte signature', `${text}\n\u2014 x AAAAAA==\n`, /4-byte signature, too short/],
    ['a CRLF line', signed.replace(/\n$/, '\r\n'), /control character U\+000D/],
    ['a NUL in the text', `a\u0000${signed}`, /control character U\+0000 at offset 1/],
    ['invalid UTF-8', Buffer.concat([Buffer.from([0xff]), Buffer.from(signed)]), /not valid UTF-8/],
    ['a lone surrogate', `\ud800${signed}`, /not valid UTF-8/],
    ['101 signatures', `${text}\n${`${aliceLine}\n`.repeat(101)}`, /101 signature lines/],
  ];
  it.each(malformed)('throws on a note with %s', (_, note, message) => {
    expect(() => openNote(note, [vkeyOf(alice)])).toThrow(message);
    const result = verifyNote(note, [vkeyOf(alice)]);
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toMatch(message);
  });
});

describe('verifyNote', () => {
  it('accepts a note signed by a known key', () => {
    expect(verifyNote(signed, [vkeyOf(alice), vkeyOf(bob)])).toMatchObject({ ok: true, text });
  });

  it('ignores unknown signers next to a verified one', async () => {
    const note = await signNote(text, [bob, alice]);
    const result = verifyNote(note, [vkeyOf(alice)]);
    expect(result.ok).toBe(true);
    expect(result.ok && result.signatures.map((s) => s.known)).toEqual([false, true]);
  });

  it('accepts 16 signatures, the minimum the spec requires', async () => {
    const signers = Array.from({ length: 16 }, (_, i) => noteSigner(`example.com/w${i}`));
    const note = await signNote(text, signers);
    expect(verifyNote(note, signers.map(vkeyOf)).ok).toBe(true);
  });

  it('rejects a note signed only by unknown keys, naming signers and known keys', () => {
    const result = verifyNote(signed, [vkeyOf(bob)]);
    expect(result).toEqual({
      ok: false,
      problems: [
        `No signature by a known key: signed by ${labelOf(alice)}; known keys: ${labelOf(bob)}.`,
      ],
    });
  });

  it('ignores a signature by another key under a known name (the key ID differs)', async () => {
    const mallory = { ...noteSigner(alice.name) };
    const note = await signNote(text, [mallory]);
    const result = verifyNote(note, [vkeyOf(alice)]);
    expect(openNote(note, [vkeyOf(alice)]).signatures[0]).toMatchObject({ known: false });
    expect(result.problems).toEqual([expect.stringMatching(/^No signature by a known key/)]);
  });

  it('rejects a signature that carries a known name and key ID but was made by another key', () => {
    const forged = signed.replace(base64Of(signed), (b64) =>
      Buffer.concat([Buffer.from(b64, 'base64').subarray(0, 4), Buffer.alloc(64, 7)]).toString(
        'base64',
      ),
    );
    expect(verifyNote(forged, [vkeyOf(alice)]).problems).toEqual([
      expect.stringMatching(/^The signature by example\.com\/alice\+[0-9a-f]{8} does not verify/),
    ]);
  });

  it('rejects an altered text', () => {
    const result = verifyNote(signed.replace('first', 'frist'), [vkeyOf(alice)]);
    expect(result.problems).toEqual([expect.stringMatching(/does not verify/)]);
  });

  it('rejects a note where one known key verifies and another fails', async () => {
    const note = await signNote(text, [alice, bob]);
    const broken = note.replace(base64Of(note, 1), (b64) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[10] = (bytes[10] ?? 0) ^ 1;
      return bytes.toString('base64');
    });
    expect(verifyNote(broken, [vkeyOf(alice), vkeyOf(bob)]).problems).toEqual([
      expect.stringMatching(/^The signature by example\.com\/bob\+[0-9a-f]{8} does not verify/),
    ]);
    expect(verifyNote(broken, [vkeyOf(alice)]).ok).toBe(true); // bob is unknown, so ignored
  });

  it('rejects a known key that signed twice', () => {
    const twice = `${signed}${aliceLine}\n`;
    expect(verifyNote(twice, [vkeyOf(alice)]).problems).toEqual([
      expect.stringMatching(/^Key example\.com\/alice\+[0-9a-f]{8} signed the note more than once/),
    ]);
  });

  it('reports a bad verifier key instead of throwing', () => {
    expect(verifyNote(signed, ['nonsense'])).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^Verifier key "nonsense"/)],
    });
  });
});

describe('decodeBase64Std', () => {
  it.each(['', 'QQ', 'QR==', 'Q===', 'QQ==QQ==', 'Q Q=', '_-8=', 'QQ=\n'])('rejects %j', (bad) => {
    expect(decodeBase64Std(bad)).toBeUndefined();
  });

  it('decodes canonical padded base64 with "+" and "/"', () => {
    expect(decodeBase64Std('+/8=')).toEqual(Buffer.from([0xfb, 0xff]));
  });
});

/** The base64 of signature line `index` of a note. */
function base64Of(note: string, index = 0): string {
  const lines = note.slice(note.lastIndexOf('\n\n') + 2, -1).split('\n');
  return lines[index]?.split(' ')[2] ?? '';
}

/** Another base64 character, one bit away. */
function flip(char: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  return alphabet[alphabet.indexOf(char) ^ 1] ?? 'A';
}
