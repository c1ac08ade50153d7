/**
 * image-copy: a server's base image saved into the bank. Two servers booted
 * from one image in the same checkpoint share one copy: the first step to
 * reach the image copies it, the others reference that copy at once,
 * without holding a parallel slot while it runs. That is safe because the
 * manifest is written only after every step of the protect succeeded, the
 * copying one included: a checkpoint never lists an object still being
 * written, and a copy that fails fails the protect.
 *
 * Across checkpoints: when an earlier available checkpoint of the project in
 * the same bank saved the same image (same id AND same Glance checksum — an
 * image re-uploaded under its id is copied again), the bytes are not copied
 * but referenced (`ctx.bank.findEarlier` / `ctx.bank.reference`; the saved
 * info says `reused_from: <container>`). The checkpoint still stands alone
 * for recovery: its manifest names the referenced container, object, size
 * and SHA-256 (format 2), readers verify them, and deleting the older
 * checkpoint (user or retention) keeps the referenced object in a
 * `retained` container until the last checkpoint using it is deleted. The
 * image's metadata (`.json`, small) is always written into the checkpoint.
 */
import type { ActionPlugin, ProtectContext, RecoverContext } from '../../services/engine/plugin-api.js';
import {
  type Image,
  planImage,
  type RecoveredImage,
  recoverImage,
  type SavedImage,
  savedImageMeta,
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
  /** The earlier checkpoint's container whose copy this checkpoint references (no bytes copied). */
  reused_from?: string;
}

const PLUGIN_NAME = 'image-copy';

/** Copies in progress or done, per bank container + checkpoint + image + checksum (this engine process only). */
const copies = new Map<string, Promise<SavedImage & { reused_from?: string }>>();
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
    pending = reuseOrCopy(ctx, image);
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
    ...(saved.reused_from ? { reused_from: saved.reused_from } : {}),
  };
}

/**
 * References the copy of an earlier checkpoint of the same image id and checksum when the bank
 * has one; copies otherwise (also when the earlier copy went away between finding and referencing).
 */
async function reuseOrCopy(
  ctx: ProtectContext,
  image: Image,
): Promise<SavedImage & { reused_from?: string }> {
  const base = imageBase(image.id);
  const object = `${base}.img`;
  const bank = ctx.bank;
  if (image.checksum && bank.findEarlier && bank.reference) {
    // Looking for an earlier copy is an optimisation: if the lookup fails, the image is copied.
    const earlier = await bank
      .findEarlier(
        object,
        (saved, step) =>
          step.action === PLUGIN_NAME &&
          saved.image_id === image.id &&
          saved.checksum === image.checksum &&
          saved.object === object,
      )
      .catch((err: Error) => {
        ctx.log.warn({ image: image.id, err: err.message }, 'no earlier copy looked up; copying the image');
        return undefined;
      });
    if (earlier && (image.size === null || image.size === undefined || image.size === earlier.size)) {
      try {
        const { saved: _saved, ...ref } = earlier;
        await bank.reference(ref);
        const meta = await bank.putJson(`${base}.json`, savedImageMeta(image, earlier.size));
        ctx.progress(100, { bytes_done: 0, bytes_total: 0, reused_from: earlier.container });
        ctx.log.info(
          { image: image.id, reused_from: earlier.container },
          'image already saved by an earlier checkpoint; referenced, not copied',
        );
        return {
          object,
          meta: meta.name,
          size: earlier.size,
          checksum: image.checksum,
          sha256: earlier.sha256,
          reused_from: earlier.container,
        };
      } catch (err) {
        ctx.log.warn(
          { image: image.id, err: (err as Error).message },
          'earlier copy of the image not usable; copying it',
        );
      }
    }
  }
  return saveImageToBank(ctx, image, base);
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
  // The copy lives in the checkpoint's container and goes with it (or stays `retained` while a newer
  // checkpoint references it); nothing at either site to remove.
  delete: async () => ({ deleted: [] }),
};
export default plugin;
