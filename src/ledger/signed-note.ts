/**
 * Signed notes (c2sp.org/signed-note@v1.0.0) with Ed25519 keys (signature type 0x01): a text ending
 * in a newline, a blank line, then lines `— <key name> <base64(4-byte key ID ‖ signature)>`.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { WardenError } from '../errors.js';
import { rawPublicKey, type Signer, verifyEd25519 } from './ed25519.js';

const ed25519Type = 0x01;
const sigPrefix = '\u2014 '; // EM DASH, space
/** Go's sumdb/note stops at 100; the spec asks verifiers to accept at least 16. */
const maxSignatures = 100;

export interface NoteSigner {
  /** The key name: non-empty, no white space, no `+`. */
  name: string;
  /** The raw 32-byte Ed25519 public key. */
  publicKeyRaw: Uint8Array;
  /** A 64-byte Ed25519 signature over `msg` (the UTF-8 note text). */
  sign(msg: Buffer): Buffer | Promise<Buffer>;
}

/** A parsed verifier key (`<name>+<hex key ID>+<base64(0x01 ‖ public key)>`). */
export interface NoteVerifierKey {
  readonly vkey: string;
  readonly name: string;
  readonly keyId: Buffer;
  readonly publicKeyRaw: Buffer;
  readonly publicKey: KeyObject;
}

export type NoteVerifier = string | { vkey: string } | NoteVerifierKey;

export interface NoteSignature {
  name: string;
  /** 8 lowercase hex digits. */
  keyId: string;
  /** A verifier key with this name and key ID was given. */
  known: boolean;
  /** Known, and the signature verifies over the text. */
  verified: boolean;
}

export interface OpenedNote {
  /** The signed text, final newline included, separating blank line excluded. */
  text: string;
  signatures: NoteSignature[];
}

export type NoteVerification =
  | { ok: true; text: string; signatures: NoteSignature[]; problems: [] }
  | { ok: false; text?: undefined; problems: string[] };

/** Key names must be non-empty and contain no Unicode white space and no `+`. */
export const isValidKeyName = (name: string): boolean =>
  name !== '' && !/[\p{White_Space}+]/u.test(name) && !hasLoneSurrogate(name);

/**
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4].
 * @example noteKeyId('example.com/foo', pub).toString('hex') // '530d903a'
 */
export function noteKeyId(name: string, publicKeyRaw: Uint8Array): Buffer {
  const hash = createHash('sha256').update(name, 'utf8').update(Uint8Array.of(0x0a, ed25519Type));
  return hash.update(publicKeyRaw).digest().subarray(0, 4);
}

/** @example verifierKey('example.com/foo', pub) // 'example.com/foo+530d903a+AekyeRrm…U2k' */
export function verifierKey(name: string, publicKeyRaw: Uint8Array): string {
  checkKey(name, publicKeyRaw);
  const key = Buffer.concat([Uint8Array.of(ed25519Type), publicKeyRaw]).toString('base64');
  return `${name}+${noteKeyId(name, publicKeyRaw).toString('hex')}+${key}`;
}

/** Parses and checks a vkey. Splits on the first two `+` only: base64 may contain `+`. */
export function parseVerifierKey(vkey: string): NoteVerifierKey {
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  const fail = (why: string) => invalid(`Verifier key ${quote(vkey)}: ${why}.`);
  if (second < 0) throw fail('expected <name>+<key ID>+<base64 key>');
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second).toLowerCase();
  if (!isValidKeyName(name)) throw fail(`${nameRule} (got ${quote(name)})`);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw fail('the key ID must be 8 hex digits');
  const key = decodeBase64Std(vkey.slice(second + 1));
  if (!key) throw fail('the key is not canonical standard base64');
  if (key[0] !== ed25519Type) throw fail(`signature type 0x${hex2(key[0])} is not Ed25519 (0x01)`);
  if (key.length !== 33) throw fail(`an Ed25519 key is 32 bytes, not ${key.length - 1}`);
  const publicKeyRaw = key.subarray(1);
  const keyId = noteKeyId(name, publicKeyRaw);
  if (keyId.toString('hex') !== idHex) {
    throw fail(
      `key ID ${idHex} does not match the name and key, which give ${keyId.toString('hex')}`,
    );
  }
  return { vkey, name, keyId, publicKeyRaw, publicKey: ed25519Key(publicKeyRaw) };
}

/** A note signer from the ledger's Ed25519 {@link Signer}, under key name `name`. */
export function createNoteSigner(name: string, signer: Pick<Signer, 'publicKey' | 'sign'>) {
  if (signer.publicKey.asymmetricKeyType !== 'ed25519') throw invalid('Note keys must be Ed25519.');
  return {
    name,
    publicKeyRaw: rawPublicKey(signer.publicKey),
    sign: (msg: Buffer) => Buffer.from(signer.sign(msg), 'base64url'),
  } satisfies NoteSigner;
}

/**
 * Signs `text` (which must end with a newline) with every signer, in order.
 * @example await signNote('hello\n', [createNoteSigner('example.com/log', signer)])
 */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  const problem = noteTextProblem(text);
  if (problem) throw invalid(`Cannot sign the note: ${problem}.`);
  if (signers.length === 0) throw invalid('Cannot sign the note: no signers.');
  const message = Buffer.from(text, 'utf8');
  const seen = new Set<string>();
  let lines = '';
  for (const signer of signers) {
    checkKey(signer.name, signer.publicKeyRaw);
    const keyId = noteKeyId(signer.name, signer.publicKeyRaw);
    const label = `${signer.name}+${keyId.toString('hex')}`;
    if (seen.has(label)) throw invalid(`Cannot sign the note: key ${label} is given twice.`);
    seen.add(label);
    const signature = await signer.sign(message);
    if (!verifyEd25519(ed25519Key(signer.publicKeyRaw), message, signature)) {
      throw invalid(`The signature by ${label} does not verify with that signer's publicKeyRaw.`);
    }
    lines += `${sigPrefix}${signer.name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
  }
  return `${text}\n${lines}`;
}

/**
 * Parses a signed note and checks each signature whose name and key ID match a verifier. Throws a
 * WardenError (`invalid`) on a malformed note or verifier key; does NOT reject unverified notes (see
 * {@link verifyNote}).
 */
export function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): OpenedNote {
  const keys = verifierMap(verifiers);
  const str = typeof note === 'string' ? note : decodeUtf8(note);
  const problem = charProblem(str);
  if (problem) throw invalid(`Malformed note: ${problem}.`);
  const split = str.lastIndexOf('\n\n');
  if (split < 0) throw invalid('Malformed note: no blank line before the signature lines.');
  const text = str.slice(0, split + 1);
  const block = str.slice(split + 2);
  if (block === '') {
    throw invalid('Malformed note: no signature line after the last blank line (extra newline?).');
  }
  if (!block.endsWith('\n')) {
    throw invalid('Malformed note: the last line must end with a newline.');
  }
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > maxSignatures) {
    throw invalid(`Malformed note: ${lines.length} signature lines, more than ${maxSignatures}.`);
  }
  const message = Buffer.from(text, 'utf8');
  const signatures = lines.map((line, i) => {
    const fail = (why: string) => invalid(`Malformed note: signature line ${i + 1} ${why}.`);
    if (!line.startsWith(sigPrefix)) throw fail(`does not start with "— " (U+2014, space)`);
    const space = line.indexOf(' ', sigPrefix.length);
    if (space < 0) throw fail('has no space between the key name and the signature');
    const name = line.slice(sigPrefix.length, space);
    if (!isValidKeyName(name)) throw fail(`has an invalid key name ${quote(name)}`);
    const bytes = decodeBase64Std(line.slice(space + 1));
    if (!bytes) throw fail('has a signature that is not canonical standard base64');
    if (bytes.length < 5) throw fail(`has a ${bytes.length}-byte signature, too short`);
    const keyId = bytes.subarray(0, 4).toString('hex');
    const key = keys.get(`${name}+${keyId}`);
    const verified = key ? verifyEd25519(key.publicKey, message, bytes.subarray(4)) : false;
    return { name, keyId, known: key !== undefined, verified };
  });
  return { text, signatures };
}

/**
 * The strict check: ok only when the note is well formed, at least one known key's signature
 * verifies, no known key's signature fails, and no known key signed twice. Never throws.
 */
export function verifyNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): NoteVerification {
  let opened: OpenedNote;
  try {
    opened = openNote(note, verifiers);
  } catch (err) {
    return { ok: false, problems: [err instanceof Error ? err.message : String(err)] };
  }
  const problems = new Set<string>();
  const seen = new Set<string>();
  for (const { name, keyId, known, verified } of opened.signatures) {
    const label = `${name}+${keyId}`;
    if (!known) continue;
    if (seen.has(label)) problems.add(`Key ${label} signed the note more than once.`);
    seen.add(label);
    if (!verified) {
      problems.add(`The signature by ${label} does not verify: the text or signature was altered.`);
    }
  }
  if (seen.size === 0) {
    const signed = opened.signatures.map((s) => `${s.name}+${s.keyId}`).join(', ');
    const expected = [...verifierMap(verifiers).keys()].join(', ') || 'none';
    problems.add(`No signature by a known key: signed by ${signed}; known keys: ${expected}.`);
  }
  if (problems.size > 0) return { ok: false, problems: [...problems] };
  return { ok: true, text: opened.text, signatures: opened.signatures, problems: [] };
}

/** Why `text` cannot be a note text (must end with a newline; UTF-8; no control but newline). */
export function noteTextProblem(text: string): string | undefined {
  if (!text.endsWith('\n')) return 'the text must end with a newline';
  return charProblem(text);
}

/** Strict RFC 4648 §4 base64: padded, canonical (zero pad bits), no other characters. */
export function decodeBase64Std(text: string): Buffer | undefined {
  if (text === '' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

function verifierMap(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifierKey> {
  const keys = new Map<string, NoteVerifierKey>();
  for (const v of verifiers) {
    const key =
      typeof v === 'string' ? parseVerifierKey(v) : 'publicKey' in v ? v : parseVerifierKey(v.vkey);
    const label = `${key.name}+${key.keyId.toString('hex')}`;
    const other = keys.get(label);
    if (other && !other.publicKeyRaw.equals(key.publicKeyRaw)) {
      throw invalid(`Two different verifier keys share the name and key ID ${label}.`);
    }
    keys.set(label, key);
  }
  return keys;
}

function ed25519Key(publicKeyRaw: Uint8Array): KeyObject {
  const x = Buffer.from(publicKeyRaw).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

function checkKey(name: string, publicKeyRaw: Uint8Array) {
  if (!isValidKeyName(name)) throw invalid(`Key name ${quote(name)}: ${nameRule}.`);
  if (publicKeyRaw.length !== 32) {
    throw invalid(`Key ${name}: an Ed25519 public key is 32 bytes, not ${publicKeyRaw.length}.`);
  }
}

function charProblem(text: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const control = /[\u0000-\u0009\u000b-\u001f]/.exec(text);
  if (control) {
    const code = `U+00${hex2(control[0].charCodeAt(0)).toUpperCase()}`;
    return `control character ${code} at offset ${control.index} (only newline is allowed)`;
  }
  if (hasLoneSurrogate(text)) return 'not valid UTF-8 (lone surrogate)';
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw invalid('Malformed note: not valid UTF-8.');
  }
}

const nameRule = 'key names are non-empty, with no white space and no "+"';
const hasLoneSurrogate = (text: string) => /\p{Surrogate}/u.test(text);
const hex2 = (byte: number | undefined) => (byte ?? 0).toString(16).padStart(2, '0');
const quote = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
const invalid = (message: string) => new WardenError('invalid', message);
