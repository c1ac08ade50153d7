/** OS::Neutron::Router — POST /v2.0/routers with external_gateway_info {network, enable_snat}. */
import { neutronDelete, neutronGone, neutronShow, pick } from './neutron-common.js';
import { physicalName, type ResourceType } from './types.js';

export const router: ResourceType = {
  properties: {
    name: {},
    admin_state_up: {},
    external_gateway_info: {},
    distributed: {},
    ha: {},
    value_specs: {},
    tags: {},
  },
  async create(ctx, props) {
    const router: Record<string, unknown> = {
      name: physicalName(ctx, props.name),
      ...pick(props, ['admin_state_up', 'distributed', 'ha']),
      ...((props.value_specs as object) ?? {}),
    };
    const gw = props.external_gateway_info as Record<string, unknown> | undefined;
    if (gw?.network) {
      router.external_gateway_info = {
        network_id: await ctx.api.neutronId('network', gw.network),
        ...(gw.enable_snat !== undefined ? { enable_snat: gw.enable_snat } : {}),
        ...(gw.external_fixed_ips ? { external_fixed_ips: gw.external_fixed_ips } : {}),
      };
    }
    const r = await ctx.api.call<{ router: { id: string } }>('network', 'POST', '/routers', { router });
    return r.body.router.id;
  },
  delete: (ctx, id) => neutronDelete(ctx, 'routers', id),
  checkDeleteComplete: (ctx, id) => neutronGone(ctx, 'routers', id),
  show: (ctx, id) => neutronShow(ctx, 'routers', 'router', id),
};
