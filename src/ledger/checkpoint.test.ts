import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkpointText, parseCheckpoint, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { createSigner, generateSigningKey, rawPublicKey } from './ed25519.js';
import { createNoteSigner, parseVerifierKey, signNote, verifierKey } from './signed-note.js';

const origin = 'warden.example/acme';
const rootHash = createHash('sha256').update('root').digest();
const root64 = rootHash.toString('base64');
const signer = createSigner(generateSigningKey());
const vkey = verifierKey(origin, rawPublicKey(signer.publicKey));

describe('checkpointText', () => {
  it('writes origin, decimal size and base64 root, one per line, then extension lines', () => {
    expect(checkpointText({ origin, size: 0, rootHash })).toBe(`${origin}\n0\n${root64}\n`);
    expect(checkpointText({ origin, size: 42, rootHash, extensions: ['ext one', 'two'] })).toBe(
      `${origin}\n42\n${root64}\next one\ntwo\n`,
    );
  });

  it.each([
    [{ origin: '', size: 1, rootHash }, /origin \(line 1\) is empty/],
    [{ origin: ' a', size: 1, rootHash }, /starts or ends with white space/],
    [{ origin: 'a\n', size: 1, rootHash }, /starts or ends with white space/],
    [{ origin: 'a\tb', size: 1, rootHash }, /control character U\+0009/],
    [{ origin, size: -1, rootHash }, /integer from 0 to 2\^53 - 1, not -1/],
    [{ origin, size: 1.5, rootHash }, /not 1.5/],
    [{ origin, size: 2 ** 53, rootHash }, /not 9007199254740992/],
    [{ origin, size: 1, rootHash: rootHash.subarray(1) }, /31 bytes, not 32/],
    [{ origin, size: 1, rootHash, extensions: [''] }, /extension line 1 is empty/],
    [{ origin, size: 1, rootHash, extensions: ['a', 'b\nc'] }, /extension line 2 .*newline/],
  ])('refuses %o', (input, message) => {
    expect(() => checkpointText(input)).toThrow(message);
  });
});

describe('parseCheckpoint', () => {
  it('round-trips with checkpointText', () => {
    const input = { origin, size: Number.MAX_SAFE_INTEGER, rootHash, extensions: ['x'] };
    const text = checkpointText(input);
    expect(parseCheckpoint(text)).toEqual(input);
    expect(checkpointText(parseCheckpoint(text))).toBe(text);
  });

  it.each([
    ['no final newline', `${origin}\n1\n${root64}`, /must end with a newline/],
    ['two lines', `${origin}\n1\n`, /2 line\(s\); origin, size and root hash are needed/],
    ['an empty origin', `\n1\n${root64}\n`, /origin \(line 1\) is empty/],
    ['a padded origin', `${origin} \n1\n${root64}\n`, /starts or ends with white space/],
    ['an empty size line', `${origin}\n\n${root64}\n`, /line 2 is empty/],
    ['a trailing blank line', `${origin}\n1\n${root64}\n\n`, /line 4 is empty/],
    ['an empty extension', `${origin}\n1\n${root64}\n\nx\n`, /line 4 is empty/],
    ['a CRLF', `${origin}\r\n1\n${root64}\n`, /control character U\+000D/],
    ['a leading zero', `${origin}\n01\n${root64}\n`, /"01" has leading zeros/],
    ['a zero size written 00', `${origin}\n00\n${root64}\n`, /"00" has leading zeros/],
    ['a sign', `${origin}\n+1\n${root64}\n`, /"\+1" is not a decimal number/],
    ['a negative size', `${origin}\n-1\n${root64}\n`, /"-1" is not a decimal number/],
    ['a space in the size', `${origin}\n 1\n${root64}\n`, /" 1" is not a decimal number/],
    ['an exponent', `${origin}\n1e3\n${root64}\n`, /not a decimal number/],
    ['a hex size', `${origin}\n0x10\n${root64}\n`, /"0x10" is not a decimal number/],
    ['Arabic-Indic digits', `${origin}\n\u0661\n${root64}\n`, /not a decimal number/],
    ['size 2^53', `${origin}\n9007199254740992\n${root64}\n`, /exceeds 2\^53 - 1/],
    ['size 2^64', `${origin}\n18446744073709551616\n${root64}\n`, /exceeds 2\^53 - 1/],
    ['a 400-digit size', `${origin}\n${'9'.repeat(400)}\n${root64}\n`, /exceeds 2\^53 - 1/],
    ['a 31-byte root', `${origin}\n1\n${rootHash.subarray(1).toString('base64')}\n`, /31 bytes/],
    [
      'a 33-byte root',
      `${origin}\n1\n${Buffer.concat([rootHash, rootHash]).subarray(0, 33).toString('base64')}\n`,
      /33 bytes/,
    ],
    ['a hex root', `${origin}\n1\n${rootHash.toString('hex')}\n`, /48 bytes, not 32/],
    ['a base64url root', `${origin}\n1\n${rootHash.toString('base64url')}\n`, /not canonical/],
    ['an unpadded root', `${origin}\n1\n${root64.replace('=', '')}\n`, /not canonical/],
  ])('rejects a body with %s', (_, text, message) => {
    expect(() => parseCheckpoint(text)).toThrow(message);
  });
});

describe('signCheckpoint and verifyCheckpoint', () => {
  const checkpoint = { origin, size: 7, rootHash, extensions: [] };

  it('signs under key name = origin, and the vkey verifies it', async () => {
    const note = await signCheckpoint(checkpoint, signer);
    expect(note.startsWith(`${checkpointText(checkpoint)}\n\u2014 ${origin} `)).toBe(true);
    expect(verifyCheckpoint(note, vkey, origin)).toEqual({ ok: true, checkpoint, problems: [] });
    expect(verifyCheckpoint(Buffer.from(note), parseVerifierKey(vkey)).ok).toBe(true);
  });

  it('signs extension lines too', async () => {
    const note = await signCheckpoint({ ...checkpoint, extensions: ['note'] }, signer);
    expect(verifyCheckpoint(note, vkey).ok && verifyCheckpoint(note, vkey).checkpoint).toEqual({
      ...checkpoint,
      extensions: ['note'],
    });
    const altered = note.replace('\nnote\n', '\nnotf\n');
    expect(verifyCheckpoint(altered, vkey).problems).toEqual([
      expect.stringMatching(/does not verify/),
    ]);
  });

  it('fails when any bit of any byte of the signed checkpoint flips', async () => {
    const note = Buffer.from(await signCheckpoint(checkpoint, signer));
    for (let i = 0; i < note.length; i++) {
      for (const bit of [0x01, 0x02, 0x20, 0x80]) {
        const flipped = Buffer.from(note);
        flipped[i] = (flipped[i] ?? 0) ^ bit;
        const result = verifyCheckpoint(flipped, vkey, origin);
        if (result.ok) throw new Error(`flipping bit ${bit} of byte ${i} went unnoticed`);
      }
    }
  });

  it("rejects another tenant's checkpoint signed by the same key", async () => {
    const other = await signCheckpoint({ ...checkpoint, origin: 'warden.example/globex' }, signer);
    expect(verifyCheckpoint(other, vkey).problems).toEqual([
      expect.stringMatching(/^No signature by a known key: signed by warden\.example\/globex\+/),
    ]);
  });

  it('rejects a checkpoint for an origin other than the expected one', async () => {
    const other = 'warden.example/globex';
    const otherVkey = verifierKey(other, rawPublicKey(signer.publicKey));
    const note = await signCheckpoint({ ...checkpoint, origin: other }, signer);
    expect(verifyCheckpoint(note, otherVkey, origin)).toEqual({
      ok: false,
      problems: [`The checkpoint is for origin "${other}", not "${origin}".`],
    });
  });

  it('rejects a validly signed note whose text is not a checkpoint', async () => {
    const note = await signNote(`${origin}\n007\n${root64}\n`, [createNoteSigner(origin, signer)]);
    expect(verifyCheckpoint(note, vkey).problems).toEqual([
      'Malformed checkpoint: the tree size "007" has leading zeros.',
    ]);
  });

  it('refuses to sign an origin that cannot be a key name', async () => {
    await expect(
      signCheckpoint({ ...checkpoint, origin: 'go.sum database tree' }, signer),
    ).rejects.toThrow(/is also the note key name/);
    await expect(signCheckpoint({ ...checkpoint, origin: 'a+b' }, signer)).rejects.toThrow(
      /is also the note key name/,
    );
  });

  it('works with a fresh key from generateSigningKey()', async () => {
    const fresh = createSigner(generateSigningKey());
    const note = await signCheckpoint(checkpoint, fresh);
    expect(verifyCheckpoint(note, verifierKey(origin, rawPublicKey(fresh.publicKey))).ok).toBe(
      true,
    );
    expect(verifyCheckpoint(note, vkey).ok).toBe(false);
  });
});
