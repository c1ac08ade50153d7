/** OS::Neutron::Net — POST /v2.0/networks. */
import { neutronDelete, neutronGone, neutronShow, pick } from './neutron-common.js';
import { physicalName, type ResourceType } from './types.js';

export const net: ResourceType = {
  properties: {
    name: {},
    admin_state_up: {},
    shared: {},
    port_security_enabled: {},
    value_specs: {},
    tenant_id: {},
    dns_domain: {},
    qos_policy: {},
    tags: {},
  },
  async create(ctx, props) {
    const network = {
      name: physicalName(ctx, props.name),
      ...pick(props, ['admin_state_up', 'shared', 'port_security_enabled', 'tenant_id', 'dns_domain']),
      ...((props.value_specs as object) ?? {}),
    };
    const r = await ctx.api.call<{ network: { id: string } }>('network', 'POST', '/networks', { network });
    return r.body.network.id;
  },
  delete: (ctx, id) => neutronDelete(ctx, 'networks', id),
  checkDeleteComplete: (ctx, id) => neutronGone(ctx, 'networks', id),
  show: (ctx, id) => neutronShow(ctx, 'networks', 'network', id),
};
