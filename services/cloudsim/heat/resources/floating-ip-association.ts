/** OS::Neutron::FloatingIPAssociation — PUT /v2.0/floatingips/{id} {port_id}; delete sets port_id null. */
import type { ResourceType } from './types.js';

export const floatingIpAssociation: ResourceType = {
  properties: { floatingip_id: { required: true }, port_id: { required: true }, fixed_ip_address: {} },
  async create(ctx, props) {
    const portId = await ctx.api.neutronId('port', props.port_id);
    await ctx.api.call('network', 'PUT', `/floatingips/${props.floatingip_id}`, {
      floatingip: {
        port_id: portId,
        ...(props.fixed_ip_address ? { fixed_ip_address: props.fixed_ip_address } : {}),
      },
    });
    return `${props.floatingip_id}:${portId}`;
  },
  async delete(ctx, id) {
    const [fip] = id.split(':');
    await ctx.api.call('network', 'PUT', `/floatingips/${fip}`, { floatingip: { port_id: null } }, [404]);
  },
};
