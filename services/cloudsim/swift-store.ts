/**
 * The bytes and records of the simulated Swift: accounts, containers and
 * objects under `<site data>/swift/`. Object bytes are files written through
 * a stream (md5 computed on the way) and renamed into place when complete,
 * so a reader never sees half an object and a 1 GiB PUT never sits in
 * memory. Records live in memory for fast listings and are mirrored into
 * small JSON sidecars, so the data directory alone holds everything and a
 * restart over the same directory finds it again.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface SloSegment {
  /** `/container/object` in the same account. */
  name: string;
  hash: string;
  bytes: number;
  content_type: string;
  last_modified: string;
}

export interface ObjectRecord {
  name: string;
  /** Bytes of the object as a client sees it (an SLO: the sum of its segments). */
  bytes: number;
  /** md5 of the bytes; an SLO: md5 of the concatenated segment etags. */
  hash: string;
  contentType: string;
  /** Swift timestamp, seconds with 5 decimals. */
  timestamp: string;
  meta: Record<string, string>;
  /** Set for Static Large Object manifests; the data file holds the manifest JSON. */
  slo?: { manifestBytes: number };
  /** File name (under the container's objects dir) of the data. */
  file: string;
}

export interface ContainerRecord {
  name: string;
  timestamp: string;
  meta: Record<string, string>;
  read?: string;
  write?: string;
  objects: Map<string, ObjectRecord>;
}

export interface AccountRecord {
  name: string;
  timestamp: string;
  meta: Record<string, string>;
  containers: Map<string, ContainerRecord>;
}

export class SwiftError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let lastTs = 0;
/** A unique, increasing Swift timestamp ("1700000000.12345"). */
export function swiftTimestamp(): string {
  let t = Math.floor(Date.now() * 100);
  if (t <= lastTs) t = lastTs + 1;
  lastTs = t;
  return (t / 100000).toFixed(5);
}

const safe = (name: string) => createHash('sha256').update(name).digest('hex');

export class SwiftStore {
  readonly accounts = new Map<string, AccountRecord>();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
    this.#load();
  }

  // ---- accounts and containers ------------------------------------------------------------

  /** Accounts exist as soon as they are touched (the proxy's account_autocreate). */
  account(name: string): AccountRecord {
    let a = this.accounts.get(name);
    if (!a) {
      a = { name, timestamp: swiftTimestamp(), meta: {}, containers: new Map() };
      this.accounts.set(name, a);
      mkdirSync(this.#accountDir(name), { recursive: true });
      this.#saveAccount(a);
    }
    return a;
  }

  container(account: string, name: string): ContainerRecord | undefined {
    return this.accounts.get(account)?.containers.get(name);
  }

  /** Creates the container; false when it existed already. */
  createContainer(account: string, name: string): { container: ContainerRecord; created: boolean } {
    const a = this.account(account);
    const existing = a.containers.get(name);
    if (existing) return { container: existing, created: false };
    const c: ContainerRecord = { name, timestamp: swiftTimestamp(), meta: {}, objects: new Map() };
    a.containers.set(name, c);
    mkdirSync(join(this.#containerDir(account, name), 'objects'), { recursive: true });
    this.saveContainer(account, c);
    return { container: c, created: true };
  }

  deleteContainer(account: string, name: string): void {
    const a = this.accounts.get(account);
    const c = a?.containers.get(name);
    if (!a || !c) throw new SwiftError(404, 'Not Found');
    if (c.objects.size > 0)
      throw new SwiftError(409, 'There was a conflict when trying to complete your request.');
    a.containers.delete(name);
    rmSync(this.#containerDir(account, name), { recursive: true, force: true });
  }

  saveAccount(a: AccountRecord): void {
    this.#saveAccount(a);
  }

  saveContainer(account: string, c: ContainerRecord): void {
    const { objects: _objects, ...rest } = c;
    writeJsonSync(join(this.#containerDir(account, c.name), 'container.json'), rest);
  }

  // ---- objects ----------------------------------------------------------------------------

  object(account: string, container: string, name: string): ObjectRecord | undefined {
    return this.container(account, container)?.objects.get(name);
  }

  /**
   * Streams the body into a new file, then swaps it in. `expectedMd5` (the
   * client's ETag) is checked before anything becomes visible: 422.
   */
  async writeObject(
    account: string,
    container: string,
    name: string,
    body: Readable | Buffer,
    fields: {
      contentType: string;
      meta: Record<string, string>;
      expectedMd5?: string;
      /** Content-Length the client announced; a short body is an error (499 in Swift). */
      expectedLength?: number;
      slo?: { bytes: number; hash: string };
    },
  ): Promise<ObjectRecord> {
    const c = this.container(account, container);
    if (!c) throw new SwiftError(404, 'Not Found');
    const dir = join(this.#containerDir(account, container), 'objects');
    const file = `${safe(name)}.${randomUUID()}`;
    const tmp = join(dir, `.tmp-${file}`);
    const md5 = createHash('md5');
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        md5.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    try {
      await pipeline(source, counter, createWriteStream(tmp));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const etag = md5.digest('hex');
    if (fields.expectedLength !== undefined && size !== fields.expectedLength) {
      await rm(tmp, { force: true });
      throw new SwiftError(499, 'Client Disconnect');
    }
    if (fields.expectedMd5 && fields.expectedMd5.toLowerCase() !== etag) {
      await rm(tmp, { force: true });
      throw new SwiftError(422, 'Unable to process the contained instructions');
    }
    // The container may have gone while the bytes were arriving.
    if (this.container(account, container) !== c) {
      await rm(tmp, { force: true });
      throw new SwiftError(404, 'Not Found');
    }
    await rename(tmp, join(dir, file));
    const rec: ObjectRecord = {
      name,
      bytes: fields.slo ? fields.slo.bytes : size,
      hash: fields.slo ? fields.slo.hash : etag,
      contentType: fields.contentType,
      timestamp: swiftTimestamp(),
      meta: fields.meta,
      ...(fields.slo ? { slo: { manifestBytes: size } } : {}),
      file,
    };
    const old = c.objects.get(name);
    c.objects.set(name, rec);
    await this.#saveObject(account, container, rec);
    if (old) await rm(join(dir, old.file), { force: true });
    return rec;
  }

  async updateObject(account: string, container: string, rec: ObjectRecord): Promise<void> {
    rec.timestamp = swiftTimestamp();
    await this.#saveObject(account, container, rec);
  }

  /** Drops the record and unlinks its files (unlinking even a large file is quick). */
  deleteObject(account: string, container: string, name: string): boolean {
    const c = this.container(account, container);
    const rec = c?.objects.get(name);
    if (!c || !rec) return false;
    c.objects.delete(name);
    const dir = join(this.#containerDir(account, container), 'objects');
    rmSync(join(dir, rec.file), { force: true });
    rmSync(join(dir, `${safe(name)}.json`), { force: true });
    return true;
  }

  /** A stream of the stored bytes (for an SLO: the manifest JSON), `end` inclusive. */
  readStored(account: string, container: string, rec: ObjectRecord, start?: number, end?: number): Readable {
    const path = join(this.#containerDir(account, container), 'objects', rec.file);
    return createReadStream(path, { start, end, highWaterMark: 256 * 1024 });
  }

  readStoredText(account: string, container: string, rec: ObjectRecord): string {
    return readFileSync(join(this.#containerDir(account, container), 'objects', rec.file), 'utf8');
  }

  // ---- persistence ------------------------------------------------------------------------

  #accountDir(account: string): string {
    return join(this.root, encodeURIComponent(account));
  }

  #containerDir(account: string, container: string): string {
    return join(this.#accountDir(account), 'c', encodeURIComponent(container));
  }

  #saveAccount(a: AccountRecord): void {
    const { containers: _c, ...rest } = a;
    writeJsonSync(join(this.#accountDir(a.name), 'account.json'), rest);
  }

  async #saveObject(account: string, container: string, rec: ObjectRecord): Promise<void> {
    const path = join(this.#containerDir(account, container), 'objects', `${safe(rec.name)}.json`);
    const tmp = `${path}.${randomUUID()}.tmp`;
    await writeFile(tmp, JSON.stringify(rec));
    await rename(tmp, path);
  }

  /** Reads back what an earlier process left in the data directory. */
  #load(): void {
    for (const accEnt of readdirSync(this.root, { withFileTypes: true })) {
      if (!accEnt.isDirectory()) continue;
      const accDir = join(this.root, accEnt.name);
      const acc = readJson<Omit<AccountRecord, 'containers'>>(join(accDir, 'account.json'));
      if (!acc) continue;
      const account: AccountRecord = { ...acc, containers: new Map() };
      this.accounts.set(account.name, account);
      let containerDirs: string[] = [];
      try {
        containerDirs = readdirSync(join(accDir, 'c'));
      } catch {
        // no containers yet
      }
      for (const cName of containerDirs) {
        const cDir = join(accDir, 'c', cName);
        const cRec = readJson<Omit<ContainerRecord, 'objects'>>(join(cDir, 'container.json'));
        if (!cRec) continue;
        const container: ContainerRecord = { ...cRec, objects: new Map() };
        account.containers.set(container.name, container);
        const oDir = join(cDir, 'objects');
        for (const f of readdirSync(oDir)) {
          if (f.startsWith('.tmp-')) rmSync(join(oDir, f), { force: true });
          else if (f.endsWith('.json')) {
            const rec = readJson<ObjectRecord>(join(oDir, f));
            if (rec) container.objects.set(rec.name, rec);
          }
        }
      }
    }
  }
}

function writeJsonSync(path: string, value: unknown): void {
  // Small records: a synchronous write keeps the index and the disk in step.
  const tmp = `${path}.${randomUUID()}.tmp`;
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
