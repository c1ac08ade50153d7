/**
 * Heat driving the REAL Neutron, Nova and Cinder simulators over HTTP (no
 * fakes): a three-tier-ish stack comes up, its resources are visible in the
 * other services, a failing stack is rolled back without leftovers, and a
 * deleted stack leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../../../services/cloudsim/cloud.js';
import { SEED_IMAGE_NAME } from '../../../services/cloudsim/glance.js';
import { type Clients, clientsOf, inventory, startWholeCloud } from './together-support.js';

const TEMPLATE = `
heat_template_version: 2018-08-31
parameters:
  fail: {type: boolean, default: false}
resources:
  net: {type: OS::Neutron::Net, properties: {name: app-net}}
  subnet:
    type: OS::Neutron::Subnet
    properties: {name: app-subnet, network: {get_resource: net}, cidr: 10.20.0.0/24}
  router:
    type: OS::Neutron::Router
    properties: {name: app-router, external_gateway_info: {network: public}}
  router_if:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  sg:
    type: OS::Neutron::SecurityGroup
    properties:
      name: app-sg
      rules:
        - {protocol: tcp, port_range_min: 22, port_range_max: 22, remote_ip_prefix: 0.0.0.0/0}
        - {protocol: tcp, port_range_min: 443, port_range_max: 443}
  web_port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}}]
      security_groups: [{get_resource: sg}]
  data:
    type: OS::Cinder::Volume
    properties: {name: app-data, size: 1, image: ${SEED_IMAGE_NAME}}
  web:
    type: OS::Nova::Server
    properties:
      name: app-web
      flavor: m1.tiny
      image: ${SEED_IMAGE_NAME}
      networks: [{port: {get_resource: web_port}}]
  db:
    type: OS::Nova::Server
    properties:
      name: app-db
      flavor: m1.tiny
      image: ${SEED_IMAGE_NAME}
      networks: [{network: {get_resource: net}}]
  attach:
    type: OS::Cinder::VolumeAttachment
    properties: {instance_uuid: {get_resource: db}, volume_id: {get_resource: data}}
  fip:
    type: OS::Neutron::FloatingIP
    properties: {floating_network: public, port_id: {get_resource: web_port}}
outputs:
  web_ip: {value: {get_attr: [web, first_address]}}
  floating_ip: {value: {get_attr: [fip, floating_ip_address]}}
  volume_size: {value: {get_attr: [data, size]}}
`;

// The same stack plus Heat's failure-injection resource, created last (after the servers).
const FAILING = `${TEMPLATE.replace(
  'outputs:',
  `  boom:
    type: OS::Heat::TestResource
    depends_on: [attach, fip]
    properties: {fail: true}
outputs:`,
)}`;

let cloud: RunningCloud;
let c: Clients;
const empty = {
  servers: [],
  networks: [],
  subnets: [],
  ports: [],
  routers: [],
  floatingIps: [],
  securityGroups: [],
  volumes: [],
};

beforeAll(async () => {
  cloud = await startWholeCloud();
  c = clientsOf(cloud);
});
afterAll(async () => {
  await cloud?.close();
});

describe('Heat against the real Neutron, Nova and Cinder simulators', () => {
  it('creates the whole stack, visible in every service, then deletes it without leftovers', async () => {
    expect(await inventory(c)).toEqual(empty);
    const t0 = performance.now();
    const { id } = await c.heat.createStack({ name: 'app', template: TEMPLATE });
    const stack = await c.heat.waitForStack({ name: 'app', id }, 'CREATE_COMPLETE', { timeoutMs: 60_000 });
    const createdIn = performance.now() - t0;
    expect(stack.stack_status).toBe('CREATE_COMPLETE');

    const servers = await c.nova.listServers();
    expect(servers.map((s) => [s.name, s.status]).sort()).toEqual([
      ['app-db', 'ACTIVE'],
      ['app-web', 'ACTIVE'],
    ]);
    const [volume] = await c.cinder.listVolumes();
    expect(volume).toMatchObject({ name: 'app-data', status: 'in-use', bootable: 'true' });
    const db = servers.find((s) => s.name === 'app-db')!;
    expect(volume.attachments.map((a) => a.server_id)).toEqual([db.id]);
    expect((await c.nova.listVolumeAttachments(db.id)).map((a) => a.volumeId)).toEqual([volume.id]);

    const [router] = await c.neutron.listRouters({ name: 'app-router' });
    expect(router.external_gateway_info?.network_id).toBe(
      (await c.neutron.listNetworks({ name: 'public' }))[0].id,
    );
    const routerPorts = await c.neutron.listPorts({ device_id: router.id });
    expect(routerPorts.map((p) => p.device_owner)).toContain('network:router_interface');
    const [sg] = await c.neutron.listSecurityGroups({ name: 'app-sg' });
    const ingress = sg.security_group_rules.filter((r) => r.direction === 'ingress');
    expect(ingress.map((r) => r.port_range_min).sort()).toEqual([22, 443]);

    const web = servers.find((s) => s.name === 'app-web')!;
    const webIp = await c.heat.getOutput({ name: 'app', id }, 'web_ip');
    expect(
      Object.values(web.addresses)
        .flat()
        .map((a) => a.addr),
    ).toContain(webIp);
    expect(String(webIp)).toMatch(/^10\.20\.0\./);
    const fipAddress = await c.heat.getOutput({ name: 'app', id }, 'floating_ip');
    const [fip] = await c.neutron.listFloatingIps({ floating_ip_address: String(fipAddress) });
    expect(fip.fixed_ip_address).toBe(webIp);
    expect(await c.heat.getOutput({ name: 'app', id }, 'volume_size')).toBe(1);

    const t1 = performance.now();
    await c.heat.deleteStack({ name: 'app', id });
    await c.heat.waitForStack({ name: 'app', id }, 'DELETE_COMPLETE', { timeoutMs: 60_000 });
    const deletedIn = performance.now() - t1;
    expect(await inventory(c)).toEqual(empty);
    console.info(`stack create ${Math.round(createdIn)} ms, delete ${Math.round(deletedIn)} ms`);
  }, 120_000);

  it('rolls a failed create back (disable_rollback false) leaving nothing in Nova, Neutron or Cinder', async () => {
    const { id } = await c.heat.createStack({ name: 'broken', template: FAILING, disableRollback: false });
    const stack = await c.heat.waitForStack({ name: 'broken', id }, 'ROLLBACK_COMPLETE', {
      timeoutMs: 90_000,
    });
    expect(stack.stack_status).toBe('ROLLBACK_COMPLETE');
    // Like Heat, the stack's reason is the rollback's; the failure is in the events.
    expect(stack.stack_status_reason).toBe('Stack ROLLBACK completed successfully');
    const events = await c.heat.listEvents({ name: 'broken', id });
    const seen = (r: string, s: string) =>
      events.some((e) => e.resource_name === r && e.resource_status === s);
    expect(seen('boom', 'CREATE_FAILED')).toBe(true);
    // The servers, volume and floating IP really existed before the rollback removed them.
    for (const r of ['web', 'db', 'data', 'attach', 'fip', 'router_if'])
      expect([r, seen(r, 'CREATE_COMPLETE'), seen(r, 'DELETE_COMPLETE')]).toEqual([r, true, true]);
    expect(await inventory(c)).toEqual(empty);
    await c.heat.deleteStack({ name: 'broken', id });
    await c.heat.waitForStack({ name: 'broken', id }, 'DELETE_COMPLETE', { timeoutMs: 30_000 });
  }, 120_000);
});
