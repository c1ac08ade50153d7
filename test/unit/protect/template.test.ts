import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { allServices } from '../../../services/cloudsim/services.js';
import { OpenStackHttpError } from '../../../services/common/openstack/errors.js';
import type { SiteClients } from '../../../services/engine/plugin-api.js';
import {
  buildWorkloadTemplate,
  primaryParameterValues,
  validateWorkloadTemplate,
  type WorkloadTemplate,
} from '../../../services/engine/protect/template/index.js';
import { adminSiteClients, demoSiteClients, type SiteClientsHandle } from '../../support/site-clients.js';
import { buildThreeTier, type ThreeTier } from '../../support/three-tier.js';

let cloud: RunningCloud;
let handles: SiteClientsHandle[] = [];
let primary: SiteClients;
let backup: SiteClients;
let shop: ThreeTier;
let built: WorkloadTemplate;
let hot: {
  heat_template_version: string;
  parameters: Record<string, { type: string }>;
  resources: Record<string, { type: string; properties: Record<string, unknown>; depends_on?: string[] }>;
  outputs: Record<string, { value: unknown }>;
};

const fast = { intervalMs: 50, maxIntervalMs: 200, timeoutMs: 30_000 };

const policyResources = () => [
  { resource_id: shop.servers.web.id, resource_type: 'OS::Nova::Server' },
  { resource_id: shop.servers.app.id, resource_type: 'OS::Nova::Server' },
  { resource_id: shop.servers.db.id, resource_type: 'OS::Nova::Server' },
  { resource_id: shop.volumes.data.id, resource_type: 'OS::Cinder::Volume' },
  { resource_id: shop.volumes.db.id, resource_type: 'OS::Cinder::Volume' },
];

const nodeOf = (id: string) => {
  const n = built.graph.find((g) => g.resource_id === id);
  if (!n) throw new Error(`no graph node for ${id}`);
  return n.name;
};
const ofType = (type: string) => Object.entries(hot.resources).filter(([, r]) => r.type === type);

beforeAll(async () => {
  cloud = await startCloud({ services: allServices });
  const p = demoSiteClients(cloud, 'RegionOne');
  const b = demoSiteClients(cloud, 'RegionTwo');
  handles = [p, b];
  primary = p.clients;
  backup = b.clients;
  shop = await buildThreeTier(primary);
  built = await buildWorkloadTemplate(policyResources(), primary, { description: 'policy shop' });
  hot = parse(built.template);
}, 60_000);

afterAll(async () => {
  for (const h of handles) await h.close();
  await cloud?.close();
});

describe('the workload template', () => {
  it('records every site-specific value as a parameter with the primary value', () => {
    expect(hot.heat_template_version).toBe('2018-08-31');
    const values = primaryParameterValues(built);
    for (const s of Object.values(shop.servers)) {
      const n = nodeOf(s.id);
      expect(values[`${n}_image`]).toBe(shop.imageId);
      expect(values[`${n}_flavor`]).toBe(shop.flavor);
      expect(values[`${n}_key_name`]).toBe(shop.keyName);
      expect(values[`${n}_availability_zone`]).toBe(s['OS-EXT-AZ:availability_zone']);
      expect(hot.resources[n].properties.image).toEqual({ get_param: `${n}_image` });
      expect(hot.resources[n].properties.flavor).toEqual({ get_param: `${n}_flavor` });
    }
    expect(values.external_network).toBe('public');
    const db = nodeOf(shop.volumes.db.id);
    expect(values[`${db}_volume_id`]).toBe(shop.volumes.db.id);
    expect(values[`${db}_volume_type`]).toBe('replicated');
    expect(built.volumes[shop.volumes.data.id]).toMatchObject({ size: 1, in_policy: true });
    expect(built.volumes[shop.volumes.db.id]).toMatchObject({ size: 2, volume_type: 'replicated' });
    // Every parameter is declared in the template, and nothing the template reads is missing.
    expect(Object.keys(hot.parameters).sort()).toEqual(Object.keys(built.parameters).sort());
    // No primary id leaks into the resources: the site-specific ones come in as parameters.
    const resourcesText = JSON.stringify(hot.resources);
    for (const id of [shop.imageId, shop.volumes.data.id, shop.volumes.db.id, shop.network.id])
      expect(resourcesText).not.toContain(id);
  });

  it('captures the network, addresses, security groups, router and floating IP', () => {
    const [[netName]] = ofType('OS::Neutron::Net');
    const [[subnetName, subnet]] = ofType('OS::Neutron::Subnet');
    expect(subnet.properties).toMatchObject({
      network: { get_resource: netName },
      cidr: shop.subnet.cidr,
      gateway_ip: shop.subnet.gateway_ip,
      allocation_pools: shop.subnet.allocation_pools,
      dns_nameservers: ['8.8.8.8'],
      enable_dhcp: true,
    });
    const [[routerName, router]] = ofType('OS::Neutron::Router');
    expect(router.properties.external_gateway_info).toEqual({ network: { get_param: 'external_network' } });
    expect(ofType('OS::Neutron::RouterInterface').map(([, r]) => r.properties)).toEqual([
      { router: { get_resource: routerName }, subnet: { get_resource: subnetName } },
    ]);

    const ports = ofType('OS::Neutron::Port');
    expect(ports).toHaveLength(3);
    const ips = ports.flatMap(([, p]) =>
      (p.properties.fixed_ips as Array<{ ip_address: string }>).map((f) => f.ip_address),
    );
    expect(ips.sort()).toEqual(Object.values(shop.addresses).sort());

    const groups = Object.fromEntries(
      ofType('OS::Neutron::SecurityGroup').map(([n, g]) => [g.properties.name, { n, g }]),
    );
    expect(Object.keys(groups).sort()).toEqual(['shop-app', 'shop-db', 'shop-web']);
    const appRules = groups['shop-app'].g.properties.rules as Array<Record<string, unknown>>;
    expect(appRules).toContainEqual({
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 8080,
      port_range_max: 8080,
      remote_mode: 'remote_group_id',
      remote_group_id: { get_resource: groups['shop-web'].n },
    });
    const webRules = groups['shop-web'].g.properties.rules as Array<Record<string, unknown>>;
    expect(
      webRules
        .filter((r) => r.remote_ip_prefix === '0.0.0.0/0')
        .map((r) => r.port_range_min)
        .sort(),
    ).toEqual([443, 80]);

    const web = nodeOf(shop.servers.web.id);
    const webPort = (hot.resources[web].properties.networks as Array<{ port: { get_resource: string } }>)[0]
      .port.get_resource;
    expect(hot.resources[webPort].properties.security_groups).toEqual([
      { get_resource: groups['shop-web'].n },
    ]);
    const [[fipName, fip]] = ofType('OS::Neutron::FloatingIP');
    expect(fip.properties.floating_network).toEqual({ get_param: 'external_network' });
    const [[, assoc]] = ofType('OS::Neutron::FloatingIPAssociation');
    expect(assoc.properties).toMatchObject({
      floatingip_id: { get_resource: fipName },
      port_id: { get_resource: webPort },
    });
    expect(assoc.depends_on).toEqual(ofType('OS::Neutron::RouterInterface').map(([n]) => n));
  });

  it('attaches the volumes from parameters and orders the graph volumes before servers', () => {
    const app = nodeOf(shop.servers.app.id);
    const data = nodeOf(shop.volumes.data.id);
    const attachments = ofType('OS::Cinder::VolumeAttachment').map(([, a]) => a.properties);
    expect(attachments).toContainEqual({
      instance_uuid: { get_resource: app },
      volume_id: { get_param: `${data}_volume_id` },
      mountpoint: '/dev/vdb',
    });
    expect(attachments).toHaveLength(2);
    expect(hot.resources[app].properties.metadata).toEqual({ tier: 'app' });

    const node = (name: string) => built.graph.find((g) => g.name === name);
    const attachNode = built.graph.find(
      (g) => g.resource_id === `${shop.servers.app.id}:${shop.volumes.data.id}`,
    );
    expect(attachNode?.depends_on).toEqual([data, app].sort());
    expect(node(data)).toMatchObject({ resource_type: 'OS::Cinder::Volume', depends_on: [] });
    // Volumes come before the servers that use them.
    expect(node(app)?.depends_on).toContain(data);
    expect(node(nodeOf(shop.servers.db.id))?.depends_on).toContain(nodeOf(shop.volumes.db.id));
    // Every dependency names a node of the graph.
    const names = new Set(built.graph.map((g) => g.name));
    for (const g of built.graph) for (const d of g.depends_on) expect(names.has(d)).toBe(true);
    expect(Object.keys(hot.outputs).sort()).toEqual([
      'floating_ip_addresses',
      'resource_ids',
      'server_addresses',
    ]);
  });

  it('is byte-identical for the same workload, whatever order the policy lists it in', async () => {
    const again = await buildWorkloadTemplate([...policyResources()].reverse(), primary, {
      description: 'policy shop',
    });
    expect(again.template).toBe(built.template);
    expect(JSON.stringify(again.parameters)).toBe(JSON.stringify(built.parameters));
    expect(JSON.stringify(again.graph)).toBe(JSON.stringify(built.graph));
    expect(built.template).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
  });

  it('includes a volume of the policy that no server uses on its own', async () => {
    const lone = await primary.cinder.createVolume({ name: 'lone', size: 1 });
    await primary.cinder.waitForVolume(lone.id, ['available'], fast);
    const t = await buildWorkloadTemplate(
      [{ resource_id: lone.id, resource_type: 'OS::Cinder::Volume' }],
      primary,
    );
    expect(Object.keys(t.parameters).filter((k) => k.endsWith('_volume_id'))).toHaveLength(1);
    expect(t.graph.map((g) => g.resource_type)).toEqual(['OS::Cinder::Volume']);
    await validateWorkloadTemplate(t, backup);
  });

  it('passes Heat validate at the backup site, and Heat there rejects a broken one', async () => {
    const v = await validateWorkloadTemplate(built, backup);
    expect(Object.keys(v.Parameters).sort()).toEqual(Object.keys(built.parameters).sort());
    const broken = {
      ...built,
      template: built.template.replace(/get_resource: (net_\w+)/, 'get_resource: no_such_net'),
    };
    await expect(validateWorkloadTemplate(broken, backup)).rejects.toBeInstanceOf(OpenStackHttpError);
  });

  it('creates the workload at the backup site from the template and the recovered values', async () => {
    // What recovery would do first: restore the volumes and find the image and key pair there.
    const params: Record<string, unknown> = primaryParameterValues(built);
    for (const v of Object.values(built.volumes)) {
      const restored = await backup.cinder.createVolume({
        size: v.size,
        volume_type: v.volume_type,
        name: `${v.volume_name}-restored`,
      });
      await backup.cinder.waitForVolume(restored.id, ['available'], fast);
      params[`${v.name}_volume_id`] = restored.id;
    }
    const [image] = (await backup.glance.listImages({ status: 'active' })).filter((i) =>
      /cirros/i.test(i.name ?? ''),
    );
    for (const k of Object.keys(params)) if (k.endsWith('_image')) params[k] = image.id;
    if (!(await backup.nova.listKeypairs()).some((k) => k.name === shop.keyName))
      await backup.nova.createKeypair(shop.keyName);

    const stack = await backup.heat.createStack({
      name: 'shop-recovered',
      template: built.template,
      parameters: params,
    });
    const done = await backup.heat.waitForStack(
      { name: 'shop-recovered', id: stack.id },
      'CREATE_COMPLETE',
      fast,
    );
    expect(done.stack_status).toBe('CREATE_COMPLETE');

    const idMap = (await backup.heat.getOutput(stack.id, 'resource_ids')) as Record<string, string>;
    for (const [tier, s] of Object.entries(shop.servers)) {
      const newId = idMap[s.id];
      expect(newId).toBeTruthy();
      const server = await backup.nova.getServer(newId);
      expect(server.status).toBe('ACTIVE');
      expect(server.metadata.tier).toBe(tier);
      expect(server.key_name).toBe(shop.keyName);
      const fixed = Object.values(server.addresses)
        .flat()
        .filter((a) => a['OS-EXT-IPS:type'] !== 'floating')
        .map((a) => a.addr);
      expect(fixed).toContain(shop.addresses[tier as keyof typeof shop.addresses]);
    }
    const newWebPort = idMap[(await primary.neutron.listPorts({ device_id: shop.servers.web.id }))[0].id];
    const fips = await backup.neutron.listFloatingIps({ port_id: newWebPort });
    expect(fips).toHaveLength(1);
    expect(fips[0].fixed_ip_address).toBe(shop.addresses.web);
    const fipOut = (await backup.heat.getOutput(stack.id, 'floating_ip_addresses')) as Record<string, string>;
    expect(fipOut[shop.floatingIp.id]).toBe(fips[0].floating_ip_address);

    const app = await backup.nova.getServer(idMap[shop.servers.app.id]);
    const attached = await backup.nova.listVolumeAttachments(app.id);
    expect(attached.map((a) => [a.volumeId, a.device])).toEqual([
      [params[`${nodeOf(shop.volumes.data.id)}_volume_id`], '/dev/vdb'],
    ]);
  }, 60_000);

  it('captures a server booted from a volume on a shared network with the default group', async () => {
    const admins = [adminSiteClients(cloud, 'RegionOne'), adminSiteClients(cloud, 'RegionTwo')];
    handles.push(...admins);
    for (const a of admins) {
      const net = await a.clients.neutron.createNetwork({ name: 'provider', shared: true });
      await a.clients.neutron.createSubnet({ network_id: net.id, cidr: '192.168.50.0/24', ip_version: 4 });
    }
    const [provider] = await primary.neutron.listNetworks({ name: 'provider' });
    const image = async (site: SiteClients) =>
      (await site.glance.listImages({ status: 'active' })).filter((i) => /cirros/i.test(i.name ?? ''))[0].id;
    const root = await primary.cinder.createVolume({
      name: 'bfv-root',
      size: 1,
      imageRef: await image(primary),
    });
    await primary.cinder.waitForVolume(root.id, ['available'], fast);
    const created = await primary.nova.createServer({
      name: 'bfv',
      flavorRef: (await primary.nova.findFlavor('m1.tiny'))?.id ?? '1',
      block_device_mapping_v2: [
        {
          uuid: root.id,
          source_type: 'volume',
          destination_type: 'volume',
          boot_index: 0,
          device_name: 'vda',
        },
      ],
      networks: [{ uuid: provider.id }],
    });
    await primary.nova.waitForServer(created.id, 'ACTIVE', fast);

    const t = await buildWorkloadTemplate(
      [{ resource_id: created.id, resource_type: 'OS::Nova::Server' }],
      primary,
    );
    const doc = parse(t.template);
    const server = t.servers[created.id];
    expect(server.image_id).toBeNull();
    expect(server.boot_volume_id).toBe(root.id);
    expect(t.parameters[`${server.name}_image`]).toBeUndefined();
    const vol = t.volumes[root.id];
    expect(vol).toMatchObject({ in_policy: false, size: 1 });
    expect(doc.resources[server.name].properties.block_device_mapping_v2).toEqual([
      expect.objectContaining({ boot_index: 0, volume_id: { get_param: `${vol.name}_volume_id` } }),
    ]);
    const [port] = Object.values(
      doc.resources as Record<string, { type: string; properties: Record<string, unknown> }>,
    ).filter((r) => r.type === 'OS::Neutron::Port');
    const networkParam = (port.properties.network as { get_param: string }).get_param;
    expect(t.parameters[networkParam].primary_value).toBe('provider');
    expect(port.properties.fixed_ips).toBeUndefined();
    expect(port.properties.security_groups).toEqual(['default']);
    expect(Object.values(doc.resources as Record<string, { type: string }>).map((r) => r.type)).not.toContain(
      'OS::Neutron::Net',
    );

    await validateWorkloadTemplate(t, backup);
    const restored = await backup.cinder.createVolume({ size: 1, imageRef: await image(backup) });
    await backup.cinder.waitForVolume(restored.id, ['available'], fast);
    const params: Record<string, unknown> = {
      ...primaryParameterValues(t),
      [`${vol.name}_volume_id`]: restored.id,
    };
    const stack = await backup.heat.createStack({
      name: 'bfv-recovered',
      template: t.template,
      parameters: params,
    });
    await backup.heat.waitForStack({ name: 'bfv-recovered', id: stack.id }, 'CREATE_COMPLETE', fast);
    const ids = (await backup.heat.getOutput(stack.id, 'resource_ids')) as Record<string, string>;
    const again = await backup.nova.getServer(ids[created.id]);
    expect(again.status).toBe('ACTIVE');
    expect(again['os-extended-volumes:volumes_attached'].map((v) => v.id)).toEqual([restored.id]);
    expect(Object.values(again.addresses).flat()[0].addr).toMatch(/^192\.168\.50\./);
  }, 60_000);

  it('refuses security groups that refer to each other in a cycle', async () => {
    const a = await primary.neutron.createSecurityGroup({ name: 'ring-a' });
    const b = await primary.neutron.createSecurityGroup({ name: 'ring-b' });
    for (const [g, remote] of [
      [a, b],
      [b, a],
    ])
      await primary.neutron.createSecurityGroupRule({
        security_group_id: g.id,
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 9000,
        port_range_max: 9000,
        remote_group_id: remote.id,
      });
    const port = await primary.neutron.createPort({ network_id: shop.network.id, security_groups: [a.id] });
    const s = await primary.nova.createServer({
      name: 'ring',
      flavorRef: '1',
      imageRef: shop.imageId,
      networks: [{ port: port.id }],
    });
    await primary.nova.waitForServer(s.id, 'ACTIVE', fast);
    await expect(
      buildWorkloadTemplate([{ resource_id: s.id, resource_type: 'OS::Nova::Server' }], primary),
    ).rejects.toThrow(/cycle/);
  });
});
