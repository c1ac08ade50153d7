/**
 * OS::Nova::KeyPair — POST /v2.1/os-keypairs; physical id is the name.
 * A generated private key is kept in the resource data (attribute private_key)
 * when save_private_key is true, as Heat does.
 */
import type { ResourceType } from './types.js';

export const keyPair: ResourceType = {
  properties: { name: { required: true }, public_key: {}, save_private_key: {}, type: {}, user: {} },
  async create(ctx, props) {
    const keypair: Record<string, unknown> = { name: props.name };
    if (props.public_key) keypair.public_key = props.public_key;
    if (props.type) keypair.type = props.type;
    const r = await ctx.api.call<{ keypair: { name: string; private_key?: string } }>(
      'compute',
      'POST',
      '/os-keypairs',
      { keypair },
    );
    if (props.save_private_key && r.body.keypair.private_key)
      ctx.data.private_key = r.body.keypair.private_key;
    return r.body.keypair.name;
  },
  async delete(ctx, id) {
    await ctx.api.call('compute', 'DELETE', `/os-keypairs/${encodeURIComponent(id)}`, undefined, [404]);
  },
  async show(ctx, id) {
    return (
      await ctx.api.call<{ keypair: Record<string, unknown> }>(
        'compute',
        'GET',
        `/os-keypairs/${encodeURIComponent(id)}`,
      )
    ).body.keypair;
  },
  async attribute(ctx, _id, name) {
    if (name === 'private_key') return ctx.data.private_key ?? '';
    return undefined;
  },
};
