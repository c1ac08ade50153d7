/** OS::Neutron::Subnet — POST /v2.0/subnets. `network` accepts a name or an id. */
import { neutronDelete, neutronGone, neutronShow, pick } from './neutron-common.js';
import { physicalName, ResourceFailure, type ResourceType } from './types.js';

export const subnet: ResourceType = {
  properties: {
    network: {},
    network_id: {},
    cidr: {},
    ip_version: { default: 4 },
    name: {},
    gateway_ip: {},
    enable_dhcp: {},
    allocation_pools: {},
    dns_nameservers: {},
    host_routes: {},
    subnetpool: {},
    ipv6_address_mode: {},
    ipv6_ra_mode: {},
    value_specs: {},
    tags: {},
  },
  async create(ctx, props) {
    const ref = props.network ?? props.network_id;
    if (!ref) throw new ResourceFailure('StackValidationFailed', 'Property network not assigned');
    const subnet = {
      network_id: await ctx.api.neutronId('network', ref),
      name: physicalName(ctx, props.name),
      ip_version: Number(props.ip_version ?? 4),
      ...pick(props, [
        'cidr',
        'gateway_ip',
        'enable_dhcp',
        'allocation_pools',
        'dns_nameservers',
        'host_routes',
        'ipv6_address_mode',
        'ipv6_ra_mode',
      ]),
      ...((props.value_specs as object) ?? {}),
    };
    const r = await ctx.api.call<{ subnet: { id: string } }>('network', 'POST', '/subnets', { subnet });
    return r.body.subnet.id;
  },
  delete: (ctx, id) => neutronDelete(ctx, 'subnets', id),
  checkDeleteComplete: (ctx, id) => neutronGone(ctx, 'subnets', id),
  show: (ctx, id) => neutronShow(ctx, 'subnets', 'subnet', id),
};
