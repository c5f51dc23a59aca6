/** Verify-check: the pieces every bundle check shares — a named check, receipt labels, shapes. */

export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was checked, or the first failure, precisely. */
  detail: string;
  failures: number;
}

/** One named check: counts failures and keeps the first one's detail. */
export class Check {
  failures = 0;
  first: string | undefined;
  constructor(readonly name: string) {}
  fail(detail: string) {
    this.failures++;
    this.first ??= detail;
  }
  result(okDetail: string): CheckResult {
    return this.failures === 0
      ? { name: this.name, ok: true, detail: okDetail, failures: 0 }
      : {
          name: this.name,
          ok: false,
          detail:
            this.failures > 1
              ? `${this.first} (and ${this.failures - 1} more)`
              : (this.first as string),
          failures: this.failures,
        };
  }
}

export type Obj = Record<string, unknown>;
export const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
/** An Ed25519 signature in canonical base64url: 64 bytes, 86 characters, no padding. */
export const isSig = (v: unknown): v is string =>
  typeof v === 'string' && /^[A-Za-z0-9_-]{85}[AQgw]$/.test(v);
export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A receipt's name in messages, built only when a message uses it (template literals call
 * toString): verifying 100,000 receipts builds none when all is well.
 */
export class Label {
  constructor(
    private readonly r: unknown,
    private readonly index: number,
  ) {}
  toString(): string {
    return label(this.r, this.index);
  }
}

export const noDigests: ReadonlySet<string> = new Set();

function label(r: unknown, index: number): string {
  const p = isObj(r) && isObj(r.payload) ? r.payload : {};
  const id = typeof p.id === 'string' ? p.id : '?';
  const seq = typeof p.seq === 'number' ? p.seq : '?';
  return `receipt ${id} (seq ${seq}, #${index + 1} in bundle)`;
}
