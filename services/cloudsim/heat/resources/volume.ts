/**
 * OS::Cinder::Volume — POST /v3/{project}/volumes (or POST
 * /backups/{id}/restore when backup_id is given), complete when `available`,
 * failed on `error`. Delete waits until the volume is gone.
 */
import { physicalName, ResourceFailure, type ResourceType } from './types.js';

type Vol = { volume: Record<string, unknown> & { id: string; status: string } };

async function imageId(ctx: Parameters<ResourceType['create']>[0], ref: unknown): Promise<string> {
  const value = String(ref);
  if (!ctx.api.has('image') || /^[0-9a-f-]{36}$/i.test(value)) return value;
  const r = await ctx.api.call<{ images: Array<{ id: string }> }>(
    'image',
    'GET',
    `/images?name=${encodeURIComponent(value)}`,
  );
  if (r.body.images.length !== 1)
    throw new ResourceFailure('EntityNotFound', `The Image (${value}) could not be found.`);
  return r.body.images[0].id;
}

export const volume: ResourceType = {
  properties: {
    size: {},
    image: {},
    volume_type: {},
    availability_zone: {},
    snapshot_id: {},
    backup_id: {},
    source_volid: {},
    name: {},
    description: {},
    metadata: {},
    multiattach: {},
    read_only: {},
    scheduler_hints: {},
  },
  async create(ctx, props) {
    const name = physicalName(ctx, props.name);
    if (props.backup_id) {
      const r = await ctx.api.call<{ restore: { volume_id: string } }>(
        'volume',
        'POST',
        `/backups/${props.backup_id}/restore`,
        {
          restore: { name },
        },
      );
      return r.body.restore.volume_id;
    }
    const body: Record<string, unknown> = { name };
    if (props.size !== undefined && props.size !== null) body.size = Number(props.size);
    if (props.image) body.imageRef = await imageId(ctx, props.image);
    for (const k of [
      'volume_type',
      'availability_zone',
      'snapshot_id',
      'source_volid',
      'description',
      'metadata',
      'multiattach',
    ])
      if (props[k] !== undefined && props[k] !== null) body[k] = props[k];
    if (body.size === undefined && !body.snapshot_id && !body.source_volid)
      throw new ResourceFailure(
        'StackValidationFailed',
        'size, snapshot_id, source_volid or backup_id must be given',
      );
    const r = await ctx.api.call<Vol>('volume', 'POST', '/volumes', {
      volume: body,
      ...(props.scheduler_hints ? { 'OS-SCH-HNT:scheduler_hints': props.scheduler_hints } : {}),
    });
    return r.body.volume.id;
  },
  async checkCreateComplete(ctx, id) {
    const r = await ctx.api.call<Vol>('volume', 'GET', `/volumes/${id}`);
    const s = r.body.volume.status;
    if (s === 'available') return true;
    if (s === 'error' || s === 'error_restoring')
      throw new ResourceFailure('ResourceInError', `Went to status ${s} due to "Unknown"`);
    return false;
  },
  async delete(ctx, id) {
    await ctx.api.call('volume', 'DELETE', `/volumes/${id}`, undefined, [404]);
  },
  async checkDeleteComplete(ctx, id) {
    const r = await ctx.api.call<Vol>('volume', 'GET', `/volumes/${id}`, undefined, [404]);
    if (r.status === 404) return true;
    if (r.body.volume.status === 'error_deleting')
      throw new ResourceFailure('ResourceInError', 'Went to status error_deleting due to "Unknown"');
    return false;
  },
  async show(ctx, id) {
    return (await ctx.api.call<Vol>('volume', 'GET', `/volumes/${id}`)).body.volume;
  },
  async attribute(ctx, id, name) {
    const v = (await ctx.api.call<Vol>('volume', 'GET', `/volumes/${id}`)).body.volume;
    if (name === 'display_name') return v.name;
    if (name === 'display_description') return v.description;
    if (name === 'attachments_list') return v.attachments;
    if (name === 'attachments') return JSON.stringify(v.attachments ?? []);
    return undefined;
  },
};
