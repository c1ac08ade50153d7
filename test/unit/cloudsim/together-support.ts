/**
 * Shared by the together-*.test.ts files: the whole simulator (every service
 * of `allServices`) and the typed clients of one user at one region, all
 * talking over HTTP — no in-test fakes of sibling services.
 */
import { type CloudOptions, type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { allServices } from '../../../services/cloudsim/services.js';
import { CinderClient } from '../../../services/common/openstack/cinder.js';
import { GlanceClient } from '../../../services/common/openstack/glance.js';
import { HeatClient } from '../../../services/common/openstack/heat.js';
import { NeutronClient } from '../../../services/common/openstack/neutron.js';
import { NovaClient } from '../../../services/common/openstack/nova.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { SwiftClient, type SwiftClientOptions } from '../../../services/common/openstack/swift.js';

export function startWholeCloud(opts: Partial<CloudOptions> = {}): Promise<RunningCloud> {
  return startCloud({ services: allServices, ...opts });
}

export function sessionOf(cloud: RunningCloud, region = 'RegionOne', user: 'demo' | 'admin' = 'demo') {
  const who = user === 'demo' ? cloud.demo : cloud.admin;
  return new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: { type: 'password', username: who.userName, password: who.password, userDomainName: 'Default' },
    scope: { projectName: who.projectName, projectDomainName: 'Default' },
    regionName: region,
    interface: 'public',
  });
}

export interface Clients {
  session: KeystoneSession;
  nova: NovaClient;
  neutron: NeutronClient;
  cinder: CinderClient;
  glance: GlanceClient;
  heat: HeatClient;
  swift: SwiftClient;
}

export function clientsOf(
  cloud: RunningCloud,
  region = 'RegionOne',
  user: 'demo' | 'admin' = 'demo',
  swift: SwiftClientOptions = {},
): Clients {
  const session = sessionOf(cloud, region, user);
  return {
    session,
    nova: new NovaClient(session),
    neutron: new NeutronClient(session),
    cinder: new CinderClient(session),
    glance: new GlanceClient(session),
    heat: new HeatClient(session),
    swift: new SwiftClient(session, swift),
  };
}

/** Everything the demo project owns in Nova, Neutron (networks/ports/routers/fips/sgs) and Cinder. */
export async function inventory(c: Clients) {
  const projectId = (await c.session.authenticate()).projectId;
  const [servers, networks, subnets, ports, routers, fips, sgs, volumes] = await Promise.all([
    c.nova.listServers(),
    c.neutron.listNetworks({ project_id: projectId }),
    c.neutron.listSubnets({ project_id: projectId }),
    c.neutron.listPorts({ project_id: projectId }),
    c.neutron.listRouters({ project_id: projectId }),
    c.neutron.listFloatingIps({ project_id: projectId }),
    c.neutron.listSecurityGroups({ project_id: projectId }),
    c.cinder.listVolumes(),
  ]);
  return {
    servers: servers.map((s) => s.name),
    networks: networks.map((n) => n.name),
    subnets: subnets.map((s) => s.name),
    ports: ports.map((p) => p.id),
    routers: routers.map((r) => r.name),
    floatingIps: fips.map((f) => f.floating_ip_address),
    // Neutron gives every project a `default` group of its own: not the stack's.
    securityGroups: sgs.map((g) => g.name).filter((n) => n !== 'default'),
    volumes: volumes.map((v) => v.name ?? v.id),
  };
}
