/** Secret: a value that never prints itself — logs, JSON and inspection all show `[secret]`. */
import { inspect } from 'node:util';

export class Secret {
  readonly #value: string;
  /** Where it came from, for messages: `env:NAME` or `literal`. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  /** The raw value; call it only at the point of use (hashing, HMAC, an Authorization header). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}
