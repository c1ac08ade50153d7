/**
 * Glance images into the bank (at the primary) and back out of it (at the
 * backup site): shared by image-copy, server-snapshot and volume-snapshot.
 * Bytes are streamed end to end, never held in memory, and checked against
 * Glance's checksum on the way in and on the way out.
 */
import type { Readable } from 'node:stream';
import type {
  CreatedResource,
  ProtectContext,
  RecoverContext,
  RecoverPlan,
  RecoverResult,
  SiteClients,
  StepContext,
} from '../../services/engine/plugin-api.js';
import { cleanup, cloud, Meter, pipeInto, timeoutMs } from './util.js';

/** Glance's image, as the site clients of the plugin API return it. */
export type Image = Awaited<ReturnType<SiteClients['glance']['getImage']>>;

/** What `images/<id>.json` holds: enough to create the same image at another site. */
export interface SavedImageMeta {
  id: string;
  name: string | null;
  disk_format: string | null;
  container_format: string | null;
  /** Glance's MD5 `checksum`. */
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  size: number;
  min_disk: number;
  min_ram: number;
  properties: Record<string, string>;
}

/** Image fields that are not user properties (Glance's schema plus read-only/reserved ones). */
const BASE_FIELDS = new Set([
  'id',
  'name',
  'status',
  'visibility',
  'owner',
  'disk_format',
  'container_format',
  'size',
  'virtual_size',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'min_disk',
  'min_ram',
  'protected',
  'tags',
  'created_at',
  'updated_at',
  'self',
  'file',
  'schema',
  'direct_url',
  'locations',
  'stores',
  'os_hidden',
]);

export function imageProperties(image: Image): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(image)) {
    if (BASE_FIELDS.has(k) || k.startsWith('os_glance') || v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** What `<base>.json` records of an image whose bytes (`size` of them) are in the bank. */
export function savedImageMeta(image: Image, size: number): SavedImageMeta {
  return {
    id: image.id,
    name: image.name,
    disk_format: image.disk_format,
    container_format: image.container_format,
    checksum: image.checksum,
    os_hash_algo: image.os_hash_algo,
    os_hash_value: image.os_hash_value,
    size,
    min_disk: image.min_disk ?? 0,
    min_ram: image.min_ram ?? 0,
    properties: imageProperties(image),
  };
}

export interface SavedImage {
  object: string;
  meta: string;
  size: number;
  checksum: string | null;
  sha256: string;
}

/**
 * Streams an active image from the primary's Glance into the bank as
 * `<base>.img` with its metadata as `<base>.json`. Fails when the bytes do
 * not match Glance's MD5 checksum.
 */
export async function saveImageToBank(
  ctx: ProtectContext,
  image: Image,
  base: string,
  progressRange?: { from: number; to: number },
): Promise<SavedImage> {
  const dl = await cloud(
    `download of image ${image.id}`,
    () => ctx.primary.glance.downloadImage(image.id, { signal: ctx.signal }),
    ctx.signal,
  );
  if (!dl) throw new Error(`image ${image.id} has no data to copy (status ${image.status})`);
  const total = image.size ?? dl.size;
  const meter = new Meter(ctx, total ?? undefined, progressRange);
  const obj = await pipeInto(dl.stream, meter, (src) =>
    ctx.bank.put(`${base}.img`, src, {
      ...(total !== null && total !== undefined ? { size: total } : {}),
      contentType: 'application/octet-stream',
    }),
  );
  // The MD5 the bank computed while writing (one pass over the bytes for both).
  if (image.checksum && obj.md5 !== image.checksum)
    throw new Error(
      `image ${image.id} read back with MD5 ${obj.md5} but Glance records ${image.checksum}; not saved`,
    );
  const metaObj = await ctx.bank.putJson(`${base}.json`, savedImageMeta(image, obj.size));
  return {
    object: obj.name,
    meta: metaObj.name,
    size: obj.size,
    checksum: image.checksum,
    sha256: obj.sha256,
  };
}

/** An active image at the site with the same bytes that the project may use (its own or public). */
export async function findSameImage(site: SiteClients, meta: SavedImageMeta): Promise<Image | undefined> {
  if (!meta.os_hash_value && !meta.checksum) return undefined;
  const candidates = await cloud('image list', () =>
    site.glance.listImages(meta.os_hash_value ? { os_hash_value: meta.os_hash_value } : { status: 'active' }),
  );
  return candidates.find(
    (i) =>
      i.status === 'active' &&
      (i.owner === site.projectId || i.visibility === 'public') &&
      (!meta.os_hash_value || i.os_hash_value === meta.os_hash_value) &&
      (!meta.checksum || i.checksum === meta.checksum) &&
      (meta.disk_format === null || i.disk_format === meta.disk_format),
  );
}

/**
 * Creates an image at the backup site and uploads `data` into it (streamed),
 * then checks Glance's checksum against `expectMd5`. The image is deleted
 * again on any failure or abort.
 */
export async function uploadNewImage(
  ctx: StepContext,
  site: SiteClients,
  fields: {
    name: string;
    disk_format: string;
    container_format: string;
    min_disk?: number;
    min_ram?: number;
    properties?: Record<string, string>;
  },
  data: Readable,
  size: number | undefined,
  expectMd5?: string | null,
): Promise<Image> {
  const created = await cloud('image create', () => site.glance.createImage(fields), ctx.signal);
  try {
    await pipeInto(data, new Meter(ctx, size), (src) =>
      site.glance.uploadImage(created.id, src, { size, signal: ctx.signal }),
    );
    const image = await site.glance.waitForImageActive(created.id, {
      signal: ctx.signal,
      timeoutMs: timeoutMs(ctx.options, 600),
      intervalMs: 200,
      maxIntervalMs: 2000,
    });
    if (expectMd5 && image.checksum && image.checksum !== expectMd5)
      throw new Error(
        `image ${image.id} at ${site.name} has MD5 ${image.checksum} but the checkpoint recorded ${expectMd5}`,
      );
    return image;
  } catch (err) {
    await cleanup(ctx, `image ${created.id} at ${site.name}`, () => site.glance.deleteImage(created.id));
    throw err;
  }
}

/** recover of image-copy and server-snapshot: reuse an identical image at the backup site, else upload the bank's bytes. */
export async function recoverImage(
  ctx: RecoverContext,
  metaObject: string,
  dataObject: string,
): Promise<RecoveredImage> {
  const meta = await ctx.bank.getJson<SavedImageMeta>(metaObject);
  const same = await findSameImage(ctx.backup, meta);
  if (same) {
    ctx.log.info({ image: same.id }, `image ${meta.id} already exists at ${ctx.backup.name}; reused`);
    ctx.progress(100, { bytes_done: 0, bytes_total: 0 });
    return { image: same.id, reused: true, created: [] };
  }
  const stat = ctx.bank.stat(dataObject);
  const data = await ctx.bank.get(dataObject);
  const properties = {
    ...meta.properties,
    dragon_source_image: meta.id,
    dragon_checkpoint: ctx.checkpointId,
  };
  const image = await uploadNewImage(
    ctx,
    ctx.backup,
    {
      name: meta.name ?? `recovered-${meta.id}`,
      disk_format: meta.disk_format ?? 'raw',
      container_format: meta.container_format ?? 'bare',
      min_disk: meta.min_disk,
      min_ram: meta.min_ram,
      properties,
    },
    data,
    stat?.size ?? meta.size,
    meta.checksum,
  );
  return { image: image.id, reused: false, created: [{ type: 'OS::Glance::Image', id: image.id }] };
}

/** What recover of an image returns: the image for the template, and whether it was made (for rollback). */
export interface RecoveredImage extends RecoverResult {
  image: string;
  /** An identical image was already at the site and is used as it is. */
  reused: boolean;
  created: CreatedResource[];
}

/** The dry run of recoverImage: reads the small meta object and looks for an identical image. */
export async function planImage(
  ctx: RecoverContext,
  metaObject: string,
  dataObject: string,
): Promise<RecoverPlan> {
  const meta = await ctx.bank.getJson<SavedImageMeta>(metaObject);
  const same = await findSameImage(ctx.backup, meta).catch(() => undefined);
  const size = ctx.bank.stat(dataObject)?.size ?? meta.size;
  if (same)
    return {
      summary: `reuse image ${same.id} at ${ctx.backup.name} (same checksum as ${meta.id})`,
      bytes: 0,
    };
  return {
    summary: `upload image ${meta.name ?? meta.id} (${size} bytes) from bank object ${dataObject} into Glance at ${ctx.backup.name}`,
    bytes: size,
  };
}
