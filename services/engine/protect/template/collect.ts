/**
 * Reads, at the primary site, everything the policy's resources need to be
 * rebuilt elsewhere: servers with their flavor, key pair, zone, metadata,
 * image or boot volume and attached volumes; the ports, networks, subnets,
 * routers (with the interfaces on those subnets), security groups (and the
 * groups their rules refer to) and floating IPs around them. Nothing here
 * decides how the template looks; build.ts does.
 */
import type { Volume } from '../../../common/openstack/cinder.js';
import type {
  FloatingIp,
  Network,
  Port,
  Router,
  SecurityGroup,
  Subnet,
} from '../../../common/openstack/neutron.js';
import type { Server } from '../../../common/openstack/nova.js';
import type { SiteClients } from '../../plugin-api.js';

export const SERVER_TYPE = 'OS::Nova::Server';
export const VOLUME_TYPE = 'OS::Cinder::Volume';

export interface PolicyResource {
  resource_id: string;
  resource_type: string;
}

export interface CollectedFlavor {
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

export interface CollectedAttachment {
  volumeId: string;
  device: string;
}

export interface CollectedServer {
  server: Server;
  flavor: CollectedFlavor;
  /** The Glance image it was booted from; null when it boots from a volume. */
  imageId: string | null;
  /** Set when it boots from a volume: that volume (also listed in attachments). */
  bootVolumeId: string | null;
  /** Every attached volume with its device, ordered by device. */
  attachments: CollectedAttachment[];
  /** Its ports in Nova's NIC order. */
  portIds: string[];
}

export interface CollectedVolume {
  volume: Volume;
  /** False for a volume attached to a protected server but not itself in the policy. */
  inPolicy: boolean;
}

export interface CollectedRouter {
  router: Router;
  /** Name of its gateway's external network, or null without a gateway. */
  externalNetwork: string | null;
  /** The workload's subnets it has an interface on. */
  subnetIds: string[];
}

export interface CollectedFloatingIp {
  floatingIp: FloatingIp;
  externalNetwork: string;
}

export interface CollectedWorkload {
  servers: CollectedServer[];
  volumes: CollectedVolume[];
  ports: Port[];
  /** The workload's own networks (recreated by the template). */
  networks: Network[];
  /** External or shared networks of the site that ports are plugged into (named by a parameter). */
  providerNetworks: Network[];
  subnets: Subnet[];
  routers: CollectedRouter[];
  securityGroups: SecurityGroup[];
  floatingIps: CollectedFloatingIp[];
}

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const ROUTER_INTERFACE_OWNERS = [
  'network:router_interface',
  'network:router_interface_distributed',
  'network:ha_router_replicated_interface',
];

/** The devices a volume may boot from, by the name Nova gives the root disk. */
function isRootDevice(device: string): boolean {
  return /^\/dev\/[a-z]*da$/.test(device);
}

/**
 * Reads READ_CONCURRENCY servers (four calls each) and VOLUME_READ_CONCURRENCY
 * volumes (one call each) at a time: a policy of a hundred resources otherwise
 * waits for hundreds of round trips one after the other (seconds behind a slow
 * API), while the plugins' steps run in parallel. The template is the longest
 * step of a protect of many small resources, so it sets the protect's time.
 */
const READ_CONCURRENCY = 16;
const VOLUME_READ_CONCURRENCY = 32;

/** `fn` over `items`, at most `limit` at once; the results in the items' order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function collectWorkload(
  resources: PolicyResource[],
  primary: SiteClients,
): Promise<CollectedWorkload> {
  const { nova, cinder, neutron } = primary;
  const serverIds = [
    ...new Set(resources.filter((r) => r.resource_type === SERVER_TYPE).map((r) => r.resource_id)),
  ];
  const policyVolumeIds = new Set(
    resources.filter((r) => r.resource_type === VOLUME_TYPE).map((r) => r.resource_id),
  );
  const unknown = resources.filter((r) => r.resource_type !== SERVER_TYPE && r.resource_type !== VOLUME_TYPE);
  if (unknown.length > 0)
    throw new Error(`the template builder cannot capture resource type ${unknown[0].resource_type}`);

  // The policy's own volumes are read while the servers are: only the volumes attached to a server
  // but not in the policy have to wait for the servers' attachments.
  const readVolumes = (ids: string[]) =>
    mapLimit(ids, VOLUME_READ_CONCURRENCY, async (id) => ({
      volume: await cinder.getVolume(id),
      inPolicy: policyVolumeIds.has(id),
    }));
  const policyVolumes = readVolumes([...policyVolumeIds]);
  // Awaited below; a failure while the servers are still being read must not go unhandled.
  policyVolumes.catch(() => undefined);

  const portsById = new Map<string, Port>();
  const servers = await mapLimit(serverIds.sort(), READ_CONCURRENCY, async (id): Promise<CollectedServer> => {
    const [server, attached, nics, ports] = await Promise.all([
      nova.getServer(id),
      nova.listVolumeAttachments(id),
      nova.listInterfaces(id),
      neutron.listPorts({ device_id: id }),
    ]);
    const flavor = await flavorOf(primary, server);
    const attachments = attached
      .map((a) => ({ volumeId: a.volumeId, device: a.device }))
      .sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
    const imageId = typeof server.image === 'object' && server.image?.id ? server.image.id : null;
    const bootVolumeId = imageId
      ? null
      : ((attachments.find((a) => isRootDevice(a.device)) ?? attachments[0])?.volumeId ?? null);
    if (!imageId && !bootVolumeId) throw new Error(`server ${id} has neither an image nor a boot volume`);
    for (const p of ports) portsById.set(p.id, p);
    // Nova's interface order is the guest's NIC order; ports Nova does not list come last, by id.
    const portIds = [
      ...nics.map((n) => n.port_id).filter((pid) => portsById.has(pid)),
      ...ports
        .map((p) => p.id)
        .filter((pid) => !nics.some((n) => n.port_id === pid))
        .sort(),
    ];
    return { server, flavor, imageId, bootVolumeId, attachments, portIds };
  });

  const attachedOnly = new Set<string>();
  for (const s of servers)
    for (const a of s.attachments) if (!policyVolumeIds.has(a.volumeId)) attachedOnly.add(a.volumeId);
  const volumes = [...(await policyVolumes), ...(await readVolumes([...attachedOnly]))].sort((a, b) =>
    byId(a.volume, b.volume),
  );

  const ports = [...portsById.values()].sort(byId);
  const networks = new Map<string, Network>();
  const providerNetworks = new Map<string, Network>();
  for (const p of ports) {
    if (networks.has(p.network_id) || providerNetworks.has(p.network_id)) continue;
    const n = await neutron.getNetwork(p.network_id);
    // A network the project does not own (external, or shared by another project) is
    // the site's, not the workload's: the template names it instead of creating it.
    if (n['router:external'] || (n.shared && n.project_id !== primary.projectId))
      providerNetworks.set(n.id, n);
    else networks.set(n.id, n);
  }
  const subnets: Subnet[] = [];
  for (const n of [...networks.values()].sort(byId))
    for (const sid of [...n.subnets].sort()) subnets.push(await neutron.getSubnet(sid));
  const subnetIds = new Set(subnets.map((s) => s.id));

  const networkNames = new Map<string, string>();
  const externalName = async (id: string) => {
    let name = networkNames.get(id);
    if (name === undefined) {
      name = (await neutron.getNetwork(id)).name || id;
      networkNames.set(id, name);
    }
    return name;
  };

  const routerSubnets = new Map<string, Set<string>>();
  for (const owner of ROUTER_INTERFACE_OWNERS)
    for (const p of await neutron.listPorts({ device_owner: owner }))
      for (const f of p.fixed_ips)
        if (subnetIds.has(f.subnet_id) && networks.has(p.network_id)) {
          const set = routerSubnets.get(p.device_id) ?? new Set<string>();
          set.add(f.subnet_id);
          routerSubnets.set(p.device_id, set);
        }
  const routers: CollectedRouter[] = [];
  for (const [rid, set] of [...routerSubnets.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const router = await neutron.getRouter(rid);
    const gw = router.external_gateway_info?.network_id;
    routers.push({ router, externalNetwork: gw ? await externalName(gw) : null, subnetIds: [...set].sort() });
  }

  // Security groups of the ports, and the groups their rules name as remote (transitively).
  const groups = new Map<string, SecurityGroup>();
  const pending = [...new Set(ports.flatMap((p) => p.security_groups))];
  while (pending.length > 0) {
    const id = pending.shift() as string;
    if (groups.has(id)) continue;
    const g = await neutron.getSecurityGroup(id);
    groups.set(id, g);
    for (const r of g.security_group_rules ?? [])
      if (r.remote_group_id && !groups.has(r.remote_group_id)) pending.push(r.remote_group_id);
  }

  const floatingIps: CollectedFloatingIp[] = [];
  for (const p of ports)
    for (const f of (await neutron.listFloatingIps({ port_id: p.id })).sort(byId))
      floatingIps.push({ floatingIp: f, externalNetwork: await externalName(f.floating_network_id) });

  return {
    servers,
    volumes,
    ports,
    networks: [...networks.values()].sort(byId),
    providerNetworks: [...providerNetworks.values()].sort(byId),
    subnets,
    routers,
    securityGroups: [...groups.values()].sort(byId),
    floatingIps,
  };
}

/** The flavor as the server shows it (Nova >= 2.47 embeds it); older answers are looked up by id. */
async function flavorOf(primary: SiteClients, server: Server): Promise<CollectedFlavor> {
  const f = server.flavor ?? {};
  if (f.original_name && f.vcpus !== undefined && f.ram !== undefined && f.disk !== undefined)
    return { name: f.original_name, vcpus: f.vcpus, ram: f.ram, disk: f.disk };
  if (!f.id) throw new Error(`server ${server.id} shows no flavor`);
  const full = await primary.nova.getFlavor(f.id);
  return { name: full.name, vcpus: full.vcpus, ram: full.ram, disk: full.disk };
}
