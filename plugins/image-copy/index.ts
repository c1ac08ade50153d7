/**
 * image-copy: a server's base image saved into the bank. Two servers booted
 * from one image in the same checkpoint share one copy: the first step to
 * reach the image copies it, the others reference that copy at once,
 * without holding a parallel slot while it runs. That is safe because the
 * manifest is written only after every step of the protect succeeded, the
 * copying one included: a checkpoint never lists an object still being
 * written, and a copy that fails fails the protect.
 * (Reuse across checkpoints is not done: each checkpoint is a container of
 * its own that recovery must be able to use alone, and retention may delete
 * older ones.)
 */
import type { ActionPlugin, ProtectContext, RecoverContext } from '../../services/engine/plugin-api.js';
import {
  planImage,
  type RecoveredImage,
  recoverImage,
  type SavedImage,
  saveImageToBank,
} from '../_common/images.js';
import { cloud } from '../_common/util.js';

export interface ImageCopySaved {
  image_id: string;
  object: string;
  meta: string;
  checksum: string | null;
  size: number;
  /** True when another server's step of this checkpoint copied the bytes. */
  shared: boolean;
}

/** Copies in progress or done, per bank container + checkpoint + image + checksum (this engine process only). */
const copies = new Map<string, Promise<SavedImage>>();
const MAX_REMEMBERED = 1000;

/** Where an image's bytes (`.img`) and metadata (`.json`) go in the checkpoint. */
const imageBase = (imageId: string) => `images/${imageId}`;

async function protect(ctx: ProtectContext): Promise<ImageCopySaved> {
  const serverId = ctx.resource.id;
  if (!serverId) throw new Error('image-copy needs a server id');
  // The base image does not change while the server runs: nothing to capture at a point in time.
  ctx.pointInTime?.();
  const server = await cloud(`server ${serverId}`, () => ctx.primary.nova.getServer(serverId), ctx.signal);
  const imageId = typeof server.image === 'object' && server.image ? server.image.id : '';
  if (!imageId)
    throw new Error(
      `server ${server.id} boots from a volume and has no base image; protect its boot volume with volume-snapshot instead`,
    );
  const image = await cloud(`image ${imageId}`, () => ctx.primary.glance.getImage(imageId), ctx.signal);
  if (image.status !== 'active')
    throw new Error(`image ${imageId} of server ${server.id} is ${image.status}, not active; cannot copy it`);
  const key = `${ctx.bank.container}/${ctx.checkpointId}/${image.id}/${image.checksum ?? ''}`;
  let pending = copies.get(key);
  const shared = pending !== undefined;
  if (!pending) {
    pending = saveImageToBank(ctx, image, imageBase(image.id));
    copies.set(key, pending);
    pending.catch(() => copies.delete(key));
    if (copies.size > MAX_REMEMBERED) copies.delete(copies.keys().next().value as string);
  }
  if (shared) {
    const object = `${imageBase(image.id)}.img`;
    ctx.progress(100, { bytes_done: 0, bytes_total: 0, shared_with_object: object });
    return {
      image_id: image.id,
      object,
      meta: `${imageBase(image.id)}.json`,
      checksum: image.checksum ?? null,
      size: image.size ?? 0,
      shared,
    };
  }
  const saved = await pending;
  return {
    image_id: image.id,
    object: saved.object,
    meta: saved.meta,
    checksum: saved.checksum,
    size: saved.size,
    shared,
  };
}

async function recover(ctx: RecoverContext): Promise<RecoveredImage> {
  const saved = ctx.saved as Partial<ImageCopySaved>;
  const id = saved.image_id;
  if (!id) throw new Error('image-copy recovery needs the image_id its protect step saved');
  return recoverImage(ctx, saved.meta ?? `images/${id}.json`, saved.object ?? `images/${id}.img`);
}

async function plan(ctx: RecoverContext) {
  const saved = ctx.saved as Partial<ImageCopySaved>;
  const id = saved.image_id;
  if (!id) throw new Error('image-copy recovery needs the image_id its protect step saved');
  return planImage(ctx, saved.meta ?? `images/${id}.json`, saved.object ?? `images/${id}.img`);
}

const plugin: ActionPlugin = {
  protect,
  recover,
  plan,
  // The copy lives in the checkpoint's container and goes with it; nothing at either site to remove.
  delete: async () => ({ deleted: [] }),
};
export default plugin;
