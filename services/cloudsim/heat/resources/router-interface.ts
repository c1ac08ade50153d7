/**
 * OS::Neutron::RouterInterface — PUT /v2.0/routers/{id}/add_router_interface.
 * Its physical id is Heat's `<router id>:subnet_id=<subnet id>` (or port_id=).
 */
import { ResourceFailure, type ResourceType } from './types.js';

export const routerInterface: ResourceType = {
  properties: { router: { required: true }, subnet: {}, port: {} },
  async create(ctx, props) {
    const routerId = await ctx.api.neutronId('router', props.router);
    let body: Record<string, string>;
    if (props.subnet) body = { subnet_id: await ctx.api.neutronId('subnet', props.subnet) };
    else if (props.port) body = { port_id: await ctx.api.neutronId('port', props.port) };
    else
      throw new ResourceFailure(
        'PropertyUnspecifiedError',
        'At least one of the following properties must be specified: subnet, port.',
      );
    await ctx.api.call('network', 'PUT', `/routers/${routerId}/add_router_interface`, body);
    const [k, v] = Object.entries(body)[0];
    return `${routerId}:${k}=${v}`;
  },
  async delete(ctx, id) {
    const [routerId, spec] = id.split(':');
    const [k, v] = (spec ?? '').split('=');
    if (!routerId || !k) return;
    await ctx.api.call('network', 'PUT', `/routers/${routerId}/remove_router_interface`, { [k]: v }, [404]);
  },
};
