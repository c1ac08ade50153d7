/**
 * Nova's server actions (POST /servers/{id}/action): os-start, os-stop,
 * pause, unpause, reboot and createImage (a Glance image of the server's
 * disk bytes, or a block-device-mapping image for a volume-backed server).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Router } from 'express';
import type { ImageServiceApi, SimImage } from './contracts.js';
import type { NovaContext } from './nova-context.js';
import { atLeast } from './nova-microversion.js';
import { NovaFault, POWER, type SimServer } from './nova-servers.js';
import { callerOf, type SimCaller } from './sim-auth.js';

/**
 * Glance's queued-image pair (added to ImageServiceApi by the storage work): when the site's
 * image service has it, createImage answers before the upload, as Nova does.
 */
interface QueuedImageApi {
  createQueuedImage(
    owner: string,
    fields: {
      name: string;
      disk_format?: string;
      container_format?: string;
      properties?: Record<string, string>;
    },
  ): SimImage;
  uploadImageFromFile(id: string, filePath: string): Promise<SimImage>;
}

export function actionRoutes(api: Router, ctx: NovaContext): void {
  const { site, store, images, findServer, requireState } = ctx;

  api.post('/servers/:id/action', async (req, res) => {
    const c = callerOf(res);
    const s = findServer(c, req.params.id as string);
    const body = (req.body ?? {}) as Record<string, Record<string, unknown> | null>;
    const action = Object.keys(body)[0];
    switch (action) {
      case 'os-start':
        requireState(s, 'start', ['stopped']);
        store.transition(s, 'powering-on', 'active', POWER.RUNNING);
        break;
      case 'os-stop':
        requireState(s, 'stop', ['active', 'error', 'paused']);
        store.transition(s, 'powering-off', 'stopped', POWER.SHUTDOWN);
        break;
      case 'pause':
        requireState(s, 'pause', ['active']);
        store.transition(s, 'pausing', 'paused', POWER.PAUSED);
        break;
      case 'unpause':
        requireState(s, 'unpause', ['paused']);
        store.transition(s, 'unpausing', 'active', POWER.RUNNING);
        break;
      case 'reboot': {
        const type = String(body.reboot?.type ?? '').toUpperCase();
        if (type !== 'SOFT' && type !== 'HARD')
          throw new NovaFault(
            400,
            'Invalid input for field/attribute type. Value: ' +
              `${type}. '${type}' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`,
          );
        requireState(s, 'reboot', type === 'HARD' ? ['active', 'stopped', 'paused', 'error'] : ['active']);
        store.transition(s, type === 'HARD' ? 'rebooting_hard' : 'rebooting', 'active', POWER.RUNNING);
        break;
      }
      case 'createImage': {
        const b = body.createImage ?? {};
        if (typeof b.name !== 'string' || b.name === '')
          throw new NovaFault(
            400,
            "Invalid input for field/attribute createImage. 'name' is a required property",
          );
        requireState(s, 'createImage', ['active', 'stopped', 'paused']);
        const imageId = await snapshot(c, s, b.name, (b.metadata ?? {}) as Record<string, string>);
        if (atLeast(res, 45)) res.status(202).json({ image_id: imageId });
        else
          res
            .status(202)
            .location(`${site.endpoint('image')}/v2/images/${imageId}`)
            .end();
        return;
      }
      default:
        throw new NovaFault(400, `There is no such action: ${action ?? ''}`);
    }
    res.status(202).end();
  });

  /**
   * createImage: an image-backed server's disk bytes become an active Glance
   * image with Nova's snapshot properties. A volume-backed server gets an
   * image without data whose block_device_mapping describes its volumes
   * (real Nova also snapshots those volumes in Cinder; see docs).
   */
  const snapshot = async (
    c: SimCaller,
    s: SimServer,
    name: string,
    metadata: Record<string, string>,
  ): Promise<string> => {
    const base = s.imageId ? images().getImage(s.imageId) : undefined;
    const properties: Record<string, string> = {
      ...(base?.properties ?? {}),
      ...Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, String(v)])),
      image_type: 'snapshot',
      instance_uuid: s.id,
      base_image_ref: s.imageId ?? '',
      owner_project_name: c.projectName,
      owner_user_name: c.userName,
      user_id: c.userId,
      image_location: 'snapshot',
      boot_roles: c.roles.join(','),
    };
    s.taskState = 'image_snapshot';
    const fields = {
      name,
      disk_format: base?.disk_format ?? 'raw',
      container_format: base?.container_format ?? 'bare',
      properties,
    };
    const glance = images() as ImageServiceApi & Partial<QueuedImageApi>;
    const disk = s.diskPath;
    if (disk && glance.createQueuedImage && glance.uploadImageFromFile) {
      // Like Nova: the image record (queued) first, the answer, then the upload from the compute host.
      const upload = glance.uploadImageFromFile.bind(glance);
      const img = glance.createQueuedImage(s.projectId, fields);
      s.taskState = 'image_pending_upload';
      store.later(s.id, async () => {
        s.taskState = 'image_uploading';
        try {
          await upload(img.id, disk);
        } catch {
          // Glance marks the image killed; the server itself carries on, as in Nova.
        } finally {
          s.taskState = null;
          store.touch(s);
        }
      });
      return img.id;
    }
    try {
      if (disk) {
        const img = await images().createImageFromFile(s.projectId, fields, disk);
        return img.id;
      }
      const tmp = await mkdtemp(join(tmpdir(), 'nova-bfv-'));
      try {
        await writeFile(join(tmp, 'empty'), '');
        properties.bdm_v2 = 'True';
        properties.root_device_name = '/dev/vda';
        properties.block_device_mapping = JSON.stringify(
          s.volumes.map((v) => ({
            boot_index: v.root ? 0 : null,
            source_type: 'volume',
            destination_type: 'volume',
            volume_id: v.volumeId,
            device_name: v.device,
            delete_on_termination: v.deleteOnTermination,
            tag: v.tag,
          })),
        );
        const img = await images().createImageFromFile(
          s.projectId,
          { name, disk_format: 'raw', container_format: 'bare', properties },
          join(tmp, 'empty'),
        );
        return img.id;
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    } finally {
      s.taskState = null;
      store.touch(s);
    }
  };
}
