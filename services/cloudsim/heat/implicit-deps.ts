/**
 * Heat's implicit dependencies (each resource plugin's `add_dependencies`):
 * edges no get_resource/get_attr/depends_on states but without which the
 * stack cannot be deleted (or created) against the real Neutron.
 *
 * - OS::Nova::Server and OS::Neutron::Port on a network require every
 *   OS::Neutron::Subnet of that network in the stack ("it is not known which
 *   subnet a server might be assigned to"), so on delete the server (and the
 *   port Nova made for it) is gone before the subnet goes — else Neutron
 *   answers 409 "One or more ports have an IP allocation from this subnet".
 * - OS::Neutron::FloatingIP requires the OS::Neutron::RouterInterface
 *   resources and routers with a gateway in the stack (Heat's FloatingIP
 *   depends on the interfaces of subnets on its port's network and on
 *   routers gatewayed to floating_network): the floating IP is released
 *   before the router interface is removed.
 *
 * Properties are compared as written in the template (`{get_resource: net}`
 * or the same literal name/id), like Heat compares the unresolved values.
 */
import type { DependencyGraph } from './graph.js';
import type { ResourceDef } from './template.js';

const same = (a: unknown, b: unknown) =>
  a !== undefined && a !== null && JSON.stringify(a) === JSON.stringify(b);

function networksOf(r: ResourceDef): unknown[] {
  const p = r.properties;
  if (r.type === 'OS::Neutron::Port') return [p.network ?? p.network_id];
  if (r.type === 'OS::Nova::Server' && Array.isArray(p.networks))
    return (p.networks as Array<Record<string, unknown>>).map((n) => n?.network ?? n?.uuid);
  return [];
}

export function addImplicitDependencies(
  resources: Array<[string, ResourceDef]>,
  graph: DependencyGraph,
): void {
  const subnets = resources.filter(([, r]) => r.type === 'OS::Neutron::Subnet');
  for (const [name, r] of resources) {
    for (const net of networksOf(r))
      for (const [subnet, s] of subnets)
        if (subnet !== name && same(net, s.properties.network ?? s.properties.network_id))
          graph.add(name, subnet);
    if (r.type === 'OS::Neutron::FloatingIP')
      for (const [other, o] of resources)
        if (
          o.type === 'OS::Neutron::RouterInterface' ||
          (o.type === 'OS::Neutron::Router' &&
            same(
              (o.properties.external_gateway_info as Record<string, unknown> | undefined)?.network,
              r.properties.floating_network ?? r.properties.floating_network_id,
            ))
        )
          graph.add(name, other);
  }
}
