/**
 * Writing a checkpoint into the bank (the backup site's Swift): the
 * container with its Dragon metadata, the objects plugins stream in (SHA-256
 * and size computed on the way, large ones as Static Large Objects), and
 * `manifest.json` last — a checkpoint without it is incomplete.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { SwiftClient } from '../../common/openstack/swift.js';
import type {
  BankObject,
  BankReference,
  BankWriter,
  EarlierMatch,
  EarlierObject,
  WrittenObject,
} from '../plugin-api.js';
import {
  type BankStatus,
  FORMAT_VERSION,
  FORMAT_VERSION_SELF_CONTAINED,
  MANIFEST_OBJECT,
  type Manifest,
  type ManifestInput,
  META,
  metaKey,
  OBJECT_SHA256_META,
} from './format.js';
import { HashingStream } from './hashing.js';
import { createUniqueContainer, segmentContainerName, validateObjectName } from './names.js';

export interface CreateCheckpointOptions {
  swift: SwiftClient;
  /** The container name; default: a free `<policy name>_<UTC time>` (see containerName). */
  container?: string;
  policy: { id: string; name: string };
  projectId: string;
  checkpointId: string;
  /** When the checkpoint was taken (names the container); default now. */
  date?: Date;
  /**
   * `X-Container-Read` for when the backup site reads with other credentials,
   * e.g. `<project id>:*` (keystoneauth syntax).
   */
  readAcl?: string;
  /** Objects larger than this become SLOs; default the client's (1 GiB). */
  segmentSize?: number;
}

/**
 * Where a writer finds copies of earlier checkpoints and records the ones it
 * uses. The engine supplies it from its database (the bank itself cannot say
 * which checkpoints are alive, nor which protects are in flight).
 */
/** An earlier copy as the ledger offers it: with the checkpoint whose manifest offered it. */
export type OfferedObject = EarlierObject & { offeredBy: string };

export interface ReferenceLedger {
  find(object: string, match: EarlierMatch): Promise<OfferedObject | undefined>;
  /**
   * Recorded BEFORE the object is checked, so a deletion racing with it keeps the object; refused
   * when the checkpoint `offeredBy` is no longer available (its deletion began: it may not see this).
   */
  record(ref: BankReference, offeredBy: string): Promise<void>;
  forget(ref: BankReference): Promise<void>;
  /** What this checkpoint recorded already (a protect taken over by another engine). */
  recorded(): Promise<BankReference[]>;
}

/** Swift limits a metadata value to 256 bytes. */
function metaValue(s: string): string {
  let out = '';
  for (const ch of s.replace(/[\r\n]+/g, ' ')) {
    if (Buffer.byteLength(out + ch) > 256) break;
    out += ch;
  }
  return out;
}

export class CheckpointBankWriter implements BankWriter {
  readonly #objects = new Map<string, BankObject>();
  /** By object name: a checkpoint uses one copy of a name, its own or a referenced one. */
  readonly #references = new Map<string, BankReference>();
  #ledger: ReferenceLedger | undefined;
  /** `<container>/<object>` the ledger offered: the only objects this checkpoint may reference. */
  /** What findEarlier offered, by `container/object`: a reference is stored as offered, not as passed. */
  readonly #offered = new Map<string, { ref: BankReference; offeredBy: string }>();
  #manifestWritten = false;

  private constructor(
    readonly swift: SwiftClient,
    readonly container: string,
    readonly checkpointId: string,
    readonly createdAt: string,
    readonly segmentSize: number | undefined,
  ) {}

  /** Creates the checkpoint's container (status `writing`) and returns its writer. */
  static async create(opts: CreateCheckpointOptions): Promise<CheckpointBankWriter> {
    const date = opts.date ?? new Date();
    const { swift } = opts;
    let container = opts.container;
    if (container) {
      if (await swift.containerInfo(container))
        throw new Error(`bank: container ${container} already exists; a checkpoint needs a new one`);
      await swift.createContainer(container);
    } else {
      container = await createUniqueContainer(swift, opts.policy.name, date);
    }
    const createdAt = date.toISOString();
    await swift.setContainerMetadata(container, {
      // Raised to 2 by writeManifest when the checkpoint references other containers.
      [META.format]: String(FORMAT_VERSION_SELF_CONTAINED),
      [META.policyId]: metaValue(opts.policy.id),
      [META.policyName]: metaValue(opts.policy.name),
      [META.project]: metaValue(opts.projectId),
      [META.checkpointId]: metaValue(opts.checkpointId),
      [META.createdAt]: createdAt,
      [META.status]: 'writing' satisfies BankStatus,
    });
    if (opts.readAcl) await swift.setContainerAcl(container, { read: opts.readAcl });
    return new CheckpointBankWriter(swift, container, opts.checkpointId, createdAt, opts.segmentSize);
  }

  /**
   * Continues writing a checkpoint another engine started (a protect taken
   * over): the objects already in the container are recorded again from
   * their SHA-256 metadata; one without it (its writer stopped between the
   * upload and the metadata) is re-read and hashed.
   */
  static async resume(opts: {
    swift: SwiftClient;
    container: string;
    segmentSize?: number;
  }): Promise<CheckpointBankWriter> {
    const { swift, container } = opts;
    const info = await swift.containerInfo(container);
    const meta = info?.metadata ?? {};
    if (!meta[metaKey(META.format)]) throw new Error(`bank: ${container} is not a checkpoint container`);
    const status = meta[metaKey(META.status)];
    if (status !== 'writing')
      throw new Error(`bank: checkpoint ${container} is ${status}, not being written; it cannot be resumed`);
    const writer = new CheckpointBankWriter(
      swift,
      container,
      meta[metaKey(META.checkpointId)] ?? '',
      meta[metaKey(META.createdAt)] ?? new Date().toISOString(),
      opts.segmentSize,
    );
    for (const entry of await swift.listObjects(container)) {
      if (entry.name === MANIFEST_OBJECT) continue;
      const head = await swift.headObject(container, entry.name);
      if (!head) continue;
      let sha256 = head.metadata[metaKey(OBJECT_SHA256_META)];
      let size = head.size;
      if (!sha256) {
        const hashing = new HashingStream();
        for await (const _ of (await swift.getObject(container, entry.name)).stream.pipe(hashing)) {
          // drained: only the hash and size matter
        }
        ({ sha256, size } = hashing.result());
      }
      writer.#objects.set(entry.name, { name: entry.name, size, sha256 });
    }
    return writer;
  }

  /** The objects written so far, as the manifest will list them. */
  get objects(): BankObject[] {
    return [...this.#objects.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Streams `data` into the object `name`. Never gathers a stream in memory;
   * a failure rejects with an error naming the object.
   */
  async put(
    name: string,
    data: Readable | Buffer | string,
    opts: { size?: number; contentType?: string } = {},
  ): Promise<WrittenObject> {
    validateObjectName(name);
    if (this.#manifestWritten) throw new Error(`bank: checkpoint ${this.container} is already complete`);
    const putOpts = {
      contentType: opts.contentType,
      segmentSize: this.segmentSize,
      segmentContainer: segmentContainerName(this.container),
    };
    let object: BankObject;
    let md5: string;
    try {
      if (data instanceof Readable) {
        const hashing = new HashingStream();
        data.on('error', (e) => hashing.destroy(e));
        data.pipe(hashing);
        let sent: number;
        try {
          ({ size: sent, md5 } = await this.swift.putObject(this.container, name, hashing, {
            ...putOpts,
            size: opts.size,
          }));
        } finally {
          if (!data.readableEnded && !data.destroyed) data.destroy();
        }
        const { size, sha256 } = hashing.result();
        if (sent !== size) throw new Error(`sent ${sent} bytes but read ${size}`);
        // Known only now that every byte went through: recorded on the object for a takeover.
        await this.swift.setObjectMetadata(this.container, name, { [OBJECT_SHA256_META]: sha256 });
        object = { name, size, sha256 };
      } else {
        // A Buffer or string can be re-sent, so the client retries it on 5xx.
        const buf = typeof data === 'string' ? Buffer.from(data) : data;
        const sha256 = createHash('sha256').update(buf).digest('hex');
        const r = await this.swift.putObject(this.container, name, buf, {
          ...putOpts,
          metadata: { [OBJECT_SHA256_META]: sha256 },
        });
        object = { name, size: r.size, sha256 };
        md5 = r.md5;
      }
      if (opts.size !== undefined && object.size !== opts.size)
        throw new Error(`${object.size} bytes written but ${opts.size} announced`);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`bank: writing object ${name} into checkpoint ${this.container} failed: ${msg}`, {
        cause: err,
      });
    }
    this.#objects.set(name, object);
    // An own copy replaces a reference of the same name (a retried step that had to copy after all).
    const replaced = this.#references.get(name);
    if (replaced) {
      this.#references.delete(name);
      await this.#ledger?.forget(replaced).catch(() => undefined);
    }
    return { ...object, md5 };
  }

  async putJson(name: string, value: unknown): Promise<WrittenObject> {
    return this.put(name, `${JSON.stringify(value, null, 2)}\n`, { contentType: 'application/json' });
  }

  /** Lets this checkpoint reuse earlier copies through `ledger` (and takes back what it recorded already). */
  async useLedger(ledger: ReferenceLedger): Promise<void> {
    this.#ledger = ledger;
    for (const ref of await ledger.recorded()) {
      if (this.#objects.has(ref.object)) await ledger.forget(ref);
      else this.#references.set(ref.object, ref);
    }
  }

  /** The references recorded so far, as the manifest will list them. */
  get references(): BankReference[] {
    return [...this.#references.values()].sort(
      (a, b) =>
        // Code-unit order, as for the objects: the manifest must not depend on the locale.
        (a.container < b.container ? -1 : a.container > b.container ? 1 : 0) ||
        (a.object < b.object ? -1 : a.object > b.object ? 1 : 0),
    );
  }

  async findEarlier(object: string, match: EarlierMatch): Promise<EarlierObject | undefined> {
    if (!this.#ledger || this.#manifestWritten) return undefined;
    const found = await this.#ledger.find(object, match);
    if (!found || found.container === this.container) return undefined;
    const { saved, offeredBy, ...ref } = found;
    const clean: BankReference = {
      container: ref.container,
      object: ref.object,
      size: ref.size,
      sha256: ref.sha256,
      checkpoint_id: ref.checkpoint_id,
    };
    this.#offered.set(`${found.container}/${found.object}`, { ref: clean, offeredBy });
    return { ...clean, saved };
  }

  async reference(ref: BankReference): Promise<void> {
    validateObjectName(ref.object);
    const where = `${ref.container}/${ref.object}`;
    if (!this.#ledger) throw new Error(`bank: checkpoint ${this.container} cannot reference ${where}`);
    if (this.#manifestWritten) throw new Error(`bank: checkpoint ${this.container} is already complete`);
    if (ref.container === this.container || ref.container === segmentContainerName(this.container))
      throw new Error(`bank: ${where} is in this checkpoint's own container`);
    if (this.#objects.has(ref.object))
      throw new Error(`bank: checkpoint ${this.container} already holds its own ${ref.object}`);
    const known = this.#references.get(ref.object);
    if (known && known.container !== ref.container)
      throw new Error(`bank: ${ref.object} is already referenced from ${known.container}`);
    if (known) return;
    // Only what an earlier live checkpoint of the project holds (findEarlier), never a container of
    // choice, and with the size and SHA-256 its manifest gave, whatever the caller passes.
    const offered = this.#offered.get(where);
    if (!offered) throw new Error(`bank: cannot reference ${where}: findEarlier did not offer it`);
    const clean = offered.ref;
    // Recorded first: a deletion of the older checkpoint that starts now sees it and keeps the object.
    await this.#ledger.record(clean, offered.offeredBy);
    const problem = await referenceProblem(this.swift, clean);
    if (problem) {
      await this.#ledger.forget(clean).catch(() => undefined);
      throw new Error(`bank: cannot reference ${where}: ${problem}`);
    }
    this.#references.set(clean.object, clean);
  }

  /**
   * Writes `manifest.json` (after every other object) and marks the
   * checkpoint `available`. The caller passes the policy, graph, steps and
   * template; the bank adds the format, ids, objects and total size.
   */
  async writeManifest(input: ManifestInput): Promise<Manifest> {
    const objects = this.objects;
    const references = this.references;
    // Checked again just before the manifest: an older checkpoint deleted since the reference was
    // taken must fail this protect rather than leave a manifest naming a deleted object.
    const problems: string[] = [];
    for (const ref of references) {
      const problem = await referenceProblem(this.swift, ref);
      if (problem) problems.push(`${ref.container}/${ref.object} ${problem}`);
    }
    if (problems.length > 0)
      throw new Error(
        `bank: referenced objects of checkpoint ${this.container} changed: ${problems.join('; ')}`,
      );
    const manifest: Manifest = {
      ...input,
      format_version: references.length > 0 ? FORMAT_VERSION : FORMAT_VERSION_SELF_CONTAINED,
      checkpoint_id: this.checkpointId,
      created_at: input.created_at ?? this.createdAt,
      objects,
      total_size: objects.reduce((n, o) => n + o.size, 0),
      ...(references.length > 0 ? { references } : {}),
    };
    if (references.length > 0)
      await this.swift.setContainerMetadata(this.container, { [META.format]: String(FORMAT_VERSION) });
    try {
      await this.swift.putObject(
        this.container,
        MANIFEST_OBJECT,
        Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
        { contentType: 'application/json' },
      );
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`bank: writing ${MANIFEST_OBJECT} into checkpoint ${this.container} failed: ${msg}`, {
        cause: err,
      });
    }
    this.#manifestWritten = true;
    await this.swift.setContainerMetadata(this.container, {
      [META.status]: 'available' satisfies BankStatus,
    });
    return manifest;
  }

  /** Marks the checkpoint failed (status `error` and why); it is then never offered for recovery. */
  async markError(reason: string): Promise<void> {
    await markStatus(this.swift, this.container, 'error', reason);
  }
}

/** Why a referenced object cannot be used (gone, or another size), or undefined when it is there. */
export async function referenceProblem(swift: SwiftClient, ref: BankReference): Promise<string | undefined> {
  const head = await swift.headObject(ref.container, ref.object);
  if (!head) return 'is missing';
  if (head.size !== ref.size) return `has ${head.size} bytes, not ${ref.size}`;
  const sha = head.metadata[metaKey(OBJECT_SHA256_META)];
  if (sha && sha !== ref.sha256) return `has SHA-256 ${sha}, not ${ref.sha256}`;
  return undefined;
}

/** Sets a checkpoint container's status (and reason, cleared when none). */
export async function markStatus(
  swift: SwiftClient,
  container: string,
  status: BankStatus,
  reason?: string,
): Promise<void> {
  await swift.setContainerMetadata(
    container,
    { [META.status]: status, ...(reason ? { [META.statusReason]: metaValue(reason) } : {}) },
    reason ? [] : [META.statusReason],
  );
}
