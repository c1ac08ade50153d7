/** OS::Neutron::Port — POST /v2.0/ports; fixed_ips entries take `subnet` (name or id) and `ip_address`. */
import { neutronDelete, neutronGone, neutronShow, pick } from './neutron-common.js';
import { physicalName, ResourceFailure, type ResourceType } from './types.js';

export const port: ResourceType = {
  properties: {
    network: {},
    network_id: {},
    name: {},
    fixed_ips: {},
    security_groups: {},
    mac_address: {},
    admin_state_up: {},
    device_id: {},
    device_owner: {},
    port_security_enabled: {},
    allowed_address_pairs: {},
    binding: {},
    value_specs: {},
    tags: {},
  },
  async create(ctx, props) {
    const ref = props.network ?? props.network_id;
    if (!ref) throw new ResourceFailure('StackValidationFailed', 'Property network not assigned');
    const port: Record<string, unknown> = {
      network_id: await ctx.api.neutronId('network', ref),
      name: physicalName(ctx, props.name),
      ...pick(props, [
        'mac_address',
        'admin_state_up',
        'device_id',
        'device_owner',
        'port_security_enabled',
        'allowed_address_pairs',
      ]),
      ...((props.value_specs as object) ?? {}),
    };
    if (Array.isArray(props.fixed_ips)) {
      port.fixed_ips = await Promise.all(
        (props.fixed_ips as Array<Record<string, unknown>>).map(async (f) => ({
          ...((f.subnet ?? f.subnet_id)
            ? { subnet_id: await ctx.api.neutronId('subnet', f.subnet ?? f.subnet_id) }
            : {}),
          ...(f.ip_address ? { ip_address: f.ip_address } : {}),
        })),
      );
    }
    if (Array.isArray(props.security_groups))
      port.security_groups = await Promise.all(
        props.security_groups.map((g) => ctx.api.neutronId('security-group', g)),
      );
    const r = await ctx.api.call<{ port: { id: string } }>('network', 'POST', '/ports', { port });
    return r.body.port.id;
  },
  delete: (ctx, id) => neutronDelete(ctx, 'ports', id),
  checkDeleteComplete: (ctx, id) => neutronGone(ctx, 'ports', id),
  show: (ctx, id) => neutronShow(ctx, 'ports', 'port', id),
};
