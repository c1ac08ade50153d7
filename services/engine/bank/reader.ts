/**
 * Reading a checkpoint from the bank: the manifest first (no manifest, no
 * checkpoint), then objects whose bytes are verified against the manifest
 * while they are read.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OpenStackHttpError } from '../../common/openstack/errors.js';
import type { SwiftClient } from '../../common/openstack/swift.js';
import type { BankObject, BankReader, BankReference } from '../plugin-api.js';
import { FORMAT_VERSION, MANIFEST_OBJECT, type Manifest } from './format.js';
import { HashingStream, VerifyingStream } from './hashing.js';
import { validateObjectName } from './names.js';

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

/** Where an object's bytes are and what they must be: the checkpoint's own, or a referenced one. */
interface Located {
  container: string;
  expected: BankObject;
  /** `<container>/<object>` for a referenced object, the object name for an own one. */
  label: string;
}

export class CheckpointBankReader implements BankReader {
  readonly #byName: Map<string, BankObject>;
  readonly #references: Map<string, BankReference>;

  constructor(
    readonly swift: SwiftClient,
    readonly container: string,
    readonly manifest: Manifest,
  ) {
    this.#byName = new Map(manifest.objects.map((o) => [o.name, o]));
    this.#references = new Map((manifest.references ?? []).map((r) => [r.object, r]));
  }

  /** The objects of other containers this checkpoint uses (manifest `references`). */
  get references(): BankReference[] {
    return [...this.#references.values()];
  }

  /**
   * Finds an object: the checkpoint's own first, else the one its manifest references. Only a
   * container the manifest references is ever read, whatever a caller passes as `container`.
   */
  #locate(name: string, container?: string): Located | undefined {
    if (container === undefined || container === this.container) {
      const own = this.#byName.get(name);
      if (own) return { container: this.container, expected: own, label: name };
      if (container === this.container) return undefined;
    }
    const ref = this.#references.get(name);
    if (!ref || (container !== undefined && ref.container !== container)) return undefined;
    return {
      container: ref.container,
      expected: { name: ref.object, size: ref.size, sha256: ref.sha256 },
      label: `${ref.container}/${ref.object}`,
    };
  }

  /** The object's bytes; the stream errors, naming the object, if they differ from the manifest. */
  async get(name: string, opts: { container?: string } = {}): Promise<Readable> {
    const at = this.#locate(name, opts.container);
    if (!at)
      throw new Error(
        `bank: object ${opts.container ? `${opts.container}/` : ''}${name} is not in the manifest of checkpoint ${this.container}`,
      );
    let stream: Readable;
    try {
      stream = (await this.swift.getObject(at.container, name)).stream;
    } catch (err) {
      if (err instanceof OpenStackHttpError && err.status === 404)
        throw new Error(
          at.container === this.container
            ? `bank: object ${name} of checkpoint ${this.container} is missing`
            : `bank: object ${at.label} referenced by checkpoint ${this.container} is missing`,
          { cause: err },
        );
      throw err;
    }
    const verifying = new VerifyingStream(at.expected, at.container);
    stream.on('error', (e) => verifying.destroy(e));
    verifying.on('close', () => {
      if (!stream.destroyed) stream.destroy();
    });
    return stream.pipe(verifying);
  }

  async getJson<T = unknown>(name: string, opts: { container?: string } = {}): Promise<T> {
    const chunks: Buffer[] = [];
    for await (const c of await this.get(name, opts)) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  }

  stat(name: string, opts: { container?: string } = {}): BankObject | undefined {
    return this.#locate(name, opts.container)?.expected;
  }

  list(prefix = ''): BankObject[] {
    return this.manifest.objects.filter((o) => o.name.startsWith(prefix));
  }

  /**
   * Re-reads every object of the manifest, its own and the referenced ones, and compares size and
   * SHA-256. A referenced object's problem names it as `<container>/<object>`.
   */
  async verify(opts: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
    const problems: VerifyProblem[] = [];
    let bytesRead = 0;
    const all: Located[] = [
      ...this.manifest.objects.map((o) => ({ container: this.container, expected: o, label: o.name })),
      ...this.references.map((r) => ({
        container: r.container,
        expected: { name: r.object, size: r.size, sha256: r.sha256 },
        label: `${r.container}/${r.object}`,
      })),
    ];
    for (const { container, expected, label } of all) {
      opts.signal?.throwIfAborted();
      let stream: Readable;
      try {
        stream = (await this.swift.getObject(container, expected.name, { signal: opts.signal })).stream;
      } catch (err) {
        if (err instanceof OpenStackHttpError && err.status === 404) {
          problems.push({ object: label, problem: 'missing' });
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
          object: label,
          problem: 'size',
          detail: `${got.size} bytes instead of ${expected.size}`,
        });
      else if (got.sha256 !== expected.sha256)
        problems.push({
          object: label,
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
  if (
    typeof manifest?.format_version !== 'number' ||
    !Array.isArray(manifest.objects) ||
    (manifest.references !== undefined && !validReferences(manifest.references))
  )
    throw new CheckpointIncompleteError(
      `checkpoint ${container} is unusable: ${MANIFEST_OBJECT} is not a Dragon manifest`,
    );
  if (manifest.format_version > FORMAT_VERSION)
    throw new CheckpointIncompleteError(
      `checkpoint ${container} has format ${manifest.format_version}; this Dragon reads up to ${FORMAT_VERSION}`,
    );
  return manifest;
}

function validName(name: string): boolean {
  try {
    validateObjectName(name);
    return true;
  } catch {
    return false;
  }
}

/** References a reader may follow: well-formed, each naming a container and an object once. */
function validReferences(refs: unknown): refs is BankReference[] {
  if (!Array.isArray(refs)) return false;
  const seen = new Set<string>();
  for (const r of refs as Array<Partial<BankReference>>) {
    if (
      typeof r?.container !== 'string' ||
      !r.container ||
      r.container.includes('/') ||
      r.container === '.' ||
      r.container === '..' ||
      typeof r.object !== 'string' ||
      !r.object ||
      !validName(r.object) ||
      typeof r.size !== 'number' ||
      typeof r.sha256 !== 'string' ||
      seen.has(r.object)
    )
      return false;
    seen.add(r.object);
  }
  return true;
}
