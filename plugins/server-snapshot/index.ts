/**
 * server-snapshot: Nova createImage, wait for the image to become active,
 * stream it into the bank, and delete the temporary image at the primary
 * whatever happens (success, failure, abort), so nothing is left behind.
 */
import type { ActionPlugin, ProtectContext, RecoverContext } from '../../services/engine/plugin-api.js';
import { planImage, type RecoveredImage, recoverImage, saveImageToBank } from '../_common/images.js';
import { cleanup, cloud, timeoutMs } from '../_common/util.js';

export interface ServerSnapshotSaved {
  server_id: string;
  /** The temporary snapshot image at the primary (deleted after the copy). */
  image_id: string;
  object: string;
  meta: string;
  checksum: string | null;
  size: number;
}

async function protect(ctx: ProtectContext): Promise<ServerSnapshotSaved> {
  const serverId = ctx.resource.id;
  if (!serverId) throw new Error('server-snapshot needs a server id');
  const { nova, glance } = ctx.primary;
  const limit = timeoutMs(ctx.options, 1800);
  const name = `dragon-snapshot-${serverId}-${ctx.checkpointId}`;
  if (ctx.attempt > 1) {
    // A retry or a takeover: an earlier attempt's snapshot may still be at the primary.
    const earlier = await cloud('image list', () => glance.listImages({ name }), ctx.signal);
    for (const img of earlier.filter((i) => i.name === name))
      await cleanup(ctx, `earlier snapshot image ${img.id}`, () => glance.deleteImage(img.id));
  }
  ctx.progress(0, { bytes_done: 0 });
  const imageId = await cloud(
    `createImage of server ${serverId}`,
    () =>
      nova.createImage(serverId, name, {
        dragon_checkpoint: ctx.checkpointId,
      }),
    ctx.signal,
  );
  // Nova took the snapshot of the disk: the server may run on (consistency: paused).
  ctx.pointInTime?.();
  try {
    let image: Awaited<ReturnType<typeof glance.getImage>>;
    try {
      image = await glance.waitForImageActive(imageId, {
        signal: ctx.signal,
        timeoutMs: limit,
        intervalMs: 200,
        maxIntervalMs: 5000,
      });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const now = await glance.findImage(imageId).catch(() => undefined);
      if (now && (now.status === 'queued' || now.status === 'saving'))
        throw new Error(
          `snapshot image ${imageId} of server ${serverId} stayed ${now.status} for ${Math.round(limit / 1000)} s; ` +
            "the compute driver did not upload the server's disk (Nova's fake driver never does)",
        );
      throw err;
    }
    ctx.progress(5, { bytes_done: 0 });
    const saved = await saveImageToBank(ctx, image, `servers/${serverId}/snapshot`, { from: 5, to: 100 });
    return { server_id: serverId, image_id: imageId, ...saved };
  } finally {
    await cleanup(ctx, `snapshot image ${imageId} at ${ctx.primary.name}`, () => glance.deleteImage(imageId));
  }
}

async function recover(ctx: RecoverContext): Promise<RecoveredImage> {
  const saved = ctx.saved as Partial<ServerSnapshotSaved>;
  if (!saved.object || !saved.meta)
    throw new Error('server-snapshot recovery needs the objects its protect step saved');
  return recoverImage(ctx, saved.meta, saved.object);
}

async function plan(ctx: RecoverContext) {
  const saved = ctx.saved as Partial<ServerSnapshotSaved>;
  if (!saved.object || !saved.meta)
    throw new Error('server-snapshot recovery needs the objects its protect step saved');
  return planImage(ctx, saved.meta, saved.object);
}

const plugin: ActionPlugin = {
  protect,
  recover,
  plan,
  // The snapshot image at the primary is deleted at protect; the bytes go with the checkpoint's container.
  delete: async () => ({ deleted: [] }),
};
export default plugin;
