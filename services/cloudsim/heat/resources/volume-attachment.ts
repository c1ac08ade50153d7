/**
 * OS::Cinder::VolumeAttachment — through Nova: POST
 * /v2.1/servers/{id}/os-volume_attachments, complete when the volume is
 * `in-use`; delete detaches and waits for `available`. Physical id: the
 * Nova attachment id (which Nova makes the volume id).
 */
import { ResourceFailure, type ResourceType } from './types.js';

type Vol = { volume: { id: string; status: string } };

export const volumeAttachment: ResourceType = {
  properties: { instance_uuid: { required: true }, volume_id: { required: true }, mountpoint: {} },
  async create(ctx, props) {
    const r = await ctx.api.call<{ volumeAttachment: { id: string } }>(
      'compute',
      'POST',
      `/servers/${props.instance_uuid}/os-volume_attachments`,
      {
        volumeAttachment: {
          volumeId: props.volume_id,
          ...(props.mountpoint ? { device: props.mountpoint } : {}),
        },
      },
    );
    return r.body.volumeAttachment.id;
  },
  async checkCreateComplete(ctx, _id, props) {
    const s = (await ctx.api.call<Vol>('volume', 'GET', `/volumes/${props.volume_id}`)).body.volume.status;
    if (s === 'in-use') return true;
    // `available` right after the request is Cinder not having started yet: keep polling.
    if (s === 'error' || s === 'error_attaching')
      throw new ResourceFailure('ResourceInError', `Volume went to status ${s}`);
    return false;
  },
  async delete(ctx, id, props) {
    await ctx.api.call(
      'compute',
      'DELETE',
      `/servers/${props.instance_uuid}/os-volume_attachments/${id}`,
      undefined,
      [404],
    );
  },
  async checkDeleteComplete(ctx, _id, props) {
    const r = await ctx.api.call<Vol>('volume', 'GET', `/volumes/${props.volume_id}`, undefined, [404]);
    if (r.status === 404) return true;
    if (r.body.volume.status === 'error_detaching')
      throw new ResourceFailure('ResourceInError', 'Volume went to status error_detaching');
    return r.body.volume.status === 'available' || r.body.volume.status === 'error';
  },
};
