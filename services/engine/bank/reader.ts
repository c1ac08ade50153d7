/**
 * Reading a checkpoint from the bank: the manifest first (no manifest, no
 * checkpoint), then objects whose bytes are verified against the manifest
 * while they are read.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OpenStackHttpError } from '../../common/openstack/errors.js';
import type { SwiftClient } from '../../common/openstack/swift.js';
import type { BankObject, BankReader } from '../plugin-api.js';
import { FORMAT_VERSION, MANIFEST_OBJECT, type Manifest } from './format.js';
import { HashingStream, VerifyingStream } from './hashing.js';

export class CheckpointIncompleteError extends Error {
  override name = 'CheckpointIncompleteError';
}

export interface VerifyProblem {
  object: string;
  problem: 'missing' | 'size' | 'sha256';
  detail?: string;
}

export interface VerifyResult {
  ok: boolean;
  problems: VerifyProblem[];
  /** Bytes read while verifying. */
  bytesRead: number;
}

export class CheckpointBankReader implements BankReader {
  readonly #byName: Map<string, BankObject>;

  constructor(
    readonly swift: SwiftClient,
    readonly container: string,
    readonly manifest: Manifest,
  ) {
    this.#byName = new Map(manifest.objects.map((o) => [o.name, o]));
  }

  /** The object's bytes; the stream errors, naming the object, if they differ from the manifest. */
  async get(name: string): Promise<Readable> {
    const expected = this.stat(name);
    if (!expected)
      throw new Error(`bank: object ${name} is not in the manifest of checkpoint ${this.container}`);
    let stream: Readable;
    try {
      stream = (await this.swift.getObject(this.container, name)).stream;
    } catch (err) {
      if (err instanceof OpenStackHttpError && err.status === 404)
        throw new Error(`bank: object ${name} of checkpoint ${this.container} is missing`, { cause: err });
      throw err;
    }
    const verifying = new VerifyingStream(expected, this.container);
    stream.on('error', (e) => verifying.destroy(e));
    verifying.on('close', () => {
      if (!stream.destroyed) stream.destroy();
    });
    return stream.pipe(verifying);
  }

  async getJson<T = unknown>(name: string): Promise<T> {
    const chunks: Buffer[] = [];
    for await (const c of await this.get(name)) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  }

  stat(name: string): BankObject | undefined {
    return this.#byName.get(name);
  }

  list(prefix = ''): BankObject[] {
    return this.manifest.objects.filter((o) => o.name.startsWith(prefix));
  }

  /** Re-reads every object of the manifest and compares its size and SHA-256. */
  async verify(opts: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
    const problems: VerifyProblem[] = [];
    let bytesRead = 0;
    for (const expected of this.manifest.objects) {
      opts.signal?.throwIfAborted();
      let stream: Readable;
      try {
        stream = (await this.swift.getObject(this.container, expected.name, { signal: opts.signal })).stream;
      } catch (err) {
        if (err instanceof OpenStackHttpError && err.status === 404) {
          problems.push({ object: expected.name, problem: 'missing' });
          continue;
        }
        throw err;
      }
      const hashing = new HashingStream();
      await pipeline(stream, hashing, async (source: AsyncIterable<unknown>) => {
        for await (const _ of source) {
          // drained: only the hash and size matter
        }
      });
      const got = hashing.result();
      bytesRead += got.size;
      if (got.size !== expected.size)
        problems.push({
          object: expected.name,
          problem: 'size',
          detail: `${got.size} bytes instead of ${expected.size}`,
        });
      else if (got.sha256 !== expected.sha256)
        problems.push({
          object: expected.name,
          problem: 'sha256',
          detail: `SHA-256 ${got.sha256} instead of ${expected.sha256}`,
        });
    }
    return { ok: problems.length === 0, problems, bytesRead };
  }
}

/** Reads the manifest of the checkpoint in `container`; an error when there is none. */
export async function openCheckpoint(opts: {
  swift: SwiftClient;
  container: string;
}): Promise<CheckpointBankReader> {
  const manifest = await readManifest(opts.swift, opts.container);
  return new CheckpointBankReader(opts.swift, opts.container, manifest);
}

/** The parsed manifest; CheckpointIncompleteError when missing or not a Dragon manifest. */
export async function readManifest(swift: SwiftClient, container: string): Promise<Manifest> {
  let text: string;
  try {
    const { stream } = await swift.getObject(container, MANIFEST_OBJECT);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    if (err instanceof OpenStackHttpError && err.status === 404)
      throw new CheckpointIncompleteError(`checkpoint ${container} is incomplete: no ${MANIFEST_OBJECT}`, {
        cause: err,
      });
    throw err;
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    throw new CheckpointIncompleteError(
      `checkpoint ${container} is unusable: ${MANIFEST_OBJECT} is not JSON`,
    );
  }
  if (typeof manifest?.format_version !== 'number' || !Array.isArray(manifest.objects))
    throw new CheckpointIncompleteError(
      `checkpoint ${container} is unusable: ${MANIFEST_OBJECT} is not a Dragon manifest`,
    );
  if (manifest.format_version > FORMAT_VERSION)
    throw new CheckpointIncompleteError(
      `checkpoint ${container} has format ${manifest.format_version}; this Dragon reads up to ${FORMAT_VERSION}`,
    );
  return manifest;
}
