/**
 * What a recovery proves once its stack is up: every recovered server is
 * ACTIVE and, for a drill, every restored volume holds exactly the bytes
 * recovery took from the bank (read back through Cinder upload-to-image and
 * Glance, hashed with SHA-256). The checks report; the step fails if one
 * does not pass, so a drill that did not prove the checkpoint says so.
 */
import { createHash } from 'node:crypto';
import { mapLimited } from '../../common/concurrency.js';
import type { SiteClients, StepContext } from '../plugin-api.js';

export interface Check {
  check: 'server_active' | 'volume_sha256';
  /** The primary id of what was checked, and its id at the target. */
  resource_id: string;
  new_id: string;
  ok: boolean;
  detail: string;
}

const fast = { intervalMs: 200, maxIntervalMs: 2000 };

export async function serverChecks(
  site: SiteClients,
  servers: Record<string, string>,
  ctx: StepContext,
  /** How many servers are asked about at once (the execution's max_parallel_steps). */
  width = 1,
): Promise<Check[]> {
  return mapLimited(Object.entries(servers), width, async ([old, id]): Promise<Check> => {
    ctx.signal.throwIfAborted();
    const s = await site.nova.getServer(id);
    return {
      check: 'server_active',
      resource_id: old,
      new_id: id,
      ok: s.status === 'ACTIVE',
      detail: `status ${s.status}`,
    };
  });
}

/** The SHA-256 of a volume's bytes as Cinder reads them (a temporary image, removed afterwards). */
export async function volumeSha256(site: SiteClients, volumeId: string, ctx: StepContext): Promise<string> {
  const { image_id } = await site.cinder.uploadToImage(volumeId, {
    image_name: `dragon-drill-check-${volumeId}`,
    force: true,
  });
  try {
    await site.glance.waitForImageActive(image_id, { ...fast, timeoutMs: 60 * 60_000, signal: ctx.signal });
    const dl = await site.glance.downloadImage(image_id, { signal: ctx.signal });
    if (!dl) throw new Error(`image ${image_id} of volume ${volumeId} has no data`);
    const hash = createHash('sha256');
    for await (const chunk of dl.stream) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await site.glance
      .deleteImage(image_id)
      .catch((err) =>
        ctx.log.warn({ image: image_id, err: (err as Error).message }, 'temporary check image not removed'),
      );
  }
}

export async function volumeChecks(
  site: SiteClients,
  volumes: Array<{ resource_id: string; new_id: string; sha256: string }>,
  ctx: StepContext,
): Promise<Check[]> {
  const out: Check[] = [];
  for (const v of volumes) {
    ctx.signal.throwIfAborted();
    const got = await volumeSha256(site, v.new_id, ctx);
    out.push({
      check: 'volume_sha256',
      resource_id: v.resource_id,
      new_id: v.new_id,
      ok: got === v.sha256,
      detail: got === v.sha256 ? `SHA-256 ${got}` : `SHA-256 ${got}, expected ${v.sha256}`,
    });
  }
  return out;
}
