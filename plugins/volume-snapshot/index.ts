/**
 * volume-snapshot: a point-in-time copy of a volume's bytes into the bank.
 *
 * Cinder backs up into its OWN site's Swift, so a backup made at the primary
 * is not at the backup site. Rather than depend on the primary (or on the
 * admin-only export/import of backup records), protect copies the backup's
 * Swift objects (the data chunks and `_metadata`) from the primary's Swift
 * into the bank, and recovery decodes them (zlib chunks at the offsets
 * `_metadata` lists) into an image at the backup site and creates the volume
 * from it. That works for a plain project member and from the bank alone.
 * The backup at the primary is deleted afterwards: the bank holds the data.
 *
 * `method: image` makes a volume of the snapshot, uploads it to Glance and
 * streams the image into the bank; recovery is the same image -> volume path.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createInflate } from 'node:zlib';
import type {
  ActionPlugin,
  CheckpointContext,
  ProtectContext,
  RecoverContext,
  RecoverPlan,
  RecoverResult,
  SiteClients,
  StepContext,
} from '../../services/engine/plugin-api.js';
import { saveImageToBank, uploadNewImage } from '../_common/images.js';
import { cleanup, cloud, Meter, pipeInto, timeoutMs } from '../_common/util.js';

type Method = 'backup' | 'image';
const GiB = 1024 ** 3;

export interface VolumeSnapshotSaved {
  method: Method;
  volume_id: string;
  name: string | null;
  size: number;
  volume_type: string;
  bootable: boolean;
  metadata: Record<string, string>;
  /** image: the volume's bytes. */
  object?: string;
  /** backup: `backup-record.json` in the bank (objects, order, compression). */
  record?: string;
  checksum?: string | null;
}

/** What `volumes/<id>/backup-record.json` holds. */
interface BackupRecordFile {
  backup_id: string;
  volume_id: string;
  size_gb: number;
  container: string;
  prefix: string;
  /** Bank object names of the backup's Swift objects, by their Swift name. */
  objects: Record<string, string>;
  /** Cinder's export_record when the user may export it (admin by default), else null. */
  exported_record: { backup_service: string; backup_url: string } | null;
}

interface ChunkedMetadata {
  objects: Array<Record<string, { offset: number; length: number; compression: string | null }>>;
}

function methodOf(ctx: StepContext): Method {
  const m = ctx.options.method ?? 'backup';
  if (m !== 'backup' && m !== 'image')
    throw new Error(`volume-snapshot method must be backup or image, not ${String(m)}`);
  return m;
}

/** Waits used for cleanup: not cancelled by the step's signal (cleanup must finish), bounded. */
const settle = { intervalMs: 200, maxIntervalMs: 2000, timeoutMs: 300_000 };

async function protect(ctx: ProtectContext): Promise<VolumeSnapshotSaved> {
  const volumeId = ctx.resource.id;
  if (!volumeId) throw new Error('volume-snapshot needs a volume id');
  const method = methodOf(ctx);
  const { cinder, glance } = ctx.primary;
  const wait = {
    signal: ctx.signal,
    timeoutMs: timeoutMs(ctx.options, 3600),
    intervalMs: 200,
    maxIntervalMs: 5000,
  };
  const tag = `dragon-${ctx.checkpointId}-${volumeId}`;
  const volume = await cloud(`volume ${volumeId}`, () => cinder.getVolume(volumeId), ctx.signal);
  const base: VolumeSnapshotSaved = {
    method,
    volume_id: volume.id,
    name: volume.name,
    size: volume.size,
    volume_type: volume.volume_type,
    bootable: String(volume.bootable) === 'true',
    metadata: volume.metadata ?? {},
  };
  if (ctx.attempt > 1) await sweepEarlierAttempt(ctx, tag);
  ctx.progress(0, { bytes_done: 0 });

  // Temporary resources at the primary, removed in reverse order whatever happens.
  let snapshotId: string | undefined;
  let tmpVolumeId: string | undefined;
  let tmpImageId: string | undefined;
  let backupId: string | undefined;
  try {
    const snap = await cloud(
      `snapshot of volume ${volumeId}`,
      () =>
        cinder.createSnapshot({
          volume_id: volumeId,
          name: tag,
          force: true,
          metadata: { dragon_checkpoint: ctx.checkpointId },
        }),
      ctx.signal,
    );
    snapshotId = snap.id;
    try {
      await cloud(`snapshot ${snap.id}`, () => cinder.waitForSnapshot(snap.id, wait), ctx.signal);
    } catch (err) {
      throw explainStuckSnapshot(err, volume, ctx.signal);
    }
    // The snapshot exists: the point in time is captured (consistency: paused may end).
    ctx.pointInTime?.();
    ctx.progress(2, { bytes_done: 0 });

    if (method === 'image') {
      const tmp = await cloud(
        `volume from snapshot ${snap.id}`,
        () => cinder.createVolume({ snapshot_id: snap.id, size: volume.size, name: tag }),
        ctx.signal,
      );
      tmpVolumeId = tmp.id;
      await cloud(`volume ${tmp.id}`, () => cinder.waitForVolume(tmp.id, ['available'], wait), ctx.signal);
      const up = await cloud(
        `upload of volume ${tmp.id} to an image`,
        () =>
          cinder.uploadToImage(tmp.id, {
            image_name: tag,
            disk_format: 'raw',
            container_format: 'bare',
            force: true,
          }),
        ctx.signal,
      );
      tmpImageId = up.image_id;
      const image = await cloud(
        `image ${up.image_id}`,
        () => glance.waitForImageActive(up.image_id, wait),
        ctx.signal,
      );
      ctx.progress(5, { bytes_done: 0 });
      const saved = await saveImageToBank(ctx, image, `volumes/${volumeId}`, { from: 5, to: 100 });
      return { ...base, object: saved.object, checksum: saved.checksum };
    }

    const backup = await cloud(
      `backup of snapshot ${snap.id}`,
      () => cinder.createBackup({ volume_id: volumeId, snapshot_id: snap.id, name: tag, force: true }),
      ctx.signal,
    );
    backupId = backup.id;
    const done = await cloud(`backup ${backup.id}`, () => cinder.waitForBackup(backup.id, wait), ctx.signal);
    ctx.progress(10, { bytes_done: 0 });
    const record = await copyBackupObjects(
      ctx,
      done.id,
      volumeId,
      done.container ?? 'volumebackups',
      volume.size,
    );
    let exported: BackupRecordFile['exported_record'] = null;
    try {
      exported = await cinder.exportBackupRecord(done.id);
    } catch (err) {
      // Admin-only in Cinder's default policy; the copied objects are enough for recovery.
      if ((err as { status?: unknown }).status !== 403) throw err;
    }
    const recordObj = await ctx.bank.putJson(`volumes/${volumeId}/backup-record.json`, {
      ...record,
      exported_record: exported,
    } satisfies BackupRecordFile);
    return { ...base, record: recordObj.name };
  } finally {
    await removeTemporaries(ctx, {
      images: tmpImageId ? [tmpImageId] : [],
      volumes: tmpVolumeId ? [tmpVolumeId] : [],
      backups: backupId ? [backupId] : [],
      snapshots: snapshotId ? [snapshotId] : [],
    });
  }
}

interface Temporaries {
  images: string[];
  volumes: string[];
  backups: string[];
  snapshots: string[];
}

/**
 * Some backends (NFS, GlusterFS, other remotefs drivers) snapshot an attached volume
 * through Nova (assisted snapshots); a compute driver that does not do them leaves the
 * snapshot `creating` until Cinder gives up. Say so, instead of a bare timeout.
 */
function explainStuckSnapshot(
  err: unknown,
  volume: { id: string; status: string },
  signal: AbortSignal,
): unknown {
  if (signal.aborted || volume.status !== 'in-use' || !/still creating/.test(String((err as Error)?.message)))
    return err;
  return new Error(
    `${(err as Error).message}: volume ${volume.id} is attached (in-use), and its Cinder backend snapshots ` +
      'attached volumes through Nova (assisted snapshot), which the compute driver did not complete. ' +
      'Detach the volume before protecting it, or use a backend that snapshots in-use volumes itself.',
  );
}

/** Deletes temporaries at the primary, dependents first (image, volume, backup, then the snapshot they came from). */
async function removeTemporaries(ctx: ProtectContext, t: Temporaries): Promise<void> {
  const { cinder, glance, name: at } = ctx.primary;
  for (const id of t.images) await cleanup(ctx, `image ${id} at ${at}`, () => glance.deleteImage(id));
  for (const id of t.volumes)
    await cleanup(ctx, `volume ${id} at ${at}`, async () => {
      await settleVolume(ctx.primary, id);
      await cinder.deleteVolume(id);
      await cinder.waitForVolumeDeleted(id, settle);
    });
  for (const id of t.backups)
    await cleanup(ctx, `backup ${id} at ${at}`, async () => {
      await settleBackup(ctx.primary, id);
      await cinder.deleteBackup(id);
      await cinder.waitForBackupDeleted(id, settle);
    });
  for (const id of t.snapshots)
    await cleanup(ctx, `snapshot ${id} at ${at}`, async () => {
      await settleSnapshot(ctx.primary, id);
      await cinder.deleteSnapshot(id);
      await cinder.waitForSnapshotDeleted(id, settle);
    });
}

/**
 * A retry or a takeover after an engine died mid-step: temporaries of the
 * earlier attempt carry the same name; remove them before starting again.
 */
async function sweepEarlierAttempt(ctx: ProtectContext, tag: string): Promise<void> {
  const { cinder, glance } = ctx.primary;
  const ids = <T extends { id: string; name?: string | null }>(list: T[]) =>
    list.filter((x) => x.name === tag).map((x) => x.id);
  const [images, volumes, backups, snapshots] = await Promise.all([
    cloud('image list', () => glance.listImages({ name: tag }), ctx.signal).then(ids),
    cloud('volume list', () => cinder.listVolumes({ name: tag }), ctx.signal).then(ids),
    cloud('backup list', () => cinder.listBackups({ name: tag }), ctx.signal).then(ids),
    cloud('snapshot list', () => cinder.listSnapshots({ name: tag }), ctx.signal).then(ids),
  ]);
  if (images.length + volumes.length + backups.length + snapshots.length === 0) return;
  ctx.log.info({ images, volumes, backups, snapshots }, 'removing temporaries of an earlier attempt');
  await removeTemporaries(ctx, { images, volumes, backups, snapshots });
}

/** A volume busy with an upload (or still creating) cannot be deleted: let it finish first. */
async function settleVolume(site: SiteClients, id: string): Promise<void> {
  await site.cinder.waitForVolume(id, ['available', 'error', 'in-use'], settle);
}
async function settleBackup(site: SiteClients, id: string): Promise<void> {
  const b = await site.cinder.findBackup(id);
  if (b && b.status !== 'available' && b.status !== 'error')
    await site.cinder.waitForBackup(id, settle).catch(() => {});
}
async function settleSnapshot(site: SiteClients, id: string): Promise<void> {
  const s = await site.cinder.findSnapshot(id);
  if (s && s.status !== 'available' && s.status !== 'error')
    await site.cinder.waitForSnapshot(id, settle).catch(() => {});
}

/** Copies the backup's Swift objects (data chunks, `_sha256file`, `_metadata`) from the primary's Swift into the bank. */
async function copyBackupObjects(
  ctx: ProtectContext,
  backupId: string,
  volumeId: string,
  container: string,
  sizeGb: number,
): Promise<Omit<BackupRecordFile, 'exported_record'>> {
  const swift = ctx.primary.swift;
  const listed = await cloud(
    `listing of backup ${backupId} objects`,
    () => swift.listObjects(container, { prefix: `volume_${volumeId}/` }),
    ctx.signal,
  );
  const mine = listed.filter((o) => o.name.includes(`_backup_${backupId}`));
  const meta = mine.find((o) => o.name.endsWith('_metadata'));
  if (!meta)
    throw new Error(
      `backup ${backupId} has no _metadata object in the project's Swift container ${container} at ${ctx.primary.name}; ` +
        "the Cinder Swift backup driver must write into the user's account (backup_swift_auth = per_user)",
    );
  const prefix = meta.name.slice(0, -'_metadata'.length);
  const total = mine.reduce((n, o) => n + o.bytes, 0);
  const objects: Record<string, string> = {};
  let done = 0;
  // _metadata last: its presence in the bank means every chunk before it was copied.
  for (const o of [...mine.filter((x) => x !== meta), meta]) {
    const got = await cloud(
      `backup object ${o.name}`,
      () => swift.getObject(container, o.name, { signal: ctx.signal }),
      ctx.signal,
    );
    // The meter counts this object; the step reports the bytes of the whole backup so far.
    const before = done;
    const perObject = {
      ...ctx,
      progress: (_p: number, d?: Record<string, unknown>) => {
        const now = before + (typeof d?.bytes_done === 'number' ? d.bytes_done : 0);
        ctx.progress(10 + Math.round((90 * now) / Math.max(1, total)), {
          bytes_done: now,
          bytes_total: total,
        });
      },
    };
    const put = await pipeInto(got.stream, new Meter(perObject, undefined), (src) =>
      ctx.bank.put(`volumes/${volumeId}/backup/${o.name}`, src, { size: o.bytes }),
    );
    objects[o.name] = put.name;
    done += put.size;
    ctx.progress(10 + Math.round((90 * done) / Math.max(1, total)), { bytes_done: done, bytes_total: total });
  }
  return { backup_id: backupId, volume_id: volumeId, size_gb: sizeGb, container, prefix, objects };
}

/** The volume's raw bytes from the bank's copy of a chunked Cinder backup. */
async function* backupBytes(ctx: RecoverContext, record: BackupRecordFile): AsyncGenerator<Buffer> {
  const metaName = record.objects[`${record.prefix}_metadata`];
  if (!metaName) throw new Error(`backup ${record.backup_id}: no _metadata in the checkpoint`);
  const meta = await ctx.bank.getJson<ChunkedMetadata>(metaName);
  let expected = 0;
  for (const entry of meta.objects) {
    const [name, o] = Object.entries(entry)[0];
    if (o.offset !== expected)
      throw new Error(
        `backup ${record.backup_id}: object ${name} starts at ${o.offset}, expected ${expected}`,
      );
    const bankName = record.objects[name];
    if (!bankName)
      throw new Error(`backup ${record.backup_id}: object ${name} is missing from the checkpoint`);
    const raw = await ctx.bank.get(bankName);
    if (o.compression && o.compression !== 'zlib' && o.compression !== 'none')
      throw new Error(
        `backup ${record.backup_id}: compression ${o.compression} is not supported (zlib only)`,
      );
    const data = o.compression === 'zlib' ? raw.pipe(createInflate()) : raw;
    raw.on('error', (err) => data.destroy(err));
    // A consumer that stops early (cancel, failure) destroys `data`; the bank's response must go too,
    // or its connection stays open, paused, for ever.
    data.on('close', () => {
      if (!raw.destroyed) raw.destroy();
    });
    let got = 0;
    for await (const chunk of data) {
      got += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (got !== o.length)
      throw new Error(`backup ${record.backup_id}: object ${name} gave ${got} bytes, expected ${o.length}`);
    expected += o.length;
  }
}

/** Passes the bytes through, hashing them: the SHA-256 of what went into the restored volume. */
async function* hashed(source: AsyncIterable<unknown>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk as Buffer);
    yield chunk as Buffer;
  }
}

async function recover(ctx: RecoverContext): Promise<RecoverResult & { volume_id: string }> {
  const saved = ctx.saved as unknown as VolumeSnapshotSaved;
  if (!saved.volume_id) throw new Error('volume-snapshot recovery needs what its protect step saved');
  const site = ctx.backup;
  const sha256 = createHash('sha256');
  let data: Readable;
  let size: number;
  let md5: string | null | undefined;
  if (saved.method === 'image') {
    if (!saved.object) throw new Error('volume-snapshot (image) saved no object');
    data = Readable.from(hashed(await ctx.bank.get(saved.object), sha256));
    size = ctx.bank.stat(saved.object)?.size ?? saved.size * GiB;
    md5 = saved.checksum;
  } else {
    if (!saved.record) throw new Error('volume-snapshot (backup) saved no backup record');
    const record = await ctx.bank.getJson<BackupRecordFile>(saved.record);
    data = Readable.from(hashed(backupBytes(ctx, record), sha256));
    size = record.size_gb * GiB;
  }
  const wantedType = ctx.target?.volume_type ?? saved.volume_type;
  const zone = ctx.target?.availability_zone;
  const tag = `dragon-recover-${ctx.checkpointId}-${saved.volume_id}`;
  const image = await uploadNewImage(
    ctx,
    site,
    { name: tag, disk_format: 'raw', container_format: 'bare' },
    data,
    size,
    md5,
  );
  try {
    const types = await cloud('volume types', () => site.cinder.listVolumeTypes(), ctx.signal).catch(
      () => [],
    );
    const type = types.find((t) => t.name === wantedType || t.id === wantedType)?.name;
    const vol = await cloud(
      `volume from image ${image.id}`,
      () =>
        site.cinder.createVolume({
          size: saved.size,
          name: saved.name ?? tag,
          imageRef: image.id,
          metadata: {
            ...saved.metadata,
            dragon_source_volume: saved.volume_id,
            dragon_checkpoint: ctx.checkpointId,
          },
          ...(type ? { volume_type: type } : {}),
          ...(zone ? { availability_zone: zone } : {}),
        }),
      ctx.signal,
    );
    try {
      await site.cinder.waitForVolume(vol.id, ['available'], {
        signal: ctx.signal,
        timeoutMs: timeoutMs(ctx.options, 3600),
        intervalMs: 200,
        maxIntervalMs: 5000,
      });
    } catch (err) {
      await cleanup(ctx, `volume ${vol.id} at ${site.name}`, async () => {
        await settleVolume(site, vol.id);
        await site.cinder.deleteVolume(vol.id);
      });
      throw err;
    }
    // A volume created from an image is bootable in Cinder, which matches `saved.bootable` for boot volumes.
    ctx.progress(100, { bytes_done: size, bytes_total: size });
    return {
      volume_id: vol.id,
      created: [{ type: 'OS::Cinder::Volume', id: vol.id }],
      data_sha256: sha256.digest('hex'),
    };
  } finally {
    // The image only carried the bytes into Cinder.
    await cleanup(ctx, `image ${image.id} at ${site.name}`, () => site.glance.deleteImage(image.id));
  }
}

/** Nothing outside the bank outlives protect (the primary's backup is deleted there), so nothing to remove. */
async function remove(_ctx: CheckpointContext): Promise<{ deleted: string[] }> {
  return { deleted: [] };
}

/** Dry run: which bank objects would become which volume. */
async function plan(ctx: RecoverContext): Promise<RecoverPlan> {
  const saved = ctx.saved as unknown as VolumeSnapshotSaved;
  if (!saved.volume_id) throw new Error('volume-snapshot recovery needs what its protect step saved');
  const type = ctx.target?.volume_type ?? saved.volume_type;
  const into = `a ${saved.size} GiB volume${type ? ` of type ${type}` : ''} at ${ctx.backup.name}`;
  if (saved.method === 'image') {
    const bytes = saved.object ? (ctx.bank.stat(saved.object)?.size ?? 0) : 0;
    return {
      summary: `restore volume ${saved.volume_id} from bank object ${saved.object} into ${into}`,
      bytes,
    };
  }
  const objects = saved.record ? ctx.bank.list(saved.record.replace(/backup-record\.json$/, '')) : [];
  return {
    summary: `rebuild volume ${saved.volume_id} from its Cinder backup's ${objects.length} objects in the bank into ${into}`,
    bytes: objects.reduce((n, o) => n + o.size, 0),
  };
}

const plugin: ActionPlugin = { protect, recover, plan, delete: remove };
export default plugin;
