/**
 * The simulated cinder-backup Swift driver (cinder.backup.drivers.swift,
 * a ChunkedBackupDriver): the volume's bytes cut into objects of
 * `backup_swift_object_size`, each zlib-compressed, named
 * `volume_<vid>/<YYYYmmddHHMMSS>/az_<az>_backup_<bid>-00001, -00002, ...`,
 * then `<prefix>_sha256file` (sha256 per 32 KiB block) and `<prefix>_metadata`
 * (the object list with offsets, lengths, md5s) written last. Restore reads
 * `_metadata` and the objects back. The objects go through the site's Swift
 * contract, in the caller's account (`backup_swift_auth = per_user`).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createDeflate, createInflate } from 'node:zlib';
import { sparseWriteStream } from './cinder-data.js';
import type { ObjectStoreApi } from './contracts.js';

export const BACKUP_SERVICE = 'cinder.backup.drivers.swift.SwiftBackupDriver';
export const DEFAULT_BACKUP_CONTAINER = 'volumebackups';
/** backup_swift_object_size default. */
export const DEFAULT_OBJECT_SIZE = 52_428_800;
const SHA_BLOCK = 32_768;
const ZERO_BLOCK = Buffer.alloc(SHA_BLOCK);
/** Sparse volumes are mostly zeros: their blocks' sha256 is known without hashing. */
const ZERO_SHA = createHash('sha256').update(ZERO_BLOCK).digest('hex');

/** Where a backup's objects live. */
export interface BackupLocation {
  account: string;
  container: string;
  /** `volume_<vid>/<ts>/az_<az>_backup_<bid>` (the driver's service_metadata). */
  prefix: string;
}

interface ObjectEntry {
  offset: number;
  length: number;
  md5: string;
  compression: string;
}

export interface BackupMetadata {
  version: string;
  backup_id: string;
  volume_id: string;
  backup_name: string | null;
  backup_description: string | null;
  created_at: string;
  objects: Array<Record<string, ObjectEntry>>;
  parent_id: string | null;
  volume_meta: string | null;
  extra_info: null;
}

export function objectPrefix(volumeId: string, backupId: string, az = 'nova', at = new Date()): string {
  const ts = at
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, '');
  return `volume_${volumeId}/${ts}/az_${az}_backup_${backupId}`;
}

/** sha256 of every 32 KiB block of the uncompressed data (for `_sha256file`), fed as it passes. */
class ShaBlocks {
  readonly sums: string[] = [];
  #pending: Buffer[] = [];
  #pendingLen = 0;
  update(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#pendingLen += chunk.length;
    if (this.#pendingLen < SHA_BLOCK) return;
    let all = Buffer.concat(this.#pending);
    while (all.length >= SHA_BLOCK) {
      const block = all.subarray(0, SHA_BLOCK);
      this.sums.push(block.equals(ZERO_BLOCK) ? ZERO_SHA : createHash('sha256').update(block).digest('hex'));
      all = all.subarray(SHA_BLOCK);
    }
    this.#pending = all.length ? [all] : [];
    this.#pendingLen = all.length;
  }
  finish(): void {
    if (this.#pendingLen)
      this.sums.push(createHash('sha256').update(Buffer.concat(this.#pending)).digest('hex'));
    this.#pending = [];
    this.#pendingLen = 0;
  }
  /** A pass-through stream feeding this hasher. */
  tap(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _e: BufferEncoding, cb: TransformCallback) => {
        this.update(chunk);
        cb(null, chunk);
      },
    });
  }
}

/**
 * Writes `bytes` bytes of `source` (a volume or snapshot file) as a backup.
 * Returns the number of data objects written.
 */
export async function writeBackup(
  swift: ObjectStoreApi,
  loc: BackupLocation,
  source: string,
  bytes: number,
  info: {
    backupId: string;
    volumeId: string;
    name: string | null;
    description: string | null;
    parentId: string | null;
  },
  objectSize = DEFAULT_OBJECT_SIZE,
): Promise<number> {
  swift.ensureContainer(loc.account, loc.container);
  const objects: BackupMetadata['objects'] = [];
  const sha = new ShaBlocks();
  let index = 0;
  for (let offset = 0; offset < bytes; offset += objectSize) {
    index++;
    const length = Math.min(objectSize, bytes - offset);
    const name = `${loc.prefix}-${String(index).padStart(5, '0')}`;
    const data = createReadStream(source, { start: offset, end: offset + length - 1, highWaterMark: 1 << 20 })
      .pipe(sha.tap())
      // zlib like the driver's default compressor; level 1 because the simulator's volumes are
      // mostly zeros and speed matters more than ratio here.
      .pipe(createDeflate({ level: 1 }));
    const res = await swift.putObject(loc.account, loc.container, name, data);
    objects.push({ [name]: { offset, length, md5: res.etag, compression: 'zlib' } });
  }
  sha.finish();
  const shaFile = {
    version: '1.0.0',
    backup_id: info.backupId,
    volume_id: info.volumeId,
    chunk_size: SHA_BLOCK,
    sha256s: sha.sums,
  };
  await swift.putObject(
    loc.account,
    loc.container,
    `${loc.prefix}_sha256file`,
    Buffer.from(JSON.stringify(shaFile)),
    {
      'Content-Type': 'application/json',
    },
  );
  const meta: BackupMetadata = {
    version: '1.0.0',
    backup_id: info.backupId,
    volume_id: info.volumeId,
    backup_name: info.name,
    backup_description: info.description,
    created_at: new Date().toISOString(),
    objects,
    parent_id: info.parentId,
    volume_meta: null,
    extra_info: null,
  };
  await swift.putObject(
    loc.account,
    loc.container,
    `${loc.prefix}_metadata`,
    Buffer.from(JSON.stringify(meta)),
    {
      'Content-Type': 'application/json',
    },
  );
  return objects.length;
}

export async function readMetadata(
  swift: ObjectStoreApi,
  loc: BackupLocation,
): Promise<BackupMetadata | undefined> {
  const stream = swift.getObject(loc.account, loc.container, `${loc.prefix}_metadata`);
  if (!stream) return undefined;
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as BackupMetadata;
}

/** Restores a backup into the file `dest` of `destBytes` (cleared first). */
export async function restoreBackup(
  swift: ObjectStoreApi,
  loc: BackupLocation,
  dest: string,
  destBytes: number,
): Promise<void> {
  const meta = await readMetadata(swift, loc);
  if (!meta) throw new Error(`backup metadata ${loc.container}/${loc.prefix}_metadata not found`);
  let first = true;
  for (const entry of meta.objects) {
    const [name, o] = Object.entries(entry)[0];
    const stream = swift.getObject(loc.account, loc.container, name);
    if (!stream) throw new Error(`backup object ${loc.container}/${name} not found`);
    const data = o.compression === 'zlib' ? stream.pipe(createInflate()) : stream;
    await sparseWriteStream(data as AsyncIterable<Buffer>, dest, destBytes, first, o.offset);
    first = false;
  }
  if (first) await sparseWriteStream(Readable.from([]), dest, destBytes, true);
}

export function deleteBackupObjects(swift: ObjectStoreApi, loc: BackupLocation): number {
  let n = 0;
  for (const name of swift.listObjects(loc.account, loc.container, loc.prefix))
    if (swift.deleteObject(loc.account, loc.container, name)) n++;
  return n;
}

/** `backup_url` of export_record: base64 of the backup's fields, as cinder's Backup.encode_record does. */
export function encodeRecord(fields: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(fields)).toString('base64');
}

export function decodeRecord(url: string): Record<string, unknown> {
  const parsed = JSON.parse(Buffer.from(url, 'base64').toString('utf8')) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a record');
  return parsed as Record<string, unknown>;
}
