/** OS::Neutron::FloatingIP — POST /v2.0/floatingips from `floating_network` (name or id). */
import { neutronDelete, neutronGone, neutronShow } from './neutron-common.js';
import type { ResourceType } from './types.js';

export const floatingIp: ResourceType = {
  properties: {
    floating_network: {},
    floating_network_id: {},
    port_id: {},
    fixed_ip_address: {},
    floating_ip_address: {},
    value_specs: {},
    dns_name: {},
    dns_domain: {},
  },
  async create(ctx, props) {
    const floatingip: Record<string, unknown> = {
      floating_network_id: await ctx.api.neutronId(
        'network',
        props.floating_network ?? props.floating_network_id,
      ),
      ...((props.value_specs as object) ?? {}),
    };
    if (props.port_id) floatingip.port_id = await ctx.api.neutronId('port', props.port_id);
    if (props.fixed_ip_address) floatingip.fixed_ip_address = props.fixed_ip_address;
    if (props.floating_ip_address) floatingip.floating_ip_address = props.floating_ip_address;
    const r = await ctx.api.call<{ floatingip: { id: string } }>('network', 'POST', '/floatingips', {
      floatingip,
    });
    return r.body.floatingip.id;
  },
  delete: (ctx, id) => neutronDelete(ctx, 'floatingips', id),
  checkDeleteComplete: (ctx, id) => neutronGone(ctx, 'floatingips', id),
  show: (ctx, id) => neutronShow(ctx, 'floatingips', 'floatingip', id),
};
