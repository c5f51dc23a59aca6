/**
 * Checkpoints (c2sp.org/tlog-checkpoint@v1.0.0): a log's signed tree head, as a signed note whose text
 * is `<origin>\n<tree size>\n<base64 root hash>\n` and optional extension lines.
 *
 * Warden keeps one log per tenant; its origin is `<WARDEN_LOG_ORIGIN or host>/<tenant>` (the caller
 * builds it). The note key name is the origin itself: tlog-checkpoint says the log's key name SHOULD
 * match the origin, so the vkey names the log it speaks for, and since the key ID hashes the name, one
 * Ed25519 key gives each tenant a distinct vkey whose signatures never verify for another tenant.
 */
import { WardenError } from '../errors.js';
import type { Signer } from './ed25519.js';
import {
  createNoteSigner,
  decodeBase64Std,
  isValidKeyName,
  type NoteVerifierKey,
  noteTextProblem,
  signNote,
  verifyNote,
} from './signed-note.js';

export interface Checkpoint {
  origin: string;
  /** Leaves in the tree; at most 2^53 - 1 (Number.MAX_SAFE_INTEGER). */
  size: number;
  /** The 32-byte RFC 6962 root hash. */
  rootHash: Buffer;
  /** Opaque, non-empty lines after the root hash. tlog-checkpoint discourages them. */
  extensions: string[];
}

export interface CheckpointInput {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** @defaultValue [] */
  extensions?: readonly string[] | undefined;
}

export type CheckpointVerification =
  | { ok: true; checkpoint: Checkpoint; problems: [] }
  | { ok: false; checkpoint?: undefined; problems: string[] };

/**
 * The note text of a checkpoint.
 * @example checkpointText({ origin: 'warden.example/acme', size: 3, rootHash }) // 'warden.example/acme\n3\n…=\n'
 */
export function checkpointText({
  origin,
  size,
  rootHash,
  extensions = [],
}: CheckpointInput): string {
  const fail = (why: string) => invalid(`Cannot format the checkpoint: ${why}.`);
  const problem = originProblem(origin);
  if (problem) throw fail(problem);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw fail(`the tree size must be an integer from 0 to 2^53 - 1, not ${size}`);
  }
  if (rootHash.length !== 32) throw fail(`the root hash is ${rootHash.length} bytes, not 32`);
  const bad = extensions.findIndex((line) => line === '' || line.includes('\n'));
  if (bad >= 0) throw fail(`extension line ${bad + 1} is empty or contains a newline`);
  const lines = [origin, String(size), Buffer.from(rootHash).toString('base64'), ...extensions];
  const text = `${lines.join('\n')}\n`;
  const textProblem = noteTextProblem(text);
  if (textProblem) throw fail(textProblem);
  return text;
}

/** Parses a checkpoint's note text, strictly. Throws a WardenError (`invalid`) saying what is wrong. */
export function parseCheckpoint(text: string): Checkpoint {
  const fail = (why: string) => invalid(`Malformed checkpoint: ${why}.`);
  const problem = noteTextProblem(text);
  if (problem) throw fail(problem);
  const lines = text.slice(0, -1).split('\n');
  const [origin = '', sizeLine = '', rootLine = '', ...extensions] = lines;
  if (lines.length < 3)
    throw fail(`${lines.length} line(s); origin, size and root hash are needed`);
  const empty = lines.indexOf('');
  if (empty > 0) throw fail(`line ${empty + 1} is empty`);
  const originIssue = originProblem(origin);
  if (originIssue) throw fail(originIssue);
  if (/^0\d/.test(sizeLine)) throw fail(`the tree size ${quote(sizeLine)} has leading zeros`);
  if (!/^(0|[1-9]\d*)$/.test(sizeLine)) {
    throw fail(`the tree size ${quote(sizeLine)} is not a decimal number`);
  }
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw fail(`the tree size ${sizeLine} exceeds 2^53 - 1`);
  const rootHash = decodeBase64Std(rootLine);
  if (!rootHash) throw fail(`the root hash ${quote(rootLine)} is not canonical standard base64`);
  if (rootHash.length !== 32) throw fail(`the root hash is ${rootHash.length} bytes, not 32`);
  return { origin, size, rootHash, extensions };
}

/**
 * Signs a checkpoint with the ledger's Ed25519 key under key name = origin.
 * @example await signCheckpoint({ origin, size, rootHash }, createSigner(key))
 */
export async function signCheckpoint(
  checkpoint: CheckpointInput,
  signer: Pick<Signer, 'publicKey' | 'sign'>,
): Promise<string> {
  const text = checkpointText(checkpoint);
  if (!isValidKeyName(checkpoint.origin)) {
    throw invalid(
      `Cannot sign the checkpoint: the origin ${quote(checkpoint.origin)} is also the note key name, which must not contain white space or "+".`,
    );
  }
  return signNote(text, [createNoteSigner(checkpoint.origin, signer)]);
}

/**
 * Verifies a signed checkpoint against the log's vkey and, when given, the origin the caller expects
 * (pass it: the signature alone does not say which log the caller meant). Never throws.
 */
export function verifyCheckpoint(
  note: string | Uint8Array,
  vkey: string | NoteVerifierKey,
  expectedOrigin?: string,
): CheckpointVerification {
  const verified = verifyNote(note, [vkey]);
  if (!verified.ok) return verified;
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(verified.text);
  } catch (err) {
    return { ok: false, problems: [err instanceof Error ? err.message : String(err)] };
  }
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    const why = `The checkpoint is for origin ${quote(checkpoint.origin)}, not ${quote(expectedOrigin)}.`;
    return { ok: false, problems: [why] };
  }
  return { ok: true, checkpoint, problems: [] };
}

function originProblem(origin: string): string | undefined {
  if (origin === '') return 'the origin (line 1) is empty';
  if (/^\p{White_Space}|\p{White_Space}$/u.test(origin)) {
    return `the origin ${quote(origin)} starts or ends with white space`;
  }
}

const quote = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
const invalid = (message: string) => new WardenError('invalid', message);
