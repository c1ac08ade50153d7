/**
 * Streams that hash the bytes passing through: on the way into the bank
 * (SHA-256 and size for the manifest) and on the way out (compared with the
 * manifest at the end, so a reader never trusts bytes that were changed).
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** Counts and hashes what flows through; `result()` once the stream has ended. */
export class HashingStream extends Transform {
  readonly #hash = createHash('sha256');
  #size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void) {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    cb(null, chunk);
  }

  result(): { size: number; sha256: string } {
    return { size: this.#size, sha256: this.#hash.digest('hex') };
  }
}

/** Thrown (as the stream's error) when bytes read from the bank differ from the manifest. */
export class BankIntegrityError extends Error {
  override name = 'BankIntegrityError';
  constructor(
    message: string,
    readonly object: string,
    readonly problem: 'size' | 'sha256',
  ) {
    super(message);
  }
}

/**
 * Passes the bytes on and errors at the end (or as soon as there are too
 * many) when their size or SHA-256 is not what the manifest says.
 */
export class VerifyingStream extends Transform {
  readonly #hash = createHash('sha256');
  #size = 0;

  constructor(
    readonly expected: { name: string; size: number; sha256: string },
    readonly where: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void) {
    this.#size += chunk.length;
    if (this.#size > this.expected.size) {
      cb(this.#error('size', `more than the ${this.expected.size} bytes recorded`));
      return;
    }
    this.#hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: (e?: Error | null) => void) {
    if (this.#size !== this.expected.size) {
      cb(this.#error('size', `${this.#size} bytes instead of the ${this.expected.size} recorded`));
      return;
    }
    const got = this.#hash.digest('hex');
    if (got !== this.expected.sha256) {
      cb(this.#error('sha256', `SHA-256 ${got} instead of the ${this.expected.sha256} recorded`));
      return;
    }
    cb();
  }

  #error(problem: 'size' | 'sha256', detail: string): BankIntegrityError {
    return new BankIntegrityError(
      `bank: object ${this.expected.name} of checkpoint ${this.where} is corrupt: ${detail}`,
      this.expected.name,
      problem,
    );
  }
}
