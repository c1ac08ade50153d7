import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { neutronService } from '../../../services/cloudsim/neutron.js';
import { OpenStackHttpError } from '../../../services/common/openstack/errors.js';
import { NeutronClient } from '../../../services/common/openstack/neutron.js';
import { ADMIN, createOtherProject, session } from './compute-fixtures.js';

let cloud: RunningCloud;
let demo: NeutronClient;
let admin: NeutronClient;
let other: NeutronClient;
let demoTwo: NeutronClient;

beforeAll(async () => {
  cloud = await startCloud({ services: [neutronService] });
  demo = new NeutronClient(session(cloud, 'RegionOne'));
  admin = new NeutronClient(session(cloud, 'RegionOne', ADMIN));
  other = new NeutronClient(session(cloud, 'RegionOne', createOtherProject(cloud)));
  demoTwo = new NeutronClient(session(cloud, 'RegionTwo'));
});
afterAll(async () => {
  await cloud?.close();
});

async function failure(p: Promise<unknown>): Promise<OpenStackHttpError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OpenStackHttpError);
  return e as OpenStackHttpError;
}

async function publicNet(c: NeutronClient) {
  const [net] = await c.listNetworks({ 'router:external': true, name: 'public' });
  return net;
}

describe('simulated Neutron through NeutronClient', () => {
  it('offers an admin-owned external network per region with its own floating IP range', async () => {
    const one = await publicNet(demo);
    const two = await publicNet(demoTwo);
    expect(one['router:external']).toBe(true);
    expect(one.project_id).not.toBe(cloud.demo.projectId);
    const [s1] = await demo.listSubnets({ network_id: one.id });
    expect(s1).toBeUndefined(); // an external network's subnet belongs to admin and is not shown to tenants
    const [a1] = await admin.listSubnets({ network_id: one.id });
    const [a2] = await new NeutronClient(session(cloud, 'RegionTwo', ADMIN)).listSubnets({
      network_id: two.id,
    });
    expect(a1.cidr).toBe('172.24.4.0/24');
    expect(a2.cidr).toBe('172.25.4.0/24');
    const ext = await session(cloud, 'RegionOne').requestJson<{ extensions: Array<{ alias: string }> }>(
      'GET',
      {
        service: 'network',
        path: 'v2.0/extensions',
      },
    );
    expect(ext.extensions.map((x) => x.alias)).toEqual(
      expect.arrayContaining(['router', 'external-net', 'security-group']),
    );
    const e = await failure(demo.createNetwork({ name: 'ext2', 'router:external': true }));
    expect(e.status).toBe(403);
  });

  it('creates networks, subnets and ports with addresses from the pool and never twice the same', async () => {
    const net = await demo.createNetwork({ name: 'app-net' });
    expect(net.status).toBe('ACTIVE');
    expect(net.project_id).toBe(cloud.demo.projectId);
    const subnet = await demo.createSubnet({ network_id: net.id, cidr: '10.10.0.0/24', name: 'app-subnet' });
    expect(subnet.gateway_ip).toBe('10.10.0.1');
    expect(subnet.allocation_pools).toEqual([{ start: '10.10.0.2', end: '10.10.0.254' }]);
    expect((await demo.getNetwork(net.id)).subnets).toEqual([subnet.id]);

    const p1 = await demo.createPort({ network_id: net.id, name: 'p1' });
    const p2 = await demo.createPort({ network_id: net.id, name: 'p2' });
    expect(p1.fixed_ips).toEqual([{ subnet_id: subnet.id, ip_address: '10.10.0.2' }]);
    expect(p2.fixed_ips[0].ip_address).toBe('10.10.0.3');
    expect(p1.mac_address).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(p1.status).toBe('DOWN');
    const [def] = await demo.listSecurityGroups({ name: 'default' });
    expect(p1.security_groups).toEqual([def.id]);

    const fixed = await demo.createPort({ network_id: net.id, fixed_ips: [{ ip_address: '10.10.0.50' }] });
    expect(fixed.fixed_ips[0].ip_address).toBe('10.10.0.50');
    const dup = await failure(
      demo.createPort({ network_id: net.id, fixed_ips: [{ ip_address: '10.10.0.50' }] }),
    );
    expect(dup.status).toBe(409);
    expect(dup.osMessage).toBe(`IP address 10.10.0.50 already allocated in subnet ${subnet.id}`);
    expect(dup.service).toBe('network');

    // Filters and fields.
    const named = await demo.listPorts({ network_id: net.id, name: 'p2' });
    expect(named.map((p) => p.id)).toEqual([p2.id]);
    const slim = await demo.listPorts({ network_id: net.id, fields: 'id' });
    expect(slim.every((p) => Object.keys(p).join() === 'id')).toBe(true);
    expect(slim).toHaveLength(3);
    const byIp = await demo.listPorts({ fixed_ips: 'ip_address=10.10.0.3' });
    expect(byIp.map((p) => p.id)).toEqual([p2.id]);

    const bound = await demo.updatePort(p2.id, {
      device_id: 'vm-1',
      device_owner: 'compute:nova',
      'binding:host_id': 'sim-compute',
    });
    expect(bound.status).toBe('ACTIVE');
    expect(bound['binding:vif_type']).toBe('ovs');
    expect((await demo.listPorts({ device_id: 'vm-1' })).map((p) => p.id)).toEqual([p2.id]);
    expect((await demo.getPort(p1.id)).name).toBe('p1');
    expect((await demo.updateNetwork(net.id, { name: 'app-net-2' })).name).toBe('app-net-2');
    expect((await demo.updateSubnet(subnet.id, { name: 'renamed' })).name).toBe('renamed');
    expect((await demo.getSubnet(subnet.id)).cidr).toBe('10.10.0.0/24');

    const inUse = await failure(demo.deleteSubnet(subnet.id));
    expect(inUse.status).toBe(409);
    const netInUse = await failure(demo.deleteNetwork(net.id));
    expect(netInUse.status).toBe(409);
    expect(netInUse.osMessage).toContain('There are one or more ports still in use on the network');
    for (const p of [p1, p2, fixed]) await demo.deletePort(p.id);
    await demo.deleteSubnet(subnet.id);
    await demo.deleteNetwork(net.id);
    const gone = await failure(demo.getNetwork(net.id));
    expect(gone.status).toBe(404);
    expect(gone.osMessage).toBe(`Network ${net.id} could not be found.`);
  });

  it('runs out of addresses with 409 when the pool is full', async () => {
    const net = await demo.createNetwork({ name: 'tiny' });
    const s = await demo.createSubnet({
      network_id: net.id,
      cidr: '10.20.0.0/29',
      allocation_pools: [{ start: '10.20.0.2', end: '10.20.0.3' }],
    });
    await demo.createPort({ network_id: net.id });
    await demo.createPort({ network_id: net.id });
    const full = await failure(demo.createPort({ network_id: net.id }));
    expect(full.status).toBe(409);
    expect(full.osMessage).toBe(`No more IP addresses available on network ${net.id}.`);
    const overlap = await failure(demo.createSubnet({ network_id: net.id, cidr: '10.20.0.0/24' }));
    expect(overlap.status).toBe(400);
    expect(s.cidr).toBe('10.20.0.0/29');
  });

  it('routes a subnet to the external network and adds/removes interfaces', async () => {
    const ext = await publicNet(demo);
    const net = await demo.createNetwork({ name: 'routed' });
    const subnet = await demo.createSubnet({ network_id: net.id, cidr: '192.168.7.0/24' });
    const router = await demo.createRouter({ name: 'r1', external_gateway_info: { network_id: ext.id } });
    const gw = router.external_gateway_info?.external_fixed_ips?.[0]?.ip_address ?? '';
    expect(gw).toMatch(/^172\.24\.4\.\d+$/);

    const itf = await demo.addRouterInterface(router.id, { subnet_id: subnet.id });
    expect(itf.subnet_id).toBe(subnet.id);
    expect(itf.id).toBe(router.id);
    const port = await demo.getPort(itf.port_id);
    expect(port.device_owner).toBe('network:router_interface');
    expect(port.fixed_ips[0].ip_address).toBe('192.168.7.1');
    const twice = await failure(demo.addRouterInterface(router.id, { subnet_id: subnet.id }));
    expect(twice.status).toBe(400);
    const direct = await failure(demo.deletePort(itf.port_id));
    expect(direct.status).toBe(409);
    const busy = await failure(demo.deleteRouter(router.id));
    expect(busy.status).toBe(409);

    // An interface through a port of our own.
    const net2 = await demo.createNetwork({ name: 'routed-2' });
    const sub2 = await demo.createSubnet({ network_id: net2.id, cidr: '192.168.8.0/24' });
    const own = await demo.createPort({
      network_id: net2.id,
      fixed_ips: [{ subnet_id: sub2.id, ip_address: '192.168.8.1' }],
    });
    const byPort = await demo.addRouterInterface(router.id, { port_id: own.id });
    expect(byPort.port_id).toBe(own.id);
    await demo.removeRouterInterface(router.id, { port_id: own.id });

    const removed = await demo.removeRouterInterface(router.id, { subnet_id: subnet.id });
    expect(removed.port_id).toBe(itf.port_id);
    const notThere = await failure(demo.removeRouterInterface(router.id, { subnet_id: subnet.id }));
    expect(notThere.status).toBe(404);
    expect((await demo.getRouter(router.id)).name).toBe('r1');
    expect((await demo.updateRouter(router.id, { name: 'r1b' })).name).toBe('r1b');
    expect((await demo.setRouterGateway(router.id, null)).external_gateway_info).toBeNull();
    expect((await demo.listRouters({ name: 'r1b' })).map((r) => r.id)).toEqual([router.id]);
    await demo.deleteRouter(router.id);
  });

  it('allocates floating IPs from the external network and associates them through a router', async () => {
    const ext = await publicNet(demo);
    const net = await demo.createNetwork({ name: 'fip-net' });
    const subnet = await demo.createSubnet({ network_id: net.id, cidr: '10.30.0.0/24' });
    const port = await demo.createPort({ network_id: net.id });

    const fip = await demo.createFloatingIp({ floating_network_id: ext.id });
    expect(fip.floating_ip_address).toMatch(/^172\.24\.4\.\d+$/);
    expect(fip.status).toBe('DOWN');
    const unreachable = await failure(demo.associateFloatingIp(fip.id, port.id));
    expect(unreachable.status).toBe(404);
    expect(unreachable.osMessage).toContain(`is not reachable from subnet ${subnet.id}`);

    const router = await demo.createRouter({
      name: 'fip-router',
      external_gateway_info: { network_id: ext.id },
    });
    await demo.addRouterInterface(router.id, { subnet_id: subnet.id });
    const assoc = await demo.associateFloatingIp(fip.id, port.id);
    expect(assoc.port_id).toBe(port.id);
    expect(assoc.fixed_ip_address).toBe(port.fixed_ips[0].ip_address);
    expect(assoc.router_id).toBe(router.id);
    expect(assoc.status).toBe('ACTIVE');

    const second = await demo.createFloatingIp({ floating_network_id: ext.id });
    const conflict = await failure(demo.associateFloatingIp(second.id, port.id));
    expect(conflict.status).toBe(409);
    const notExternal = await failure(demo.createFloatingIp({ floating_network_id: net.id }));
    expect(notExternal.status).toBe(400);
    expect(second.floating_ip_address).not.toBe(fip.floating_ip_address);

    const busy = await failure(demo.removeRouterInterface(router.id, { subnet_id: subnet.id }));
    expect(busy.status).toBe(409);
    expect((await demo.listFloatingIps({ port_id: port.id })).map((f) => f.id)).toEqual([fip.id]);
    const off = await demo.associateFloatingIp(fip.id, null);
    expect(off.port_id).toBeNull();
    expect((await demo.getFloatingIp(fip.id)).status).toBe('DOWN');
    await demo.deleteFloatingIp(fip.id);
    await demo.deleteFloatingIp(second.id);
    expect((await failure(demo.getFloatingIp(fip.id))).status).toBe(404);
  });

  it('keeps a default security group with Neutron default rules, and manages groups and rules', async () => {
    const [def] = await demo.listSecurityGroups({ name: 'default' });
    expect(def.project_id).toBe(cloud.demo.projectId);
    const summary = def.security_group_rules
      .map((r) => `${r.direction}/${r.ethertype}/${r.remote_group_id ? 'group' : 'any'}`)
      .sort();
    expect(summary).toEqual([
      'egress/IPv4/any',
      'egress/IPv6/any',
      'ingress/IPv4/group',
      'ingress/IPv6/group',
    ]);

    const web = await demo.createSecurityGroup({ name: 'web', description: 'http' });
    expect(web.security_group_rules.every((r) => r.direction === 'egress')).toBe(true);
    const ssh = await demo.createSecurityGroupRule({
      security_group_id: web.id,
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    });
    expect(ssh.ethertype).toBe('IPv4');
    expect((await demo.getSecurityGroupRule(ssh.id)).port_range_max).toBe(22);
    const dup = await failure(
      demo.createSecurityGroupRule({
        security_group_id: web.id,
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 22,
        port_range_max: 22,
        remote_ip_prefix: '0.0.0.0/0',
      }),
    );
    expect(dup.status).toBe(409);
    expect(dup.osMessage).toBe(`Security group rule already exists. Rule id is ${ssh.id}.`);
    expect((await demo.getSecurityGroup(web.id)).security_group_rules.map((r) => r.id)).toContain(ssh.id);
    expect((await demo.listSecurityGroupRules({ security_group_id: web.id })).length).toBe(3);
    expect((await demo.updateSecurityGroup(web.id, { description: 'www' })).description).toBe('www');

    const net = await demo.createNetwork({ name: 'sg-net' });
    await demo.createSubnet({ network_id: net.id, cidr: '10.40.0.0/24' });
    const port = await demo.createPort({ network_id: net.id, security_groups: [web.id] });
    expect(port.security_groups).toEqual([web.id]);
    const inUse = await failure(demo.deleteSecurityGroup(web.id));
    expect(inUse.status).toBe(409);
    await demo.deletePort(port.id);
    await demo.deleteSecurityGroupRule(ssh.id);
    await demo.deleteSecurityGroup(web.id);
    expect((await failure(demo.getSecurityGroup(web.id))).status).toBe(404);
  });

  it("hides one project's resources from another; admin sees all", async () => {
    const net = await demo.createNetwork({ name: 'private-of-demo' });
    const e = await failure(other.getNetwork(net.id));
    expect(e.status).toBe(404);
    expect(JSON.stringify(e.osMessage)).toContain('could not be found');
    expect((await other.listNetworks({ name: 'private-of-demo' })).length).toBe(0);
    expect(await other.deleteNetwork(net.id).catch((x: OpenStackHttpError) => x.status)).toBe(404);
    const [otherDefault] = await other.listSecurityGroups({ name: 'default' });
    const [demoDefault] = await demo.listSecurityGroups({ name: 'default' });
    expect(otherDefault.id).not.toBe(demoDefault.id);
    expect((await admin.listNetworks({ name: 'private-of-demo' })).map((n) => n.id)).toEqual([net.id]);
    // A shared network is visible to every project but only its owner changes it.
    const shared = await admin.createNetwork({ name: 'shared-net', shared: true });
    expect((await other.getNetwork(shared.id)).shared).toBe(true);
    expect((await failure(other.updateNetwork(shared.id, { name: 'x' }))).status).toBe(404);
  });

  it('keeps regions apart', async () => {
    const net = await demo.createNetwork({ name: 'only-in-one' });
    expect((await demoTwo.listNetworks({ name: 'only-in-one' })).length).toBe(0);
    expect((await failure(demoTwo.getNetwork(net.id))).status).toBe(404);
  });

  it('retries GETs through a burst of 503', async () => {
    cloud.faults.RegionOne.set('network', { errorBurst: 2, methods: ['GET'] });
    try {
      const nets = await demo.listNetworks({ name: 'public' });
      expect(nets).toHaveLength(1);
      expect(cloud.faults.RegionOne.services.get('network')?.errorBurst).toBe(0);
    } finally {
      cloud.faults.RegionOne.set('network', undefined);
    }
  });
});
