/**
 * The simulated Neutron's resources and the rules Neutron's plugins enforce
 * on them (IP allocation, ports in use, router interfaces, floating IP
 * reachability). HTTP lives in neutron.ts; this module only knows rows.
 * Errors are NeutronFault with the exception class name Neutron puts in
 * `NeutronError.type`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AllocationPool,
  defaultPools,
  formatCidr,
  inCidr,
  inPools,
  intToIp,
  ipToInt,
  nextFree,
  overlaps,
  parseCidr,
} from './neutron-ipam.js';

export class NeutronFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export type Row = Record<string, unknown> & { id: string; project_id: string; tenant_id: string };

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function base(projectId: string, name: unknown, description: unknown) {
  const t = now();
  return {
    id: randomUUID(),
    name: typeof name === 'string' ? name : '',
    description: typeof description === 'string' ? description : '',
    project_id: projectId,
    tenant_id: projectId,
    created_at: t,
    updated_at: t,
    revision_number: 0,
    tags: [] as string[],
  };
}

export function touch(r: Row): void {
  r.updated_at = now();
  r.revision_number = Number(r.revision_number ?? 0) + 1;
}

function macAddress(): string {
  const b = randomBytes(3);
  return `fa:16:3e:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

/** The NUL suffix is how neutron.ts asks for "the 404 of this id" for another project's resource. */
const notFound = (kind: string, id: string) =>
  new NeutronFault(404, `${kind}NotFound`, `${kind} ${id.replace(/\0/g, '')} could not be found.`);

export const badRequest = (resource: string, msg: string) =>
  new NeutronFault(400, 'BadRequest', `Bad ${resource} request: ${msg}.`);

/** Host the simulated compute binds ports to (like the test mechanism driver's host in realcloud-notes). */
export const BINDING_HOST = 'sim-compute';

export class NeutronModel {
  readonly networks = new Map<string, Row>();
  readonly subnets = new Map<string, Row>();
  readonly ports = new Map<string, Row>();
  readonly routers = new Map<string, Row>();
  readonly securityGroups = new Map<string, Row>();
  readonly securityGroupRules = new Map<string, Row>();
  readonly floatingIps = new Map<string, Row>();
  /** Ports Nova created for a server (deleted with it); others are only unbound. */
  readonly novaPorts = new Set<string>();

  network(id: string): Row {
    const n = this.networks.get(id);
    if (!n) throw notFound('Network', id);
    return n;
  }
  subnet(id: string): Row {
    const s = this.subnets.get(id);
    if (!s) throw notFound('Subnet', id);
    return s;
  }
  port(id: string): Row {
    const p = this.ports.get(id);
    if (!p) throw notFound('Port', id);
    return p;
  }
  router(id: string): Row {
    const r = this.routers.get(id);
    if (!r) throw notFound('Router', id);
    return r;
  }
  securityGroup(id: string): Row {
    const g = this.securityGroups.get(id);
    if (!g)
      throw new NeutronFault(
        404,
        'SecurityGroupNotFound',
        `Security group ${id.replace(/\0/g, '')} does not exist`,
      );
    return g;
  }
  floatingIp(id: string): Row {
    const f = this.floatingIps.get(id);
    if (!f)
      throw new NeutronFault(
        404,
        'FloatingIPNotFound',
        `Floating IP ${id.replace(/\0/g, '')} could not be found`,
      );
    return f;
  }

  // ---- networks -------------------------------------------------------------------------------

  createNetwork(projectId: string, b: Record<string, unknown>): Row {
    const n: Row = {
      ...base(projectId, b.name, b.description),
      status: 'ACTIVE',
      admin_state_up: b.admin_state_up ?? true,
      shared: b.shared === true,
      'router:external': b['router:external'] === true,
      subnets: [] as string[],
      mtu: typeof b.mtu === 'number' ? b.mtu : 1450,
      port_security_enabled: b.port_security_enabled ?? true,
      'provider:network_type': b['router:external'] === true ? 'flat' : 'vxlan',
      'provider:physical_network': b['router:external'] === true ? 'public' : null,
      'provider:segmentation_id': b['router:external'] === true ? null : 1000 + this.networks.size,
      availability_zone_hints: [],
      availability_zones: ['nova'],
      ipv4_address_scope: null,
      ipv6_address_scope: null,
      is_default: false,
    };
    this.networks.set(n.id, n);
    return n;
  }

  deleteNetwork(id: string): void {
    const n = this.network(id);
    const inUse = [...this.ports.values()].some(
      (p) => p.network_id === id && p.device_owner !== 'network:dhcp',
    );
    if (inUse)
      throw new NeutronFault(
        409,
        'NetworkInUse',
        `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`,
      );
    for (const s of n.subnets as string[]) this.subnets.delete(s);
    this.networks.delete(id);
  }

  // ---- subnets --------------------------------------------------------------------------------

  createSubnet(projectId: string, b: Record<string, unknown>): Row {
    if (typeof b.network_id !== 'string') throw badRequest('subnet', "'network_id' is required");
    const net = this.network(b.network_id);
    if ((b.ip_version ?? 4) !== 4)
      throw badRequest('subnet', 'only ip_version 4 is simulated (IPv6 subnets are not supported)');
    if (typeof b.cidr !== 'string')
      throw badRequest('subnet', "'cidr' is required (subnet pools are not simulated)");
    const cidr = parseCidr(b.cidr);
    if (!cidr)
      throw new NeutronFault(
        400,
        'HTTPBadRequest',
        `Invalid input for cidr. Reason: '${b.cidr}' is not a valid IP subnet.`,
      );
    for (const sid of net.subnets as string[]) {
      const other = parseCidr(String(this.subnets.get(sid)?.cidr));
      if (other && overlaps(other, cidr))
        throw new NeutronFault(
          400,
          'BadRequest',
          `Invalid input for operation: Requested subnet with cidr: ${formatCidr(cidr)} for network: ${net.id} overlaps with another subnet.`,
        );
    }
    let gateway: string | null = intToIp(cidr.network + 1);
    if (b.gateway_ip === null) gateway = null;
    else if (typeof b.gateway_ip === 'string') {
      if (!inCidr(cidr, b.gateway_ip))
        throw new NeutronFault(
          400,
          'BadRequest',
          `Bad subnet request: Gateway ip ${b.gateway_ip} conflicts with allocation pool.`,
        );
      gateway = b.gateway_ip;
    }
    let pools: AllocationPool[];
    if (Array.isArray(b.allocation_pools) && b.allocation_pools.length > 0) {
      pools = (b.allocation_pools as AllocationPool[]).map((p) => ({
        start: String(p.start),
        end: String(p.end),
      }));
      for (const p of pools) {
        const s = ipToInt(p.start);
        const e = ipToInt(p.end);
        if (s === undefined || e === undefined || s > e || !inCidr(cidr, p.start) || !inCidr(cidr, p.end))
          throw new NeutronFault(
            400,
            'OutOfBoundsAllocationPool',
            `The allocation pool ${p.start}-${p.end} spans beyond the subnet cidr ${formatCidr(cidr)}.`,
          );
      }
      if (gateway && inPools(pools, gateway))
        throw new NeutronFault(
          409,
          'GatewayConflictWithAllocationPools',
          `Gateway ip ${gateway} conflicts with allocation pool ${pools.map((p) => `${p.start}-${p.end}`).join(',')}`,
        );
    } else pools = defaultPools(cidr, gateway);
    const s: Row = {
      ...base(projectId, b.name, b.description),
      network_id: net.id,
      ip_version: 4,
      cidr: formatCidr(cidr),
      gateway_ip: gateway,
      allocation_pools: pools,
      enable_dhcp: b.enable_dhcp ?? true,
      dns_nameservers: Array.isArray(b.dns_nameservers) ? b.dns_nameservers : [],
      host_routes: Array.isArray(b.host_routes) ? b.host_routes : [],
      ipv6_ra_mode: null,
      ipv6_address_mode: null,
      subnetpool_id: null,
      service_types: [],
      segment_id: null,
    };
    this.subnets.set(s.id, s);
    (net.subnets as string[]).push(s.id);
    touch(net);
    return s;
  }

  updateSubnet(s: Row, b: Record<string, unknown>): void {
    for (const k of ['name', 'description', 'enable_dhcp', 'dns_nameservers', 'host_routes'])
      if (k in b) s[k] = b[k];
    if ('gateway_ip' in b) s.gateway_ip = b.gateway_ip;
    touch(s);
  }

  deleteSubnet(id: string): void {
    const s = this.subnet(id);
    const used = [...this.ports.values()].some((p) =>
      (p.fixed_ips as FixedIp[]).some((f) => f.subnet_id === id),
    );
    if (used)
      throw new NeutronFault(
        409,
        'SubnetInUse',
        `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`,
      );
    const net = this.networks.get(String(s.network_id));
    if (net) net.subnets = (net.subnets as string[]).filter((x) => x !== id);
    this.subnets.delete(id);
  }

  #usedIps(subnetId: string): Set<string> {
    const used = new Set<string>();
    for (const p of this.ports.values())
      for (const f of p.fixed_ips as FixedIp[]) if (f.subnet_id === subnetId) used.add(f.ip_address);
    return used;
  }

  /** Fixed IPs for a new port: the ones asked for (checked) or the next free address of the first subnet with room. */
  #allocate(net: Row, requested: unknown): FixedIp[] {
    const subnets = (net.subnets as string[]).map((id) => this.subnet(id));
    if (Array.isArray(requested)) {
      const out: FixedIp[] = [];
      for (const r of requested as Array<Record<string, unknown>>) {
        let subnet: Row | undefined;
        if (typeof r.subnet_id === 'string') {
          subnet = this.subnet(r.subnet_id);
          if (subnet.network_id !== net.id)
            throw new NeutronFault(
              400,
              'InvalidInput',
              `Invalid input for operation: Failed to create port on network ${net.id}, because fixed_ips included invalid subnet ${r.subnet_id}.`,
            );
        } else if (typeof r.ip_address === 'string') {
          const ip = r.ip_address;
          subnet = subnets.find((s) => {
            const c = parseCidr(String(s.cidr));
            return c ? inCidr(c, ip) : false;
          });
          if (!subnet)
            throw new NeutronFault(
              400,
              'InvalidIpForNetwork',
              `IP address ${ip} is not a valid IP for any of the subnets on the specified network.`,
            );
        } else throw badRequest('port', 'fixed_ips entries need a subnet_id or an ip_address');
        const used = this.#usedIps(subnet.id);
        for (const o of out) used.add(o.ip_address);
        if (typeof r.ip_address === 'string') {
          const c = parseCidr(String(subnet.cidr));
          if (!c || !inCidr(c, r.ip_address))
            throw new NeutronFault(
              400,
              'InvalidIpForSubnet',
              `IP address ${r.ip_address} is not a valid IP for the specified subnet.`,
            );
          if (used.has(r.ip_address))
            throw new NeutronFault(
              409,
              'IpAddressAlreadyAllocated',
              `IP address ${r.ip_address} already allocated in subnet ${subnet.id}`,
            );
          out.push({ subnet_id: subnet.id, ip_address: r.ip_address });
        } else {
          const ip = nextFree(subnet.allocation_pools as AllocationPool[], used);
          if (!ip)
            throw new NeutronFault(
              409,
              'IpAddressGenerationFailure',
              `No more IP addresses available on network ${net.id}.`,
            );
          out.push({ subnet_id: subnet.id, ip_address: ip });
        }
      }
      return out;
    }
    if (subnets.length === 0) return [];
    for (const s of subnets) {
      const ip = nextFree(s.allocation_pools as AllocationPool[], this.#usedIps(s.id));
      if (ip) return [{ subnet_id: s.id, ip_address: ip }];
    }
    throw new NeutronFault(
      409,
      'IpAddressGenerationFailure',
      `No more IP addresses available on network ${net.id}.`,
    );
  }

  // ---- ports ----------------------------------------------------------------------------------

  createPort(projectId: string, b: Record<string, unknown>): Row {
    if (typeof b.network_id !== 'string') throw badRequest('port', "'network_id' is required");
    const net = this.network(b.network_id);
    const owner = typeof b.device_owner === 'string' ? b.device_owner : '';
    const fixedIps = this.#allocate(net, b.fixed_ips);
    if (
      typeof b.mac_address === 'string' &&
      [...this.ports.values()].some((p) => p.network_id === net.id && p.mac_address === b.mac_address)
    )
      throw new NeutronFault(
        409,
        'MacAddressInUse',
        `Unable to complete operation for network ${net.id}. The mac address ${b.mac_address} is in use.`,
      );
    let groups: string[] = [];
    if (!owner.startsWith('network:') && net.port_security_enabled !== false) {
      if (Array.isArray(b.security_groups)) {
        groups = (b.security_groups as string[]).map((g) => this.securityGroup(String(g)).id);
      } else groups = [this.ensureDefaultSecurityGroup(projectId).id];
    }
    const p: Row = {
      ...base(projectId, b.name, b.description),
      network_id: net.id,
      mac_address: typeof b.mac_address === 'string' ? b.mac_address : macAddress(),
      admin_state_up: b.admin_state_up ?? true,
      status: 'DOWN',
      device_id: typeof b.device_id === 'string' ? b.device_id : '',
      device_owner: owner,
      fixed_ips: fixedIps,
      security_groups: groups,
      allowed_address_pairs: Array.isArray(b.allowed_address_pairs) ? b.allowed_address_pairs : [],
      extra_dhcp_opts: [],
      port_security_enabled: net.port_security_enabled !== false,
      'binding:host_id': typeof b['binding:host_id'] === 'string' ? b['binding:host_id'] : '',
      'binding:vif_type': 'unbound',
      'binding:vif_details': {},
      'binding:vnic_type': typeof b['binding:vnic_type'] === 'string' ? b['binding:vnic_type'] : 'normal',
      'binding:profile': {},
      dns_name: '',
      propagate_uplink_status: false,
    };
    this.#refreshBinding(p);
    this.ports.set(p.id, p);
    return p;
  }

  /** A port bound to a host is ACTIVE (the healthy cloud the simulator stands for); router and FIP ports too. */
  #refreshBinding(p: Row): void {
    const owner = String(p.device_owner);
    if (owner.startsWith('compute:') && p['binding:host_id']) {
      p['binding:vif_type'] = 'ovs';
      p['binding:vif_details'] = { port_filter: true, ovs_hybrid_plug: false };
      p.status = 'ACTIVE';
    } else if (owner.startsWith('network:')) {
      p.status = 'ACTIVE';
    } else {
      p['binding:vif_type'] = p['binding:host_id'] ? 'ovs' : 'unbound';
      p['binding:vif_details'] = {};
      p.status = 'DOWN';
    }
  }

  updatePort(p: Row, b: Record<string, unknown>): void {
    for (const k of [
      'name',
      'description',
      'admin_state_up',
      'device_id',
      'device_owner',
      'binding:host_id',
      'allowed_address_pairs',
    ])
      if (k in b) p[k] = b[k];
    if (Array.isArray(b.security_groups))
      p.security_groups = (b.security_groups as string[]).map((g) => this.securityGroup(String(g)).id);
    if (Array.isArray(b.fixed_ips)) {
      const old = p.fixed_ips;
      p.fixed_ips = [];
      try {
        p.fixed_ips = this.#allocate(this.network(String(p.network_id)), b.fixed_ips);
      } catch (e) {
        p.fixed_ips = old;
        throw e;
      }
    }
    this.#refreshBinding(p);
    touch(p);
  }

  deletePort(id: string, internal = false): void {
    const p = this.port(id);
    const owner = String(p.device_owner);
    if (
      !internal &&
      (owner === 'network:router_interface' ||
        owner === 'network:router_gateway' ||
        owner === 'network:floatingip')
    )
      throw new NeutronFault(
        409,
        'ServicePortInUse',
        `Port ${id} cannot be deleted directly via the port API: has device owner ${owner}.`,
      );
    for (const f of this.floatingIps.values()) if (f.port_id === id) this.#disassociate(f);
    this.ports.delete(id);
    this.novaPorts.delete(id);
  }

  // ---- security groups ------------------------------------------------------------------------

  ensureDefaultSecurityGroup(projectId: string): Row {
    for (const g of this.securityGroups.values())
      if (g.project_id === projectId && g.name === 'default') return g;
    const g = this.createSecurityGroup(projectId, { name: 'default', description: 'Default security group' });
    // Neutron's default group lets members of the group reach each other.
    for (const ethertype of ['IPv4', 'IPv6'])
      this.createRule(projectId, {
        security_group_id: g.id,
        direction: 'ingress',
        ethertype,
        remote_group_id: g.id,
      });
    return g;
  }

  createSecurityGroup(projectId: string, b: Record<string, unknown>): Row {
    const g: Row = {
      ...base(projectId, b.name, b.description),
      stateful: b.stateful ?? true,
      security_group_rules: [],
    };
    this.securityGroups.set(g.id, g);
    for (const ethertype of ['IPv4', 'IPv6'])
      this.createRule(projectId, { security_group_id: g.id, direction: 'egress', ethertype });
    return g;
  }

  deleteSecurityGroup(id: string, isAdmin: boolean): void {
    const g = this.securityGroup(id);
    if (g.name === 'default' && !isAdmin)
      throw new NeutronFault(
        409,
        'SecurityGroupCannotRemoveDefault',
        'Insufficient rights for removing default security group.',
      );
    if ([...this.ports.values()].some((p) => (p.security_groups as string[]).includes(id)))
      throw new NeutronFault(409, 'SecurityGroupInUse', `Security Group ${id} in use.`);
    for (const r of [...this.securityGroupRules.values()])
      if (r.security_group_id === id) this.securityGroupRules.delete(r.id);
    this.securityGroups.delete(id);
  }

  createRule(projectId: string, b: Record<string, unknown>): Row {
    if (typeof b.security_group_id !== 'string')
      throw badRequest('security group rule', "'security_group_id' is required");
    const g = this.securityGroup(b.security_group_id);
    if (b.direction !== 'ingress' && b.direction !== 'egress')
      throw new NeutronFault(
        400,
        'HTTPBadRequest',
        `Invalid input for direction. Reason: ${String(b.direction)} is not in valid_values.`,
      );
    const ethertype = b.ethertype ?? 'IPv4';
    if (ethertype !== 'IPv4' && ethertype !== 'IPv6')
      throw new NeutronFault(
        400,
        'SecurityGroupRuleInvalidEtherType',
        `Security group rule for ethertype '${String(ethertype)}' not supported. Allowed values are ['IPv4', 'IPv6'].`,
      );
    const protocol = b.protocol === undefined || b.protocol === null ? null : String(b.protocol);
    const min = b.port_range_min === undefined || b.port_range_min === null ? null : Number(b.port_range_min);
    const max =
      b.port_range_max === undefined || b.port_range_max === null ? (min ?? null) : Number(b.port_range_max);
    if ((protocol === 'tcp' || protocol === 'udp') && min !== null && max !== null && min > max)
      throw new NeutronFault(
        400,
        'SecurityGroupInvalidPortRange',
        'For TCP/UDP protocols, port_range_min must be <= port_range_max',
      );
    if (b.remote_ip_prefix && b.remote_group_id)
      throw new NeutronFault(
        400,
        'SecurityGroupRemoteGroupAndRemoteIpPrefix',
        'Only remote_ip_prefix or remote_group_id may be provided.',
      );
    if (typeof b.remote_group_id === 'string') this.securityGroup(b.remote_group_id);
    const rule = {
      security_group_id: g.id,
      direction: b.direction,
      ethertype,
      protocol,
      port_range_min: min,
      port_range_max: min === null ? null : max,
      remote_ip_prefix: typeof b.remote_ip_prefix === 'string' ? b.remote_ip_prefix : null,
      remote_group_id: typeof b.remote_group_id === 'string' ? b.remote_group_id : null,
      remote_address_group_id: null,
    };
    for (const r of this.securityGroupRules.values()) {
      if (r.security_group_id !== g.id) continue;
      if ((Object.keys(rule) as Array<keyof typeof rule>).every((k) => r[k] === rule[k]))
        throw new NeutronFault(
          409,
          'SecurityGroupRuleExists',
          `Security group rule already exists. Rule id is ${r.id}.`,
        );
    }
    const row: Row = {
      ...base(projectId, undefined, b.description),
      ...rule,
      normalized_cidr: rule.remote_ip_prefix,
      belongs_to_default_sg: g.name === 'default',
    };
    delete row.name;
    this.securityGroupRules.set(row.id, row);
    touch(g);
    return row;
  }

  /** The group with its rules, as Neutron shows it. */
  groupView(g: Row): Row {
    return {
      ...g,
      security_group_rules: [...this.securityGroupRules.values()].filter((r) => r.security_group_id === g.id),
    };
  }

  // ---- routers --------------------------------------------------------------------------------

  createRouter(projectId: string, b: Record<string, unknown>): Row {
    const r: Row = {
      ...base(projectId, b.name, b.description),
      status: 'ACTIVE',
      admin_state_up: b.admin_state_up ?? true,
      external_gateway_info: null,
      routes: [],
      distributed: false,
      ha: false,
      availability_zone_hints: [],
      availability_zones: ['nova'],
      flavor_id: null,
    };
    if (b.external_gateway_info) this.setGateway(r, b.external_gateway_info as Record<string, unknown>);
    this.routers.set(r.id, r);
    return r;
  }

  setGateway(r: Row, info: Record<string, unknown> | null): void {
    const current = this.#gatewayPort(r.id);
    if (!info || typeof info.network_id !== 'string') {
      if (current) {
        const inUse = [...this.floatingIps.values()].some((f) => f.router_id === r.id);
        if (inUse)
          throw new NeutronFault(
            409,
            'RouterExternalGatewayInUseByFloatingIp',
            `Gateway cannot be updated for router ${r.id}, since a gateway to external network ${current.network_id} is required by one or more floating IPs.`,
          );
        this.deletePort(current.id, true);
      }
      r.external_gateway_info = null;
      return;
    }
    const net = this.network(info.network_id);
    if (!net['router:external']) throw badRequest('router', `Network ${net.id} is not an external network`);
    if (current && current.network_id === net.id) return;
    if (current) this.deletePort(current.id, true);
    const port = this.createPort('', {
      network_id: net.id,
      device_owner: 'network:router_gateway',
      device_id: r.id,
      fixed_ips: info.external_fixed_ips,
    });
    r.external_gateway_info = {
      network_id: net.id,
      enable_snat: info.enable_snat ?? true,
      external_fixed_ips: port.fixed_ips,
    };
  }

  #gatewayPort(routerId: string): Row | undefined {
    for (const p of this.ports.values())
      if (p.device_id === routerId && p.device_owner === 'network:router_gateway') return p;
    return undefined;
  }

  interfacePorts(routerId: string): Row[] {
    return [...this.ports.values()].filter(
      (p) => p.device_id === routerId && p.device_owner === 'network:router_interface',
    );
  }

  addInterface(r: Row, b: Record<string, unknown>): Record<string, unknown> {
    if (b.subnet_id && b.port_id) throw badRequest('router', 'Cannot specify both subnet-id and port-id');
    let port: Row;
    if (typeof b.subnet_id === 'string') {
      const s = this.subnet(b.subnet_id);
      if (!s.gateway_ip) throw badRequest('router', `Subnet for router interface must have a gateway IP`);
      for (const p of this.interfacePorts(r.id))
        if ((p.fixed_ips as FixedIp[]).some((f) => f.subnet_id === s.id))
          throw badRequest('router', `Router already has a port on subnet ${s.id}`);
      port = this.createPort(r.project_id, {
        network_id: s.network_id,
        device_owner: 'network:router_interface',
        device_id: r.id,
        fixed_ips: [{ subnet_id: s.id, ip_address: s.gateway_ip }],
      });
    } else if (typeof b.port_id === 'string') {
      port = this.port(b.port_id);
      if (port.device_id)
        throw new NeutronFault(
          409,
          'PortInUse',
          `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`,
        );
      if ((port.fixed_ips as FixedIp[]).length === 0)
        throw badRequest('router', `Router port must have at least one fixed IP`);
      port.device_id = r.id;
      port.device_owner = 'network:router_interface';
      port.security_groups = [];
      this.#refreshBinding(port);
      touch(port);
    } else throw badRequest('router', 'Either subnet_id or port_id must be specified');
    touch(r);
    return this.#interfaceInfo(r, port);
  }

  #interfaceInfo(r: Row, port: Row): Record<string, unknown> {
    const subnets = (port.fixed_ips as FixedIp[]).map((f) => f.subnet_id);
    return {
      id: r.id,
      tenant_id: r.project_id,
      project_id: r.project_id,
      port_id: port.id,
      network_id: port.network_id,
      subnet_id: subnets[0],
      subnet_ids: subnets,
    };
  }

  removeInterface(r: Row, b: Record<string, unknown>): Record<string, unknown> {
    let port: Row | undefined;
    if (typeof b.port_id === 'string') {
      port = this.interfacePorts(r.id).find((p) => p.id === b.port_id);
      if (!port)
        throw new NeutronFault(
          404,
          'RouterInterfaceNotFound',
          `Router ${r.id} does not have an interface with id ${b.port_id}`,
        );
    } else if (typeof b.subnet_id === 'string') {
      const sid = b.subnet_id;
      this.subnet(sid);
      port = this.interfacePorts(r.id).find((p) =>
        (p.fixed_ips as FixedIp[]).some((f) => f.subnet_id === sid),
      );
      if (!port)
        throw new NeutronFault(
          404,
          'RouterInterfaceNotFoundForSubnet',
          `Router ${r.id} has no interface on subnet ${sid}`,
        );
    } else throw badRequest('router', 'Either subnet_id or port_id must be specified');
    const p = port;
    const subnets = (p.fixed_ips as FixedIp[]).map((f) => f.subnet_id);
    for (const f of this.floatingIps.values()) {
      if (f.router_id !== r.id || !f.port_id) continue;
      const target = this.ports.get(String(f.port_id));
      if (target && (target.fixed_ips as FixedIp[]).some((x) => subnets.includes(x.subnet_id)))
        throw new NeutronFault(
          409,
          'RouterInterfaceInUseByFloatingIP',
          `Router interface for subnet ${subnets[0]} on router ${r.id} cannot be deleted, as it is required by one or more floating IPs.`,
        );
    }
    const info = this.#interfaceInfo(r, p);
    this.deletePort(p.id, true);
    touch(r);
    return info;
  }

  deleteRouter(id: string): void {
    const r = this.router(id);
    if (this.interfacePorts(id).length > 0)
      throw new NeutronFault(409, 'RouterInUse', `Router ${id} still has ports`);
    this.setGateway(r, null);
    this.routers.delete(id);
  }

  // ---- floating IPs ---------------------------------------------------------------------------

  createFloatingIp(projectId: string, b: Record<string, unknown>): Row {
    if (typeof b.floating_network_id !== 'string')
      throw badRequest('floatingip', "'floating_network_id' is required");
    const net = this.network(b.floating_network_id);
    if (!net['router:external'])
      throw badRequest('floatingip', `Network ${net.id} is not a valid external network`);
    const id = randomUUID();
    const port = this.createPort('', {
      network_id: net.id,
      device_owner: 'network:floatingip',
      device_id: id,
      fixed_ips:
        typeof b.floating_ip_address === 'string' ? [{ ip_address: b.floating_ip_address }] : undefined,
    });
    const f: Row = {
      ...base(projectId, undefined, b.description),
      id,
      floating_network_id: net.id,
      floating_ip_address: (port.fixed_ips as FixedIp[])[0]?.ip_address ?? null,
      fixed_ip_address: null,
      port_id: null,
      router_id: null,
      status: 'DOWN',
      port_details: null,
      port_forwardings: [],
      qos_policy_id: null,
      dns_domain: '',
      dns_name: '',
    };
    delete f.name;
    this.floatingIps.set(id, f);
    try {
      if (typeof b.port_id === 'string') this.associate(f, b.port_id, b.fixed_ip_address);
    } catch (e) {
      this.floatingIps.delete(id);
      this.deletePort(port.id, true);
      throw e;
    }
    return f;
  }

  /** Neutron requires a router with a gateway on the FIP's network and an interface on the port's subnet. */
  associate(f: Row, portId: string, fixedIp: unknown): void {
    const port = this.ports.get(portId);
    if (!port) throw new NeutronFault(404, 'PortNotFound', `Port ${portId} could not be found.`);
    const fixed = (port.fixed_ips as FixedIp[]).find((x) =>
      typeof fixedIp === 'string' ? x.ip_address === fixedIp : true,
    );
    if (!fixed) throw badRequest('floatingip', `Port ${portId} does not have fixed ip ${String(fixedIp)}`);
    const router = [...this.routers.values()].find(
      (r) =>
        (r.external_gateway_info as { network_id?: string } | null)?.network_id === f.floating_network_id &&
        this.interfacePorts(r.id).some((p) =>
          (p.fixed_ips as FixedIp[]).some((x) => x.subnet_id === fixed.subnet_id),
        ),
    );
    if (!router)
      throw new NeutronFault(
        404,
        'ExternalGatewayForFloatingIPNotFound',
        `External network ${f.floating_network_id} is not reachable from subnet ${fixed.subnet_id}.  Therefore, cannot associate Port ${portId} with a Floating IP.`,
      );
    for (const other of this.floatingIps.values())
      if (other.id !== f.id && other.port_id === portId && other.fixed_ip_address === fixed.ip_address)
        throw new NeutronFault(
          409,
          'FloatingIPPortAlreadyAssociated',
          `Cannot associate floating IP ${f.floating_ip_address} (${f.id}) with port ${portId} using fixed IP ${fixed.ip_address}, as that fixed IP already has a floating IP on external network ${f.floating_network_id}.`,
        );
    f.port_id = portId;
    f.fixed_ip_address = fixed.ip_address;
    f.router_id = router.id;
    f.status = 'ACTIVE';
    f.port_details = {
      name: port.name,
      network_id: port.network_id,
      mac_address: port.mac_address,
      admin_state_up: port.admin_state_up,
      status: port.status,
      device_id: port.device_id,
      device_owner: port.device_owner,
    };
    touch(f);
  }

  #disassociate(f: Row): void {
    f.port_id = null;
    f.fixed_ip_address = null;
    f.router_id = null;
    f.status = 'DOWN';
    f.port_details = null;
    touch(f);
  }

  updateFloatingIp(f: Row, b: Record<string, unknown>): void {
    if ('description' in b) f.description = b.description;
    if ('port_id' in b) {
      if (b.port_id === null) this.#disassociate(f);
      else this.associate(f, String(b.port_id), b.fixed_ip_address);
    }
  }

  deleteFloatingIp(id: string): void {
    this.floatingIp(id);
    for (const p of [...this.ports.values()])
      if (p.device_owner === 'network:floatingip' && p.device_id === id) this.ports.delete(p.id);
    this.floatingIps.delete(id);
  }
}
