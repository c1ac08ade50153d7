/**
 * What a tenant can protect at a site: its servers and volumes, each with
 * what it depends on (a server's attached volumes, ports, networks and
 * security groups), read with a handful of list calls rather than one
 * call per server.
 */
import type { CinderClient } from '../openstack/cinder.js';
import type { NeutronClient } from '../openstack/neutron.js';
import type { NovaClient } from '../openstack/nova.js';

export const PROTECTABLE_TYPES = ['OS::Nova::Server', 'OS::Cinder::Volume'] as const;
export type ProtectableType = (typeof PROTECTABLE_TYPES)[number];

export interface Dependency {
  id: string;
  type: string;
  name: string;
}

export interface Protectable {
  id: string;
  name: string;
  type: ProtectableType;
  status: string;
  dependencies: Dependency[];
}

export interface ProtectableClients {
  nova: NovaClient;
  cinder: CinderClient;
  neutron: NeutronClient;
}

export async function listProtectables(
  c: ProtectableClients,
  types: readonly ProtectableType[] = PROTECTABLE_TYPES,
): Promise<Protectable[]> {
  const wantServers = types.includes('OS::Nova::Server');
  const [servers, volumes, ports, networks, groups] = await Promise.all([
    wantServers ? c.nova.listServers() : Promise.resolve([]),
    c.cinder.listVolumes(),
    wantServers ? c.neutron.listPorts() : Promise.resolve([]),
    wantServers ? c.neutron.listNetworks() : Promise.resolve([]),
    wantServers ? c.neutron.listSecurityGroups() : Promise.resolve([]),
  ]);
  const volumeName = new Map(volumes.map((v) => [v.id, v.name ?? '']));
  const networkName = new Map(networks.map((n) => [n.id, n.name ?? '']));
  const groupName = new Map(groups.map((g) => [g.id, g.name ?? '']));
  const out: Protectable[] = [];
  for (const s of servers) {
    const deps: Dependency[] = [];
    for (const v of s['os-extended-volumes:volumes_attached'] ?? [])
      deps.push({ id: v.id, type: 'OS::Cinder::Volume', name: volumeName.get(v.id) ?? '' });
    const seen = new Set<string>();
    const once = (d: Dependency) => {
      if (!seen.has(`${d.type}/${d.id}`)) {
        seen.add(`${d.type}/${d.id}`);
        deps.push(d);
      }
    };
    for (const p of ports.filter((x) => x.device_id === s.id)) {
      once({ id: p.id, type: 'OS::Neutron::Port', name: p.name ?? '' });
      once({ id: p.network_id, type: 'OS::Neutron::Net', name: networkName.get(p.network_id) ?? '' });
      for (const g of p.security_groups ?? [])
        once({ id: g, type: 'OS::Neutron::SecurityGroup', name: groupName.get(g) ?? '' });
    }
    out.push({ id: s.id, name: s.name, type: 'OS::Nova::Server', status: s.status, dependencies: deps });
  }
  if (types.includes('OS::Cinder::Volume')) {
    for (const v of volumes)
      out.push({
        id: v.id,
        name: v.name ?? '',
        type: 'OS::Cinder::Volume',
        status: v.status,
        dependencies: [],
      });
  }
  return out;
}
