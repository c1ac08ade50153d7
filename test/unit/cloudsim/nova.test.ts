import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { neutronService } from '../../../services/cloudsim/neutron.js';
import { createNovaService, type NovaService } from '../../../services/cloudsim/nova.js';
import { OpenStackHttpError } from '../../../services/common/openstack/errors.js';
import { type Network, NeutronClient, type Subnet } from '../../../services/common/openstack/neutron.js';
import { NovaClient, type Server } from '../../../services/common/openstack/nova.js';
import type { KeystoneSession } from '../../../services/common/openstack/session.js';
import { waitFor } from '../../../services/common/openstack/wait.js';
import {
  ADMIN,
  createOtherProject,
  fakeImageService,
  fakeImages,
  fakeVolumeService,
  fakeVolumes,
  session,
} from './compute-fixtures.js';

let cloud: RunningCloud;
let demoSession: KeystoneSession;
let nova: NovaClient;
let neutron: NeutronClient;
let net: Network;
let subnet: Subnet;
let imageId: string;
const imageBytes = randomBytes(300 * 1024);
const fast = { timeoutMs: 5000, intervalMs: 50 };

function novaSim(region = 'RegionOne'): NovaService {
  return cloud.sites[region].services.get('compute') as NovaService;
}

async function failure(p: Promise<unknown>): Promise<OpenStackHttpError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OpenStackHttpError);
  return e as OpenStackHttpError;
}

async function boot(name: string, extra: Record<string, unknown> = {}): Promise<Server> {
  const created = await nova.createServer({
    name,
    flavorRef: '1',
    imageRef: imageId,
    networks: [{ uuid: net.id }],
    ...extra,
  });
  return nova.waitForServer(created.id, 'ACTIVE', fast);
}

beforeAll(async () => {
  cloud = await startCloud({
    services: [fakeImageService, fakeVolumeService, neutronService, createNovaService({ stepDelayMs: 150 })],
  });
  demoSession = session(cloud, 'RegionOne');
  nova = new NovaClient(demoSession);
  neutron = new NeutronClient(demoSession);
  net = await neutron.createNetwork({ name: 'vm-net' });
  subnet = await neutron.createSubnet({ network_id: net.id, cidr: '10.50.0.0/24' });
  imageId = fakeImages.RegionOne.addImage(cloud.demo.projectId, 'cirros', imageBytes).id;
});
afterAll(async () => {
  await cloud?.close();
});

describe('simulated Nova through NovaClient', () => {
  it('lists devstack flavors and availability zones, and echoes the microversion', async () => {
    const flavors = await nova.listFlavors();
    const tiny = flavors.find((f) => f.name === 'm1.tiny');
    expect(tiny).toMatchObject({ id: '1', ram: 512, disk: 1, vcpus: 1 });
    expect((await nova.listFlavors(false)).length).toBe(flavors.length);
    expect((await nova.getFlavor('3')).name).toBe('m1.medium');
    expect((await nova.findFlavor('m1.small'))?.id).toBe('2');
    const missing = await failure(nova.getFlavor('nope'));
    expect(missing.status).toBe(404);
    expect(missing.osMessage).toBe('Flavor nope could not be found.');
    expect((await nova.listAvailabilityZones()).map((z) => z.zoneName)).toEqual(['nova']);
    expect((await failure(nova.listAvailabilityZones(true))).status).toBe(403);
    const adminNova = new NovaClient(session(cloud, 'RegionOne', ADMIN));
    const detail = await adminNova.listAvailabilityZones(true);
    expect(Object.keys(detail.find((z) => z.zoneName === 'nova')?.hosts ?? {})).toEqual(['sim-compute']);
    // python-openstackclient's `flavor list` before 2.61 reads extra specs separately.
    const specs = await demoSession.requestJson<{ extra_specs: object }>('GET', {
      service: 'compute',
      path: 'flavors/1/os-extra_specs',
    });
    expect(specs.extra_specs).toEqual({});

    const res = await demoSession.request(
      'GET',
      { service: 'compute', path: 'flavors' },
      {
        headers: { 'OpenStack-API-Version': 'compute 2.60' },
      },
    );
    await res.body?.cancel();
    expect(res.headers.get('openstack-api-version')).toBe('compute 2.60');
    expect(res.headers.get('x-openstack-nova-api-version')).toBe('2.60');
    const tooNew = await demoSession.request(
      'GET',
      { service: 'compute', path: 'flavors' },
      {
        headers: { 'OpenStack-API-Version': 'compute 2.200' },
        allowStatus: [406],
      },
    );
    expect(tooNew.status).toBe(406);
    expect(((await tooNew.json()) as Record<string, { code: number }>).notAcceptable.code).toBe(406);
  });

  it('creates, imports, shows, lists and deletes key pairs', async () => {
    const generated = await nova.createKeypair('gen');
    expect(generated.private_key).toContain('BEGIN RSA PRIVATE KEY');
    expect(generated.public_key).toMatch(/^ssh-rsa /);
    expect(generated.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const imported = await nova.createKeypair('imported', generated.public_key);
    expect(imported.fingerprint).toBe(generated.fingerprint);
    expect(imported.private_key).toBeUndefined();
    expect((await nova.listKeypairs()).map((k) => k.name).sort()).toEqual(['gen', 'imported']);
    expect((await nova.getKeypair('gen')).public_key).toBe(generated.public_key);
    expect((await failure(nova.createKeypair('gen'))).status).toBe(409);
    expect((await failure(nova.createKeypair('bad', 'not a key'))).status).toBe(400);
    await nova.deleteKeypair('imported');
    expect((await failure(nova.getKeypair('imported'))).status).toBe(404);
  });

  it('boots from an image: BUILD → ACTIVE with an address from the subnet and a root disk of the image bytes', async () => {
    await nova.createKeypair('boot-key');
    const raw = await demoSession.request(
      'POST',
      { service: 'compute', path: 'servers' },
      {
        json: {
          server: {
            name: 'web-1',
            flavorRef: '1',
            imageRef: imageId,
            networks: [{ uuid: net.id }],
            key_name: 'boot-key',
            metadata: { role: 'web' },
            security_groups: [{ name: 'default' }],
          },
        },
        headers: { 'OpenStack-API-Version': 'compute 2.79' },
      },
    );
    expect(raw.status).toBe(202);
    const { server: created } = (await raw.json()) as { server: { id: string; adminPass: string } };
    expect(raw.headers.get('location')).toMatch(new RegExp(`/v2\\.1/servers/${created.id}$`));
    const building = await nova.getServer(created.id);
    expect(building.status).toBe('BUILD');

    const server = await nova.waitForServer(created.id, 'ACTIVE', fast);
    expect(server.key_name).toBe('boot-key');
    expect(server.metadata).toEqual({ role: 'web' });
    expect(server.image).toMatchObject({ id: imageId });
    expect(server.flavor.original_name).toBe('m1.tiny');
    expect(server['OS-EXT-STS:power_state']).toBe(1);
    const addr = server.addresses['vm-net'][0];
    expect(addr['OS-EXT-IPS:type']).toBe('fixed');
    expect(addr.addr).toMatch(/^10\.50\.0\.\d+$/);

    const ports = await neutron.listPorts({ device_id: server.id });
    expect(ports).toHaveLength(1);
    expect(ports[0]).toMatchObject({
      device_owner: 'compute:nova',
      status: 'ACTIVE',
      mac_address: addr['OS-EXT-IPS-MAC:mac_addr'],
    });
    expect(ports[0].fixed_ips).toEqual([{ subnet_id: subnet.id, ip_address: addr.addr }]);

    const disk = novaSim().servers.servers.get(server.id)?.diskPath ?? '';
    expect(readFileSync(disk).equals(imageBytes)).toBe(true);

    const other = await boot('web-2');
    expect(other.addresses['vm-net'][0].addr).not.toBe(addr.addr);
    expect((await nova.listServers({ name: '^web-' })).map((s) => s.name).sort()).toEqual(['web-1', 'web-2']);
    expect((await nova.updateServer(other.id, { name: 'web-2b', description: 'second' })).name).toBe(
      'web-2b',
    );
  });

  it('stops, starts, pauses, unpauses and reboots, refusing actions in the wrong state', async () => {
    const s = await boot('power');
    await nova.stopServer(s.id);
    expect((await nova.waitForServer(s.id, 'SHUTOFF', fast))['OS-EXT-STS:power_state']).toBe(4);
    const wrong = await failure(nova.stopServer(s.id));
    expect(wrong.status).toBe(409);
    expect(wrong.osMessage).toBe(`Cannot 'stop' instance ${s.id} while it is in vm_state stopped`);
    await nova.startServer(s.id);
    await nova.waitForServer(s.id, 'ACTIVE', fast);
    await nova.pauseServer(s.id);
    await nova.waitForServer(s.id, 'PAUSED', fast);
    await nova.unpauseServer(s.id);
    await nova.waitForServer(s.id, 'ACTIVE', fast);
    await nova.rebootServer(s.id, 'HARD');
    expect((await nova.getServer(s.id)).status).toBe('HARD_REBOOT');
    await nova.waitForServer(s.id, 'ACTIVE', fast);
  });

  it('createImage makes a Glance image of the server disk bytes with the snapshot properties', async () => {
    const s = await boot('snap-me');
    const id = await nova.createImage(s.id, 'snap-1', { purpose: 'dr' });
    const img = fakeImages.RegionOne.images.get(id);
    // Like Nova: the answer comes with a queued image; the server uploads its disk, then is idle again.
    expect(img?.status).toBe('queued');
    expect((await nova.getServer(s.id))['OS-EXT-STS:task_state']).toBe('image_pending_upload');
    expect((await failure(nova.stopServer(s.id))).status).toBe(409);
    await waitFor({
      resource: `image ${id}`,
      poll: async () => fakeImages.RegionOne.images.get(id),
      status: (i) => i?.status ?? 'missing',
      ready: ['active'],
      failed: ['killed'],
      timeoutMs: 5000,
      intervalMs: 20,
    });
    expect((await nova.getServer(s.id))['OS-EXT-STS:task_state']).toBeNull();
    expect(img?.name).toBe('snap-1');
    expect(img?.owner).toBe(cloud.demo.projectId);
    expect(img?.properties).toMatchObject({
      image_type: 'snapshot',
      instance_uuid: s.id,
      base_image_ref: imageId,
      purpose: 'dr',
    });
    expect(readFileSync(fakeImages.RegionOne.imageDataPath(id) ?? '').equals(imageBytes)).toBe(true);
    // Before 2.45 the image id comes in Location only. This image service has no queued images,
    // so the simulator answers once the image is complete.
    const fake = fakeImages.RegionOne;
    const queued = { create: fake.createQueuedImage, upload: fake.uploadImageFromFile };
    fake.createQueuedImage = undefined;
    fake.uploadImageFromFile = undefined;
    const old = new NovaClient(demoSession, { microversion: '2.1' });
    let id2: string;
    try {
      id2 = await old.createImage(s.id, 'snap-2');
    } finally {
      fake.createQueuedImage = queued.create;
      fake.uploadImageFromFile = queued.upload;
    }
    expect(fakeImages.RegionOne.images.get(id2)?.properties.instance_uuid).toBe(s.id);
    expect(fakeImages.RegionOne.images.get(id2)?.status).toBe('active');
    expect((await nova.getServer(s.id)).status).toBe('ACTIVE');
  });

  it('manages server metadata', async () => {
    const s = await boot('meta', { metadata: { a: '1' } });
    expect(await nova.getServerMetadata(s.id)).toEqual({ a: '1' });
    expect(await nova.updateServerMetadata(s.id, { b: '2' })).toEqual({ a: '1', b: '2' });
    expect(await nova.setServerMetadata(s.id, { c: '3' })).toEqual({ c: '3' });
    await nova.setServerMetadataItem(s.id, 'd', '4');
    expect(await nova.getServerMetadataItem(s.id, 'd')).toBe('4');
    await nova.deleteServerMetadataItem(s.id, 'c');
    expect(await nova.getServerMetadata(s.id)).toEqual({ d: '4' });
    expect((await failure(nova.getServerMetadataItem(s.id, 'c'))).status).toBe(404);
  });

  it('attaches and detaches volumes through the volume service', async () => {
    const s = await boot('with-volume');
    const vol = fakeVolumes.RegionOne.addVolume(cloud.demo.projectId);
    const att = await nova.attachVolume(s.id, vol.id, { delete_on_termination: false });
    expect(att).toMatchObject({
      volumeId: vol.id,
      serverId: s.id,
      device: '/dev/vdb',
      delete_on_termination: false,
    });
    expect(fakeVolumes.RegionOne.volumes.get(vol.id)?.status).toBe('in-use');
    expect((await nova.listVolumeAttachments(s.id)).map((a) => a.volumeId)).toEqual([vol.id]);
    expect((await nova.getVolumeAttachment(s.id, vol.id)).device).toBe('/dev/vdb');
    expect((await nova.getServer(s.id))['os-extended-volumes:volumes_attached'].map((v) => v.id)).toEqual([
      vol.id,
    ]);
    expect((await failure(nova.attachVolume(s.id, vol.id))).status).toBe(409);
    await nova.detachVolume(s.id, vol.id);
    expect(fakeVolumes.RegionOne.volumes.get(vol.id)?.status).toBe('available');
    expect(await nova.listVolumeAttachments(s.id)).toEqual([]);
    expect((await failure(nova.detachVolume(s.id, vol.id))).status).toBe(404);
    const foreign = fakeVolumes.RegionOne.addVolume('someone-else');
    expect((await failure(nova.attachVolume(s.id, foreign.id))).status).toBe(404);
  });

  it('attaches and detaches interfaces, and shows floating IPs in the addresses', async () => {
    const s = await boot('multi-nic');
    const net2 = await neutron.createNetwork({ name: 'vm-net-2' });
    await neutron.createSubnet({ network_id: net2.id, cidr: '10.51.0.0/24' });
    const byNet = await nova.attachInterface(s.id, { net_id: net2.id });
    expect(byNet.net_id).toBe(net2.id);
    expect(byNet.fixed_ips[0].ip_address).toMatch(/^10\.51\.0\./);
    const own = await neutron.createPort({ network_id: net2.id, name: 'mine' });
    await nova.attachInterface(s.id, { port_id: own.id });
    expect((await nova.listInterfaces(s.id)).length).toBe(3);
    expect((await nova.getInterface(s.id, own.id)).mac_addr).toBe(own.mac_address);
    await nova.detachInterface(s.id, own.id);
    await nova.detachInterface(s.id, byNet.port_id);
    expect((await neutron.getPort(own.id)).device_id).toBe(''); // a user's port survives, unbound
    expect((await failure(neutron.getPort(byNet.port_id))).status).toBe(404); // Nova's own is deleted
    expect((await nova.listInterfaces(s.id)).length).toBe(1);

    const [ext] = await neutron.listNetworks({ 'router:external': true });
    const router = await neutron.createRouter({
      name: 'vm-router',
      external_gateway_info: { network_id: ext.id },
    });
    await neutron.addRouterInterface(router.id, { subnet_id: subnet.id });
    const [port] = await neutron.listPorts({ device_id: s.id });
    const fip = await neutron.createFloatingIp({ floating_network_id: ext.id, port_id: port.id });
    const addrs = (await nova.getServer(s.id)).addresses['vm-net'];
    expect(addrs.find((a) => a['OS-EXT-IPS:type'] === 'floating')?.addr).toBe(fip.floating_ip_address);
  });

  it('boots from a volume, snapshots it as a block-device-mapping image and frees the volume on delete', async () => {
    const vol = fakeVolumes.RegionOne.addVolume(cloud.demo.projectId);
    const created = await nova.createServer({
      name: 'bfv',
      flavorRef: '1',
      networks: 'none',
      block_device_mapping_v2: [
        { boot_index: 0, uuid: vol.id, source_type: 'volume', destination_type: 'volume' },
      ],
    });
    const s = await nova.waitForServer(created.id, 'ACTIVE', fast);
    expect(s.image).toBe('');
    expect(s.addresses).toEqual({});
    expect(fakeVolumes.RegionOne.volumes.get(vol.id)?.attachments[0]).toMatchObject({
      server_id: s.id,
      device: '/dev/vda',
    });
    const rootDetach = await failure(nova.detachVolume(s.id, vol.id));
    expect(rootDetach.status).toBe(400);
    const imageOfVolume = fakeImages.RegionOne.images.get(await nova.createImage(s.id, 'bfv-snap'));
    expect(imageOfVolume?.size).toBe(0);
    expect(imageOfVolume?.properties.bdm_v2).toBe('True');
    expect(JSON.parse(imageOfVolume?.properties.block_device_mapping ?? '[]')[0]).toMatchObject({
      volume_id: vol.id,
      boot_index: 0,
    });
    await nova.deleteServer(s.id);
    await nova.waitForServerDeleted(s.id, fast);
    expect(fakeVolumes.RegionOne.volumes.get(vol.id)?.status).toBe('available');
  });

  it('deletes a server: ports released, disk removed, then 404', async () => {
    const s = await boot('short-lived');
    const disk = novaSim().servers.servers.get(s.id)?.diskPath ?? '';
    expect(existsSync(disk)).toBe(true);
    await nova.deleteServer(s.id);
    await nova.waitForServerDeleted(s.id, fast);
    expect(existsSync(disk)).toBe(false);
    expect(await neutron.listPorts({ device_id: s.id })).toEqual([]);
    const gone = await failure(nova.getServer(s.id));
    expect(gone.status).toBe(404);
    expect(gone.osMessage).toBe(`Instance ${s.id} could not be found.`);
  });

  it('a server stuck in BUILD makes waitForServer time out naming it; released, it goes ACTIVE', async () => {
    const created = await nova.createServer({
      name: 'stuck',
      flavorRef: '1',
      imageRef: imageId,
      networks: [{ uuid: net.id }],
    });
    // In time: the build step waits stepDelayMs (150 ms) after the answer.
    cloud.faults.RegionOne.stuck.add(created.id);
    try {
      await expect(
        nova.waitForServer(created.id, 'ACTIVE', { timeoutMs: 500, intervalMs: 50 }),
      ).rejects.toThrow(new RegExp(`server ${created.id} still BUILD`));
    } finally {
      cloud.faults.RegionOne.stuck.delete(created.id);
    }
    await nova.waitForServer(created.id, 'ACTIVE', fast);
  });

  it('still deletes a server stuck in BUILD, as Nova deletes locally when the compute host is gone', async () => {
    const created = await nova.createServer({
      name: 'stuck-2',
      flavorRef: '1',
      imageRef: imageId,
      networks: 'none',
    });
    cloud.faults.RegionOne.stuck.add(created.id);
    try {
      await nova.deleteServer(created.id);
      await nova.waitForServerDeleted(created.id, fast);
    } finally {
      cloud.faults.RegionOne.stuck.delete(created.id);
    }
  });

  it('goes to ERROR with a fault when the image bytes are gone at spawn, and waitForServer says why', async () => {
    const img = fakeImages.RegionOne.addImage(cloud.demo.projectId, 'hollow', Buffer.from('x'));
    delete img.file; // Glance still lists it active, but there is nothing to copy
    const created = await nova.createServer({
      name: 'doomed',
      flavorRef: '1',
      imageRef: img.id,
      networks: 'none',
    });
    await expect(nova.waitForServer(created.id, 'ACTIVE', fast)).rejects.toThrow(
      /went to ERROR: Build of instance .* aborted/,
    );
    const s = await nova.getServer(created.id);
    expect(s.fault?.code).toBe(500);
    await nova.deleteServer(s.id);
    await nova.waitForServerDeleted(s.id, fast);
  });

  it('goes to ERROR when Neutron has no address left for the server port', async () => {
    const full = await neutron.createNetwork({ name: 'full-net' });
    await neutron.createSubnet({
      network_id: full.id,
      cidr: '10.52.0.0/29',
      allocation_pools: [{ start: '10.52.0.2', end: '10.52.0.2' }],
    });
    await neutron.createPort({ network_id: full.id });
    const created = await nova.createServer({
      name: 'no-ip',
      flavorRef: '1',
      imageRef: imageId,
      networks: [{ uuid: full.id }],
    });
    await expect(nova.waitForServer(created.id, 'ACTIVE', fast)).rejects.toThrow(
      new RegExp(
        `server ${created.id} went to ERROR: .*No more IP addresses available on network ${full.id}`,
      ),
    );
    expect(await neutron.listPorts({ device_id: created.id })).toEqual([]);
  });

  it("rejects invalid requests with Nova's error body", async () => {
    const raw = await demoSession.request(
      'POST',
      { service: 'compute', path: 'servers' },
      {
        json: { server: { name: 'x', flavorRef: '999', imageRef: imageId, networks: 'none' } },
        headers: { 'OpenStack-API-Version': 'compute 2.79' },
        allowStatus: [400],
      },
    );
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ badRequest: { code: 400, message: 'Invalid flavorRef provided.' } });
    const flavor = await failure(
      nova.createServer({ name: 'x', flavorRef: '999', imageRef: imageId, networks: 'none' }),
    );
    expect(flavor.status).toBe(400);
    expect(flavor.osMessage).toBe('Invalid flavorRef provided.');
    const image = await failure(
      nova.createServer({ name: 'x', flavorRef: '1', imageRef: 'nope', networks: 'none' }),
    );
    expect(image.osMessage).toBe('Can not find requested image');
    const network = await failure(
      nova.createServer({ name: 'x', flavorRef: '1', imageRef: imageId, networks: [{ uuid: 'nope' }] }),
    );
    expect(network.osMessage).toBe('Network nope could not be found.');
    const noNetworks = await failure(nova.createServer({ name: 'x', flavorRef: '1', imageRef: imageId }));
    expect(noNetworks.status).toBe(400);
    const key = await failure(
      nova.createServer({ name: 'x', flavorRef: '1', imageRef: imageId, networks: 'none', key_name: 'nope' }),
    );
    expect(key.osMessage).toBe('Invalid key_name provided.');
    await neutron.createNetwork({ name: 'ambiguous' });
    const auto = await failure(
      nova.createServer({ name: 'x', flavorRef: '1', imageRef: imageId, networks: 'auto' }),
    );
    expect(auto.status).toBe(409);
    const action = await failure(nova.rebootServer('nope'));
    expect(action.status).toBe(404);
  });

  it('isolates projects: another project cannot see or touch a server; admin lists it with all_tenants', async () => {
    const s = await boot('private-vm');
    const otherNova = new NovaClient(session(cloud, 'RegionOne', createOtherProject(cloud)));
    expect((await failure(otherNova.getServer(s.id))).status).toBe(404);
    expect((await failure(otherNova.deleteServer(s.id))).status).toBe(404);
    expect((await otherNova.listServers()).map((x) => x.id)).not.toContain(s.id);
    const admin = new NovaClient(session(cloud, 'RegionOne', ADMIN));
    expect((await admin.listServers()).map((x) => x.id)).not.toContain(s.id);
    const all = await admin.listServers({ all_tenants: true });
    expect(all.find((x) => x.id === s.id)?.tenant_id).toBe(cloud.demo.projectId);
    expect((await admin.getServer(s.id)).name).toBe('private-vm');
  });

  it('keeps regions apart', async () => {
    const s = await boot('region-one-only');
    const two = new NovaClient(session(cloud, 'RegionTwo'));
    expect((await failure(two.getServer(s.id))).status).toBe(404);
    expect((await two.listServers()).length).toBe(0);
  });

  it('retries GETs through a burst of 503', async () => {
    cloud.faults.RegionOne.set('compute', { errorBurst: 2, methods: ['GET'] });
    try {
      expect((await nova.listFlavors()).length).toBeGreaterThan(0);
      expect(cloud.faults.RegionOne.services.get('compute')?.errorBurst).toBe(0);
    } finally {
      cloud.faults.RegionOne.set('compute', undefined);
    }
  });
});
