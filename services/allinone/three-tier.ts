/**
 * The three-tier workload of issue 6, built with a site's clients: a web
 * server booted from the image with a floating IP, an app server with an
 * attached data volume, a db server with a volume of type `replicated`; one
 * network, subnet, router to `public`, security groups web/app/db.
 * The quickstart creates it for the demo user (demo-workload.ts); tests of
 * protection and recovery reuse it (test/support/three-tier.ts).
 */
import type { Volume } from '../common/openstack/cinder.js';
import type { FloatingIp, Network, Router, SecurityGroup, Subnet } from '../common/openstack/neutron.js';
import type { Server } from '../common/openstack/nova.js';
import type { SiteClients } from '../engine/plugin-api.js';

export interface ThreeTier {
  servers: { web: Server; app: Server; db: Server };
  volumes: { data: Volume; db: Volume };
  network: Network;
  subnet: Subnet;
  router: Router;
  securityGroups: { web: SecurityGroup; app: SecurityGroup; db: SecurityGroup };
  floatingIp: FloatingIp;
  /** The fixed IP each server was given. */
  addresses: { web: string; app: string; db: string };
  keyName: string;
  imageId: string;
  flavor: string;
}

export interface ThreeTierOptions {
  /** Prefix of every name, so two workloads can live in one project. */
  prefix?: string;
  /** Third octet of the 10.x.y.0/24 subnet. */
  octet?: number;
  flavor?: string;
  /** GiB of the db server's volume (default 2). */
  dbVolumeSize?: number;
}

const fast = { intervalMs: 20, maxIntervalMs: 100, timeoutMs: 20_000 };

export async function buildThreeTier(clients: SiteClients, opts: ThreeTierOptions = {}): Promise<ThreeTier> {
  const { nova, cinder, neutron, glance } = clients;
  const prefix = opts.prefix ?? 'shop';
  const octet = opts.octet ?? 20;
  const flavor = opts.flavor ?? 'm1.tiny';
  const cidr = `10.${octet}.0.0/24`;
  const addresses = { web: `10.${octet}.0.10`, app: `10.${octet}.0.20`, db: `10.${octet}.0.30` };

  const [image] = (await glance.listImages({ status: 'active' })).filter((i) => /cirros/i.test(i.name ?? ''));
  if (!image) throw new Error('no cirros image at the site');
  const [pub] = await neutron.listNetworks({ name: 'public' });
  if (!pub) throw new Error('no public network at the site');

  const keyName = `${prefix}-key`;
  await nova.createKeypair(keyName);

  const network = await neutron.createNetwork({ name: `${prefix}-net` });
  const subnet = await neutron.createSubnet({
    network_id: network.id,
    name: `${prefix}-subnet`,
    cidr,
    ip_version: 4,
    gateway_ip: `10.${octet}.0.1`,
    allocation_pools: [{ start: `10.${octet}.0.100`, end: `10.${octet}.0.200` }],
    dns_nameservers: ['8.8.8.8'],
    enable_dhcp: true,
  });
  const router = await neutron.createRouter({
    name: `${prefix}-router`,
    external_gateway_info: { network_id: pub.id },
  });
  await neutron.addRouterInterface(router.id, { subnet_id: subnet.id });

  const group = async (name: string, rules: Array<{ port: number; from: string | { group: string } }>) => {
    const g = await neutron.createSecurityGroup({ name: `${prefix}-${name}`, description: `${name} tier` });
    for (const r of rules)
      await neutron.createSecurityGroupRule({
        security_group_id: g.id,
        direction: 'ingress',
        ethertype: 'IPv4',
        protocol: 'tcp',
        port_range_min: r.port,
        port_range_max: r.port,
        ...(typeof r.from === 'string' ? { remote_ip_prefix: r.from } : { remote_group_id: r.from.group }),
      });
    return neutron.getSecurityGroup(g.id);
  };
  const web = await group('web', [
    { port: 80, from: '0.0.0.0/0' },
    { port: 443, from: '0.0.0.0/0' },
  ]);
  const app = await group('app', [{ port: 8080, from: { group: web.id } }]);
  const db = await group('db', [
    { port: 5432, from: { group: app.id } },
    { port: 22, from: cidr },
  ]);

  const serverOn = async (name: string, ip: string, sg: SecurityGroup, metadata: Record<string, string>) => {
    const port = await neutron.createPort({
      network_id: network.id,
      name: `${prefix}-${name}-port`,
      fixed_ips: [{ subnet_id: subnet.id, ip_address: ip }],
      security_groups: [sg.id],
    });
    const created = await nova.createServer({
      name: `${prefix}-${name}`,
      flavorRef: (await nova.findFlavor(flavor))?.id ?? flavor,
      imageRef: image.id,
      key_name: keyName,
      availability_zone: 'nova',
      metadata,
      networks: [{ port: port.id }],
    });
    return { id: created.id, port };
  };
  const webS = await serverOn('web', addresses.web, web, { tier: 'web', role: 'frontend' });
  const appS = await serverOn('app', addresses.app, app, { tier: 'app' });
  const dbS = await serverOn('db', addresses.db, db, { tier: 'db' });
  for (const s of [webS, appS, dbS]) await nova.waitForServer(s.id, 'ACTIVE', fast);

  const data = await cinder.createVolume({ name: `${prefix}-data`, size: 1 });
  const dbVol = await cinder.createVolume({
    name: `${prefix}-db`,
    size: opts.dbVolumeSize ?? 2,
    volume_type: 'replicated',
  });
  for (const v of [data, dbVol]) await cinder.waitForVolume(v.id, ['available'], fast);
  await nova.attachVolume(appS.id, data.id, { device: '/dev/vdb' });
  await nova.attachVolume(dbS.id, dbVol.id, { device: '/dev/vdb' });
  for (const v of [data, dbVol]) await cinder.waitForVolume(v.id, ['in-use'], fast);

  const floatingIp = await neutron.createFloatingIp({ floating_network_id: pub.id, port_id: webS.port.id });

  return {
    servers: {
      web: await nova.getServer(webS.id),
      app: await nova.getServer(appS.id),
      db: await nova.getServer(dbS.id),
    },
    volumes: { data: await cinder.getVolume(data.id), db: await cinder.getVolume(dbVol.id) },
    network: await neutron.getNetwork(network.id),
    subnet,
    router: await neutron.getRouter(router.id),
    securityGroups: { web, app, db },
    floatingIp,
    addresses,
    keyName,
    imageId: image.id,
    flavor,
  };
}
