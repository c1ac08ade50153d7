/**
 * Neutron (Networking API v2.0) client: networks, subnets, ports, routers
 * and their interfaces, security groups and rules, floating IPs. The catalog
 * URL of `network` is the server root; calls go to `/v2.0/...`.
 * https://docs.openstack.org/api-ref/network/v2/
 */
import type { EndpointInterface } from './catalog.js';
import type { KeystoneSession } from './session.js';

export interface NeutronResource {
  id: string;
  project_id: string;
  tenant_id?: string;
  name?: string;
  description?: string;
  created_at?: string;
  updated_at?: string;
  revision_number?: number;
  tags?: string[];
}

export interface Network extends NeutronResource {
  name: string;
  status: string;
  admin_state_up: boolean;
  shared: boolean;
  'router:external': boolean;
  subnets: string[];
  mtu: number;
  port_security_enabled?: boolean;
  'provider:network_type'?: string;
}

export interface AllocationPool {
  start: string;
  end: string;
}

export interface Subnet extends NeutronResource {
  name: string;
  network_id: string;
  ip_version: number;
  cidr: string;
  gateway_ip: string | null;
  allocation_pools: AllocationPool[];
  enable_dhcp: boolean;
  dns_nameservers: string[];
  host_routes: Array<{ destination: string; nexthop: string }>;
}

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface Port extends NeutronResource {
  name: string;
  network_id: string;
  mac_address: string;
  admin_state_up: boolean;
  status: string;
  device_id: string;
  device_owner: string;
  fixed_ips: FixedIp[];
  security_groups: string[];
  allowed_address_pairs: Array<{ ip_address: string; mac_address?: string }>;
  port_security_enabled?: boolean;
  'binding:host_id'?: string;
  'binding:vif_type'?: string;
  'binding:vnic_type'?: string;
}

export interface ExternalGatewayInfo {
  network_id: string;
  enable_snat?: boolean;
  external_fixed_ips?: Array<Partial<FixedIp>>;
}

export interface Router extends NeutronResource {
  name: string;
  status: string;
  admin_state_up: boolean;
  external_gateway_info: ExternalGatewayInfo | null;
  routes: Array<{ destination: string; nexthop: string }>;
}

export interface RouterInterfaceInfo {
  id: string;
  project_id: string;
  tenant_id: string;
  port_id: string;
  network_id: string;
  subnet_id: string;
  subnet_ids: string[];
}

export interface SecurityGroupRule extends NeutronResource {
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

export interface SecurityGroup extends NeutronResource {
  name: string;
  stateful?: boolean;
  security_group_rules: SecurityGroupRule[];
}

export interface FloatingIp extends NeutronResource {
  floating_ip_address: string;
  floating_network_id: string;
  fixed_ip_address: string | null;
  port_id: string | null;
  router_id: string | null;
  status: string;
}

/** Query filters: any attribute (name, network_id, device_id, ...), repeated values allowed; `fields` selects attributes. */
export type NeutronFilters = Record<string, string | number | boolean | undefined> & { fields?: string };

export interface NeutronClientOptions {
  region?: string;
  interface?: EndpointInterface;
}

type Body = Record<string, unknown>;

export class NeutronClient {
  constructor(
    private readonly session: KeystoneSession,
    private readonly opts: NeutronClientOptions = {},
  ) {}

  #target(path: string) {
    return {
      service: 'network',
      path: `v2.0/${path}`,
      region: this.opts.region,
      interface: this.opts.interface,
    };
  }

  async #list<T>(path: string, key: string, filters?: NeutronFilters): Promise<T[]> {
    const r = await this.session.requestJson<Record<string, T[]>>('GET', this.#target(path), {
      query: filters,
    });
    return r[key];
  }
  async #get<T>(path: string, key: string): Promise<T> {
    return (await this.session.requestJson<Record<string, T>>('GET', this.#target(path)))[key];
  }
  async #create<T>(path: string, key: string, body: Body): Promise<T> {
    return (
      await this.session.requestJson<Record<string, T>>('POST', this.#target(path), { json: { [key]: body } })
    )[key];
  }
  async #update<T>(path: string, key: string, body: Body): Promise<T> {
    return (
      await this.session.requestJson<Record<string, T>>('PUT', this.#target(path), { json: { [key]: body } })
    )[key];
  }
  async #delete(path: string): Promise<void> {
    await this.session.request('DELETE', this.#target(path));
  }

  // networks — api-ref "Networks"
  listNetworks(filters?: NeutronFilters): Promise<Network[]> {
    return this.#list('networks', 'networks', filters);
  }
  getNetwork(id: string): Promise<Network> {
    return this.#get(`networks/${id}`, 'network');
  }
  createNetwork(body: Partial<Omit<Network, 'id' | 'subnets' | 'status'>> & Body = {}): Promise<Network> {
    return this.#create('networks', 'network', body);
  }
  updateNetwork(id: string, body: Body): Promise<Network> {
    return this.#update(`networks/${id}`, 'network', body);
  }
  deleteNetwork(id: string): Promise<void> {
    return this.#delete(`networks/${id}`);
  }

  // subnets — api-ref "Subnets"
  listSubnets(filters?: NeutronFilters): Promise<Subnet[]> {
    return this.#list('subnets', 'subnets', filters);
  }
  getSubnet(id: string): Promise<Subnet> {
    return this.#get(`subnets/${id}`, 'subnet');
  }
  createSubnet(
    body: {
      network_id: string;
      cidr: string;
      ip_version?: 4 | 6;
      name?: string;
      gateway_ip?: string | null;
    } & Body,
  ): Promise<Subnet> {
    return this.#create('subnets', 'subnet', { ip_version: 4, ...body });
  }
  updateSubnet(id: string, body: Body): Promise<Subnet> {
    return this.#update(`subnets/${id}`, 'subnet', body);
  }
  deleteSubnet(id: string): Promise<void> {
    return this.#delete(`subnets/${id}`);
  }

  // ports — api-ref "Ports"
  listPorts(filters?: NeutronFilters): Promise<Port[]> {
    return this.#list('ports', 'ports', filters);
  }
  getPort(id: string): Promise<Port> {
    return this.#get(`ports/${id}`, 'port');
  }
  createPort(
    body: {
      network_id: string;
      fixed_ips?: Array<Partial<FixedIp>>;
      security_groups?: string[];
      name?: string;
    } & Body,
  ): Promise<Port> {
    return this.#create('ports', 'port', body);
  }
  updatePort(id: string, body: Body): Promise<Port> {
    return this.#update(`ports/${id}`, 'port', body);
  }
  deletePort(id: string): Promise<void> {
    return this.#delete(`ports/${id}`);
  }

  // routers — api-ref "Routers"
  listRouters(filters?: NeutronFilters): Promise<Router[]> {
    return this.#list('routers', 'routers', filters);
  }
  getRouter(id: string): Promise<Router> {
    return this.#get(`routers/${id}`, 'router');
  }
  createRouter(
    body: { name?: string; external_gateway_info?: ExternalGatewayInfo } & Body = {},
  ): Promise<Router> {
    return this.#create('routers', 'router', body);
  }
  updateRouter(id: string, body: Body): Promise<Router> {
    return this.#update(`routers/${id}`, 'router', body);
  }
  /** Sets (or with null clears) the router's external gateway. */
  setRouterGateway(id: string, info: ExternalGatewayInfo | null): Promise<Router> {
    return this.updateRouter(id, { external_gateway_info: info ?? {} });
  }
  deleteRouter(id: string): Promise<void> {
    return this.#delete(`routers/${id}`);
  }
  /** PUT /v2.0/routers/{id}/add_router_interface with a subnet_id or a port_id. */
  addRouterInterface(
    id: string,
    target: { subnet_id: string } | { port_id: string },
  ): Promise<RouterInterfaceInfo> {
    return this.session.requestJson('PUT', this.#target(`routers/${id}/add_router_interface`), {
      json: target,
    });
  }
  removeRouterInterface(
    id: string,
    target: { subnet_id: string } | { port_id: string },
  ): Promise<RouterInterfaceInfo> {
    return this.session.requestJson('PUT', this.#target(`routers/${id}/remove_router_interface`), {
      json: target,
    });
  }

  // security groups — api-ref "Security groups (security-groups)"
  listSecurityGroups(filters?: NeutronFilters): Promise<SecurityGroup[]> {
    return this.#list('security-groups', 'security_groups', filters);
  }
  getSecurityGroup(id: string): Promise<SecurityGroup> {
    return this.#get(`security-groups/${id}`, 'security_group');
  }
  createSecurityGroup(body: { name: string; description?: string } & Body): Promise<SecurityGroup> {
    return this.#create('security-groups', 'security_group', body);
  }
  updateSecurityGroup(id: string, body: Body): Promise<SecurityGroup> {
    return this.#update(`security-groups/${id}`, 'security_group', body);
  }
  deleteSecurityGroup(id: string): Promise<void> {
    return this.#delete(`security-groups/${id}`);
  }

  // security group rules — api-ref "Security group rules (security-group-rules)"
  listSecurityGroupRules(filters?: NeutronFilters): Promise<SecurityGroupRule[]> {
    return this.#list('security-group-rules', 'security_group_rules', filters);
  }
  getSecurityGroupRule(id: string): Promise<SecurityGroupRule> {
    return this.#get(`security-group-rules/${id}`, 'security_group_rule');
  }
  createSecurityGroupRule(
    body: { security_group_id: string; direction: 'ingress' | 'egress' } & Partial<
      Pick<
        SecurityGroupRule,
        | 'ethertype'
        | 'protocol'
        | 'port_range_min'
        | 'port_range_max'
        | 'remote_ip_prefix'
        | 'remote_group_id'
      >
    >,
  ): Promise<SecurityGroupRule> {
    return this.#create('security-group-rules', 'security_group_rule', body);
  }
  deleteSecurityGroupRule(id: string): Promise<void> {
    return this.#delete(`security-group-rules/${id}`);
  }

  // floating IPs — api-ref "Floating IPs (floatingips)"
  listFloatingIps(filters?: NeutronFilters): Promise<FloatingIp[]> {
    return this.#list('floatingips', 'floatingips', filters);
  }
  getFloatingIp(id: string): Promise<FloatingIp> {
    return this.#get(`floatingips/${id}`, 'floatingip');
  }
  createFloatingIp(
    body: {
      floating_network_id: string;
      port_id?: string;
      fixed_ip_address?: string;
      floating_ip_address?: string;
    } & Body,
  ): Promise<FloatingIp> {
    return this.#create('floatingips', 'floatingip', body);
  }
  /** Associates the floating IP with a port (and one of its fixed IPs), or disassociates it with null. */
  associateFloatingIp(id: string, portId: string | null, fixedIpAddress?: string): Promise<FloatingIp> {
    const body: Body = { port_id: portId };
    if (fixedIpAddress) body.fixed_ip_address = fixedIpAddress;
    return this.#update(`floatingips/${id}`, 'floatingip', body);
  }
  deleteFloatingIp(id: string): Promise<void> {
    return this.#delete(`floatingips/${id}`);
  }
}
