/**
 * Turns a collected workload into a HOT template. Everything that differs
 * from one site to another (images, volumes, flavors, zones, volume types,
 * key pairs, the external network) is a template parameter whose primary
 * value is recorded next to it, so recovery supplies parameters instead of
 * editing YAML. The rest (networks, subnets, routers and their interfaces,
 * security groups, ports with their fixed IPs, floating IPs, servers, volume
 * attachments) are HOT resources tied together with get_resource/get_param.
 *
 * Volumes are not HOT resources: recovery restores them itself (from Cinder
 * backups or replicas) and passes their ids as `<volume>_volume_id`.
 */
import { stringify } from 'yaml';
import type { CollectedServer, CollectedWorkload } from './collect.js';
import { SERVER_TYPE, VOLUME_TYPE } from './collect.js';
import { allocateNames, nameOf, sanitise } from './names.js';

export const HEAT_TEMPLATE_VERSION = '2018-08-31';

export interface TemplateParameter {
  type: 'string' | 'number' | 'json' | 'boolean' | 'comma_delimited_list';
  description: string;
  /** The value at the primary site when the template was built. */
  primary_value: string | number | boolean;
}

export interface GraphNode {
  /** The HOT resource name (for a volume: the stem of its `<name>_volume_id` parameter). */
  name: string;
  /**
   * The resource's id at the primary site. Resources without an id of their
   * own have Heat's compound form: a router interface `<router>:subnet_id=<subnet>`,
   * a volume attachment `<server>:<volume>`, a floating IP association `<floating IP>:<port>`.
   */
  resource_id: string;
  resource_type: string;
  /** Names of the graph nodes this one needs first. */
  depends_on: string[];
}

/** What recovery needs to restore a volume before it creates the stack. */
export interface TemplateVolume {
  /** Graph node name; the template reads the restored id from parameter `<name>_volume_id`. */
  name: string;
  volume_name: string | null;
  size: number;
  volume_type: string;
  availability_zone: string;
  bootable: boolean;
  /** False for a volume a protected server uses that the policy does not protect. */
  in_policy: boolean;
  /** Set while attached to a captured server. */
  attached_to?: { server: string; device: string };
}

export interface WorkloadTemplate {
  /** The HOT template as YAML text. */
  template: string;
  parameters: Record<string, TemplateParameter>;
  graph: GraphNode[];
  /** Keyed by the volume's primary id. */
  volumes: Record<string, TemplateVolume>;
  /** Keyed by the server's primary id: what recovery needs to pick an image, flavor and key pair. */
  servers: Record<string, TemplateServer>;
}

export interface TemplateServer {
  /** The HOT resource name; its parameters are `<name>_image`, `<name>_flavor`, ... */
  name: string;
  server_name: string;
  flavor: { name: string; vcpus: number; ram: number; disk: number };
  /** Null when it boots from a volume. */
  image_id: string | null;
  /** Primary id of the volume it boots from, if any. */
  boot_volume_id: string | null;
  key_name: string | null;
  availability_zone: string | null;
}

export interface BuildOptions {
  /** The template's description, e.g. naming the policy. No timestamps: same input, same bytes. */
  description?: string;
}

type Json = unknown;
type HotResource = { type: string; properties: Record<string, Json>; depends_on?: string[] };

/** The resources whose new ids the `resource_ids` output reports (attachments and interfaces have no id of their own worth mapping). */
const MAPPED_TYPES = new Set([
  SERVER_TYPE,
  'OS::Neutron::Net',
  'OS::Neutron::Subnet',
  'OS::Neutron::Router',
  'OS::Neutron::SecurityGroup',
  'OS::Neutron::Port',
  'OS::Neutron::FloatingIP',
]);

const ref = (name: string) => ({ get_resource: name });
const param = (name: string) => ({ get_param: name });

/** Deep copy with every mapping's keys sorted; lists keep their (meaningful) order. */
function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, Json>)[k])]),
    );
  return v;
}

/** The names of the resources a value refers to with get_resource / get_attr. */
function references(v: Json, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) references(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, Json>)) {
      if (k === 'get_resource' && typeof x === 'string') out.add(x);
      else if (k === 'get_attr' && Array.isArray(x) && typeof x[0] === 'string') out.add(x[0]);
      else references(x, out);
    }
  }
  return out;
}

function paramRefs(v: Json, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) paramRefs(x, out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v as Record<string, Json>)) {
      if (k === 'get_param' && typeof x === 'string') out.add(x);
      else paramRefs(x, out);
    }
  return out;
}

export function buildTemplate(w: CollectedWorkload, opts: BuildOptions = {}): WorkloadTemplate {
  const names = allocateNames([
    ...w.servers.map((s) => ({ kind: 'server', name: s.server.name, id: s.server.id })),
    ...w.volumes.map((v) => ({ kind: 'volume', name: v.volume.name, id: v.volume.id })),
    ...[...w.networks, ...w.providerNetworks].map((n) => ({ kind: 'net', name: n.name, id: n.id })),
    ...w.subnets.map((s) => ({ kind: 'subnet', name: s.name, id: s.id })),
    ...w.routers.map((r) => ({ kind: 'router', name: r.router.name, id: r.router.id })),
    ...w.securityGroups.map((g) => ({ kind: 'secgroup', name: g.name, id: g.id })),
    ...w.ports.map((p) => ({ kind: 'port', name: p.name, id: p.id })),
    ...w.floatingIps.map((f) => ({ kind: 'floatingip', name: '', id: f.floatingIp.id })),
  ]);
  const n = (kind: string, id: string) => nameOf(names, kind, id);

  const parameters: Record<string, TemplateParameter> = {};
  const resources: Record<string, HotResource> = {};
  const primaryIds: Record<string, { id: string; type: string }> = {};
  // `<vol>_volume_id` parameter → graph node name
  const volumeNodes = new Map<string, string>();
  const volumes: Record<string, TemplateVolume> = {};
  const servers: Record<string, TemplateServer> = {};

  const add = (
    name: string,
    type: string,
    primaryId: string,
    properties: Record<string, Json>,
    dependsOn?: string[],
  ) => {
    resources[name] = {
      type,
      properties,
      ...(dependsOn && dependsOn.length > 0 ? { depends_on: dependsOn } : {}),
    };
    primaryIds[name] = { id: primaryId, type };
  };
  const setParam = (name: string, description: string, value: string | number | boolean) => {
    parameters[name] = {
      type: typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string',
      description,
      primary_value: value,
    };
    return param(name);
  };

  // External networks: one parameter each, `external_network` for the first by name.
  const externals = [
    ...new Set([
      ...w.routers.map((r) => r.externalNetwork).filter((x): x is string => x !== null),
      ...w.floatingIps.map((f) => f.externalNetwork),
      ...w.providerNetworks.filter((x) => x['router:external']).map((x) => x.name || x.id),
    ]),
  ].sort();
  const externalParam = new Map<string, string>();
  externals.forEach((ext, i) => {
    const p = i === 0 ? 'external_network' : `external_network_${sanitise(ext) || i}`;
    externalParam.set(ext, p);
    setParam(p, 'External network (name or id) for router gateways and floating IPs', ext);
  });

  // Shared networks of the site that ports sit on directly: named by a parameter each.
  const providerParam = new Map<string, string>();
  for (const pn of w.providerNetworks) {
    const name = pn.name || pn.id;
    let p = externalParam.get(name);
    if (!p) {
      p = `${n('net', pn.id)}_network`;
      setParam(p, `Shared network (name or id) for the ports on ${pn.id}`, name);
    }
    providerParam.set(pn.id, p);
  }

  // Volumes: parameters only; recovery restores them and passes the ids.
  const attachedTo = new Map<string, { server: string; device: string }>();
  for (const s of w.servers)
    for (const a of s.attachments)
      attachedTo.set(a.volumeId, { server: n('server', s.server.id), device: a.device });
  for (const { volume: v, inPolicy } of w.volumes) {
    const name = n('volume', v.id);
    setParam(`${name}_volume_id`, `Id of the restored volume for ${v.id} (${v.size} GiB)`, v.id);
    setParam(`${name}_volume_type`, `Volume type to restore volume ${v.id} as`, v.volume_type);
    setParam(
      `${name}_availability_zone`,
      `Availability zone to restore volume ${v.id} in`,
      v.availability_zone,
    );
    volumeNodes.set(`${name}_volume_id`, name);
    volumes[v.id] = {
      name,
      volume_name: v.name,
      size: v.size,
      volume_type: v.volume_type,
      availability_zone: v.availability_zone,
      bootable: String(v.bootable) === 'true',
      in_policy: inPolicy,
      ...(attachedTo.has(v.id) ? { attached_to: attachedTo.get(v.id) } : {}),
    };
  }

  for (const net of w.networks) {
    const props: Record<string, Json> = { name: net.name, admin_state_up: net.admin_state_up };
    if (net.port_security_enabled !== undefined) props.port_security_enabled = net.port_security_enabled;
    add(n('net', net.id), 'OS::Neutron::Net', net.id, props);
  }

  for (const s of w.subnets) {
    const props: Record<string, Json> = {
      name: s.name,
      network: ref(n('net', s.network_id)),
      cidr: s.cidr,
      ip_version: s.ip_version,
      gateway_ip: s.gateway_ip,
      enable_dhcp: s.enable_dhcp,
      allocation_pools: s.allocation_pools.map((p) => ({ start: p.start, end: p.end })),
      dns_nameservers: [...(s.dns_nameservers ?? [])],
    };
    if (s.host_routes && s.host_routes.length > 0) props.host_routes = s.host_routes;
    add(n('subnet', s.id), 'OS::Neutron::Subnet', s.id, props);
  }

  // Router interface resources, by subnet: floating IP associations wait for them.
  const interfacesBySubnet = new Map<string, string[]>();
  for (const r of w.routers) {
    const rname = n('router', r.router.id);
    const props: Record<string, Json> = { name: r.router.name, admin_state_up: r.router.admin_state_up };
    // enable_snat is left out: Neutron's default policy lets only admins set it.
    if (r.externalNetwork)
      props.external_gateway_info = { network: param(externalParam.get(r.externalNetwork) as string) };
    add(rname, 'OS::Neutron::Router', r.router.id, props);
    for (const sid of r.subnetIds) {
      const iname = `${rname}_if_${n('subnet', sid).replace(/^subnet_/, '')}`;
      add(iname, 'OS::Neutron::RouterInterface', `${r.router.id}:subnet_id=${sid}`, {
        router: ref(rname),
        subnet: ref(n('subnet', sid)),
      });
      interfacesBySubnet.set(sid, [...(interfacesBySubnet.get(sid) ?? []), iname]);
    }
  }

  const groupIds = new Set(w.securityGroups.map((g) => g.id));
  const isDefault = (name: string) => name === 'default';
  const groupRef = (id: string): Json => {
    const g = w.securityGroups.find((x) => x.id === id);
    // Every project has its own `default` group that Heat cannot create: refer to it by name.
    if (g && isDefault(g.name)) return 'default';
    return ref(n('secgroup', id));
  };
  for (const g of w.securityGroups) {
    if (isDefault(g.name)) continue;
    const rules = (g.security_group_rules ?? []).map((r) => {
      const rule: Record<string, Json> = { direction: r.direction, ethertype: r.ethertype };
      if (r.protocol !== null && r.protocol !== undefined) rule.protocol = r.protocol;
      if (r.port_range_min !== null && r.port_range_min !== undefined) rule.port_range_min = r.port_range_min;
      if (r.port_range_max !== null && r.port_range_max !== undefined) rule.port_range_max = r.port_range_max;
      if (r.remote_ip_prefix) rule.remote_ip_prefix = r.remote_ip_prefix;
      if (r.remote_group_id === g.id) rule.remote_mode = 'remote_group_id';
      else if (r.remote_group_id && groupIds.has(r.remote_group_id)) {
        rule.remote_mode = 'remote_group_id';
        rule.remote_group_id = groupRef(r.remote_group_id);
      }
      return rule;
    });
    rules.sort((a, b) => {
      const ka = JSON.stringify(sortKeys(a));
      const kb = JSON.stringify(sortKeys(b));
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    add(n('secgroup', g.id), 'OS::Neutron::SecurityGroup', g.id, {
      name: g.name,
      description: g.description ?? '',
      rules,
    });
  }

  for (const p of w.ports) {
    const provider = providerParam.get(p.network_id);
    const props: Record<string, Json> = {
      name: p.name,
      admin_state_up: p.admin_state_up,
    };
    if (provider) {
      // The site's own addresses: the backup site's shared network hands out its own.
      props.network = param(provider);
    } else {
      props.network = ref(n('net', p.network_id));
      // The addresses are kept: the workload's configuration often names them.
      props.fixed_ips = p.fixed_ips.map((f) => ({
        subnet: ref(n('subnet', f.subnet_id)),
        ip_address: f.ip_address,
      }));
    }
    if (p.port_security_enabled === false) props.port_security_enabled = false;
    else props.security_groups = [...p.security_groups].sort().map(groupRef);
    if (p.allowed_address_pairs && p.allowed_address_pairs.length > 0)
      props.allowed_address_pairs = p.allowed_address_pairs.map((a) => ({ ...a }));
    add(n('port', p.id), 'OS::Neutron::Port', p.id, props);
  }

  for (const s of w.servers) addServer(s);

  function addServer(s: CollectedServer) {
    const sname = n('server', s.server.id);
    const sv = s.server;
    const props: Record<string, Json> = {
      name: sv.name,
      flavor: setParam(
        `${sname}_flavor`,
        `Flavor for server ${sv.id} (primary: ${s.flavor.vcpus} vCPU, ${s.flavor.ram} MiB RAM, ${s.flavor.disk} GiB disk)`,
        s.flavor.name,
      ),
      metadata: { ...(sv.metadata ?? {}) },
      // A server with no port must say so: Heat would otherwise ask Nova to allocate a network.
      networks:
        s.portIds.length > 0
          ? s.portIds.map((pid) => ({ port: ref(n('port', pid)) }))
          : [{ allocate_network: 'none' }],
    };
    const az = sv['OS-EXT-AZ:availability_zone'];
    if (az)
      props.availability_zone = setParam(
        `${sname}_availability_zone`,
        `Availability zone for server ${sv.id}`,
        az,
      );
    if (sv.key_name)
      props.key_name = setParam(`${sname}_key_name`, `Key pair for server ${sv.id}`, sv.key_name);
    if (s.imageId) props.image = setParam(`${sname}_image`, `Image for server ${sv.id}`, s.imageId);
    if (s.bootVolumeId) {
      const boot = s.attachments.find((a) => a.volumeId === s.bootVolumeId);
      props.block_device_mapping_v2 = [
        {
          boot_index: 0,
          delete_on_termination: false,
          ...(boot?.device ? { device_name: boot.device.replace(/^\/dev\//, '') } : {}),
          volume_id: param(`${n('volume', s.bootVolumeId)}_volume_id`),
        },
      ];
    }
    add(sname, SERVER_TYPE, sv.id, props);
    servers[sv.id] = {
      name: sname,
      server_name: sv.name,
      flavor: { ...s.flavor },
      image_id: s.imageId,
      boot_volume_id: s.bootVolumeId,
      key_name: sv.key_name ?? null,
      availability_zone: az || null,
    };
    // One attachment after another, in device order, so each volume gets its device back.
    let previous: string | undefined;
    for (const a of s.attachments) {
      if (a.volumeId === s.bootVolumeId) continue;
      const vname = n('volume', a.volumeId);
      const aname = `${sname}_attach_${vname.replace(/^volume_/, '')}`;
      add(
        aname,
        'OS::Cinder::VolumeAttachment',
        `${sv.id}:${a.volumeId}`,
        { instance_uuid: ref(sname), volume_id: param(`${vname}_volume_id`), mountpoint: a.device },
        previous ? [previous] : undefined,
      );
      previous = aname;
    }
  }

  for (const { floatingIp: f, externalNetwork } of w.floatingIps) {
    const fname = n('floatingip', f.id);
    add(fname, 'OS::Neutron::FloatingIP', f.id, {
      floating_network: param(externalParam.get(externalNetwork) as string),
    });
    if (f.port_id && w.ports.some((p) => p.id === f.port_id)) {
      const port = w.ports.find((p) => p.id === f.port_id);
      // Neutron refuses the association until a router joins the port's subnet to the external network.
      const waits = [
        ...new Set((port?.fixed_ips ?? []).flatMap((x) => interfacesBySubnet.get(x.subnet_id) ?? [])),
      ].sort();
      add(
        `${fname}_association`,
        'OS::Neutron::FloatingIPAssociation',
        `${f.id}:${f.port_id}`,
        {
          floatingip_id: ref(fname),
          port_id: ref(n('port', f.port_id)),
          ...(f.fixed_ip_address && !providerParam.has(port?.network_id ?? '')
            ? { fixed_ip_address: f.fixed_ip_address }
            : {}),
        },
        waits,
      );
    }
  }

  refuseGroupCycles(resources);

  // Outputs: primary id → new id, and what the new servers and floating IPs are reachable at.
  const idMap: Record<string, Json> = {};
  for (const [name, { id, type }] of Object.entries(primaryIds))
    if (MAPPED_TYPES.has(type)) idMap[id] = ref(name);
  for (const [id, v] of Object.entries(volumes)) idMap[id] = param(`${v.name}_volume_id`);
  const addresses: Record<string, Json> = {};
  for (const s of w.servers) addresses[s.server.id] = { get_attr: [n('server', s.server.id), 'addresses'] };
  const floating: Record<string, Json> = {};
  for (const { floatingIp: f } of w.floatingIps)
    floating[f.id] = { get_attr: [n('floatingip', f.id), 'floating_ip_address'] };

  const hot = {
    heat_template_version: HEAT_TEMPLATE_VERSION,
    description: opts.description ?? 'Workload captured by Dragon',
    parameters: sortKeys(
      Object.fromEntries(
        Object.entries(parameters).map(([k, p]) => [k, { type: p.type, description: p.description }]),
      ),
    ),
    resources: sortKeys(resources),
    outputs: sortKeys({
      resource_ids: {
        description: 'Primary resource id → id of the resource recreated by this stack',
        value: idMap,
      },
      server_addresses: {
        description: 'Primary server id → addresses of the recreated server',
        value: addresses,
      },
      ...(w.floatingIps.length > 0
        ? {
            floating_ip_addresses: {
              description: 'Primary floating IP id → new floating IP address',
              value: floating,
            },
          }
        : {}),
    }),
  };

  const serverVolumes = new Map(
    w.servers.map((x) => [n('server', x.server.id), x.attachments.map((a) => n('volume', a.volumeId))]),
  );
  const graph: GraphNode[] = [];
  for (const [name, { id, type }] of Object.entries(primaryIds)) {
    const r = resources[name];
    const deps = new Set<string>([...references(r.properties), ...(r.depends_on ?? [])]);
    for (const p of paramRefs(r.properties)) {
      const v = volumeNodes.get(p);
      if (v) deps.add(v);
    }
    // Protect takes a server's volumes before the server (issue 6): the graph says so.
    for (const v of serverVolumes.get(name) ?? []) deps.add(v);
    graph.push({ name, resource_id: id, resource_type: type, depends_on: [...deps].sort() });
  }
  for (const v of Object.keys(volumes).sort())
    graph.push({ name: volumes[v].name, resource_id: v, resource_type: VOLUME_TYPE, depends_on: [] });
  graph.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  return {
    template: stringify(hot, { lineWidth: 0, aliasDuplicateObjects: false }),
    parameters: sortKeys(parameters) as Record<string, TemplateParameter>,
    graph,
    volumes: sortKeys(volumes) as Record<string, TemplateVolume>,
    servers: sortKeys(servers) as Record<string, TemplateServer>,
  };
}

/**
 * Security groups whose rules name each other (a → b → a) cannot be written
 * as inline rules: Heat would refuse the circular dependency. Say so at
 * protect time rather than produce a template no site can create.
 */
function refuseGroupCycles(resources: Record<string, HotResource>): void {
  const edges = new Map<string, string[]>();
  for (const [name, r] of Object.entries(resources))
    if (r.type === 'OS::Neutron::SecurityGroup') edges.set(name, [...references(r.properties)]);
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (g: string, path: string[]) => {
    if (state.get(g) === 'done') return;
    if (state.get(g) === 'visiting')
      throw new Error(
        `security groups refer to each other in a cycle (${[...path, g].join(' -> ')}): not captured as a Heat template`,
      );
    state.set(g, 'visiting');
    for (const next of edges.get(g) ?? []) if (edges.has(next)) visit(next, [...path, g]);
    state.set(g, 'done');
  };
  for (const g of [...edges.keys()].sort()) visit(g, []);
}
