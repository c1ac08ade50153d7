/**
 * Contract of Dragon's OpenStack clients (services/common/openstack/), one file for two
 * targets: the simulator (DRAGON_CLOUD_TARGET=sim, the default, part of `npm test`) and the
 * real services of test/realcloud/minicloud (DRAGON_CLOUD_TARGET=real, `npm run
 * test:realcloud`). Every assertion is something Dragon relies on; where the real cloud of
 * the mini cloud cannot do a thing (the fake virt driver, the NFS backend), the test states
 * the real behaviour instead of hiding it (docs/cloud-api-notes.md, "Real services").
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenStackHttpError } from '../../services/common/openstack/errors.js';
import { waitFor } from '../../services/common/openstack/wait.js';
import { type CloudTarget, openCloudTarget } from '../support/cloud-target.js';
import type { Clients } from '../unit/cloudsim/together-support.js';

const RUN = `ct${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const SLOW = { timeoutMs: 180_000, intervalMs: 1000, maxIntervalMs: 3000 };
// Real Cinder on the NFS backend: a 1 GiB backup ~35 s, a restore ~50 s, a snapshot ~20 s.
const CINDER_TEST = 420_000;

let target: CloudTarget;
let demo: Clients;
let admin: Clients;
const cleanups: Array<() => Promise<unknown>> = [];
const later = (fn: () => Promise<unknown>) => cleanups.push(fn);

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

beforeAll(async () => {
  target = await openCloudTarget();
  demo = target.clients('demo', { segmentSize: 1024 * 1024 });
  admin = target.clients('admin');
}, 120_000);

afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
  await target?.close();
}, 300_000);

describe(`Keystone session (${process.env.DRAGON_CLOUD_TARGET ?? 'sim'})`, () => {
  it('authenticates with a password, scopes to the project and finds every service in the catalog', async () => {
    const access = await demo.session.authenticate();
    expect(access.projectId).toMatch(/^[0-9a-f]{32}$/);
    for (const type of ['compute', 'network', 'volumev3', 'image', 'object-store', 'orchestration']) {
      expect(await demo.session.endpointFor(type), type).toMatch(/^https?:\/\//);
    }
  });

  it('refuses a wrong password with 401', async () => {
    const { KeystoneSession } = await import('../../services/common/openstack/session.js');
    const opts = target.sessionOptions('demo');
    const bad = new KeystoneSession({
      ...opts,
      auth: { ...(opts.auth as object), password: 'wrong' } as never,
    });
    await expect(bad.authenticate()).rejects.toThrow(/401|auth/i);
    await bad.close();
  });
});

describe('Swift', () => {
  const c = `${RUN}-bank`;

  beforeAll(async () => {
    later(async () => {
      for (const name of [c, `${c}_segments`]) {
        const objs = await demo.swift.listObjects(name).catch(() => []);
        for (const o of objs) await demo.swift.deleteObject(name, o.name);
        await demo.swift.deleteContainer(name).catch(() => {});
      }
    });
  });

  it('advertises SLO and bulk delete in /info', async () => {
    const info = (await demo.swift.info()) as {
      slo?: { max_manifest_segments: number };
      bulk_delete?: unknown;
    };
    expect(info.slo?.max_manifest_segments).toBeGreaterThanOrEqual(1000);
    expect(info.bulk_delete).toBeDefined();
  });

  it('creates a container with metadata, reports it on HEAD and in the listing; 202 on re-create', async () => {
    expect(await demo.swift.createContainer(c, { metadata: { 'Dragon-Policy': 'p1' } })).toBe(true);
    expect(await demo.swift.createContainer(c)).toBe(false);
    const info = await demo.swift.containerInfo(c);
    expect(info?.metadata['dragon-policy'] ?? info?.metadata['Dragon-Policy']).toBe('p1');
    expect((await demo.swift.listContainers({ prefix: RUN })).map((e) => e.name)).toContain(c);
    expect(await demo.swift.containerInfo(`${c}-missing`)).toBeUndefined();
  });

  it('puts, heads, gets (whole and a range), lists with prefix/delimiter, copies and deletes objects', async () => {
    const body = randomBytes(70_000);
    const put = await demo.swift.putObject(c, 'res/a/manifest.json', body, {
      contentType: 'application/json',
      metadata: { 'Dragon-Kind': 'manifest' },
    });
    expect(put.md5).toBe(md5(body));
    expect(put.etag).toBe(md5(body));
    const head = await demo.swift.headObject(c, 'res/a/manifest.json');
    expect(head).toMatchObject({ size: body.length, etag: md5(body), contentType: 'application/json' });
    expect(Object.values(head?.metadata ?? {})).toContain('manifest');
    const got = await demo.swift.getObject(c, 'res/a/manifest.json');
    expect(md5(await bytesOf(got.stream))).toBe(md5(body));
    const part = await demo.swift.getObject(c, 'res/a/manifest.json', { range: { start: 10, end: 19 } });
    expect(part.status).toBe(206);
    expect(await bytesOf(part.stream)).toEqual(body.subarray(10, 20));

    await demo.swift.putObject(c, 'res/b/x', 'x');
    await demo.swift.putObject(c, 'top', 'y');
    const rolled = await demo.swift.listObjects(c, { prefix: 'res/', delimiter: '/' });
    expect(rolled.map((e) => e.subdir ?? e.name).sort()).toEqual(['res/a/', 'res/b/']);

    await demo.swift.copyObject({ container: c, name: 'top' }, { container: c, name: 'top-copy' });
    expect((await demo.swift.headObject(c, 'top-copy'))?.size).toBe(1);
    await demo.swift.setObjectMetadata(c, 'top-copy', { Note: 'n' });
    expect(Object.values((await demo.swift.headObject(c, 'top-copy'))?.metadata ?? {})).toContain('n');
    expect(await demo.swift.deleteObject(c, 'top-copy')).toBe(true);
    expect(await demo.swift.deleteObject(c, 'top-copy')).toBe(false);
    expect(await demo.swift.headObject(c, 'top-copy')).toBeUndefined();
  });

  it('uploads above the segment size as an SLO, serves the whole bytes and lists the manifest', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 12_345);
    const put = await demo.swift.putObject(c, 'disk.img', body);
    expect(put.segments?.length).toBe(3);
    expect(put.md5).toBe(md5(body));
    const head = await demo.swift.headObject(c, 'disk.img');
    expect(head).toMatchObject({ size: body.length, staticLargeObject: true });
    expect(md5(await bytesOf((await demo.swift.getObject(c, 'disk.img')).stream))).toBe(md5(body));
    const manifest = await demo.swift.getManifest(c, 'disk.img');
    expect(manifest.map((s) => s.size_bytes).reduce((a, b) => a + b, 0)).toBe(body.length);
  });

  it('bulk-deletes objects, counting the missing ones as not found', async () => {
    await demo.swift.putObject(c, 'bulk/1', '1');
    await demo.swift.putObject(c, 'bulk/2', '2');
    const r = await demo.swift.bulkDelete([`${c}/bulk/1`, `${c}/bulk/2`, `${c}/bulk/none`]);
    expect(r).toMatchObject({ deleted: 2, notFound: 1, errors: [] });
  });

  it('refuses another project until the owner grants read with an ACL (keystoneauth syntax)', async () => {
    const dr = target.clients('dr');
    const drProject = (await dr.session.authenticate()).projectId;
    const url = `${await demo.swift.accountUrl()}/${c}/top`;
    const read = () => dr.session.request('GET', url, { allowStatus: [403] });
    expect((await read()).status).toBe(403);
    await demo.swift.setContainerAcl(c, { read: `${drProject}:*` });
    const ok = await read();
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('y');
    await demo.swift.setContainerAcl(c, { read: '' });
  });

  it('refuses to delete a non-empty container with 409', async () => {
    const err = await demo.swift.deleteContainer(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenStackHttpError);
    expect((err as OpenStackHttpError).status).toBe(409);
  });
});

describe('Glance', () => {
  it('creates, uploads, reads back (checksum, sha512 os_hash), sets properties, lists and deletes an image', async () => {
    const body = randomBytes(300_000);
    const img = await demo.glance.createImage({
      name: `${RUN}-img`,
      disk_format: 'raw',
      container_format: 'bare',
      properties: { dragon_test: 'yes' },
    });
    later(() => demo.glance.deleteImage(img.id));
    expect(img.status).toBe('queued');
    expect(img.dragon_test).toBe('yes');
    await demo.glance.uploadImage(img.id, body, { size: body.length });
    const active = await demo.glance.getImage(img.id);
    expect(active).toMatchObject({
      status: 'active',
      size: body.length,
      checksum: md5(body),
      os_hash_algo: 'sha512',
    });
    expect(active.os_hash_value).toBe(sha512(body));
    const dl = await demo.glance.downloadImage(img.id);
    expect(dl).toBeDefined();
    expect(md5(await bytesOf(dl?.stream as Readable))).toBe(md5(body));
    const updated = await demo.glance.setProperties(img.id, { dragon_test: 'changed', extra_one: '1' });
    expect(updated).toMatchObject({ dragon_test: 'changed', extra_one: '1' });
    expect((await demo.glance.listImages({ name: `${RUN}-img` })).map((i) => i.id)).toEqual([img.id]);
    await demo.glance.deleteImage(img.id);
    expect(await demo.glance.findImage(img.id)).toBeUndefined();
  });

  it('answers 204 (no data) for a queued image download', async () => {
    const img = await demo.glance.createImage({
      name: `${RUN}-empty`,
      disk_format: 'raw',
      container_format: 'bare',
    });
    later(() => demo.glance.deleteImage(img.id));
    expect(await demo.glance.downloadImage(img.id)).toBeUndefined();
  });
});

describe('Neutron', () => {
  it('creates a network, subnet, port, router with an interface, and a security group with rules', async () => {
    const n = demo.neutron;
    const net = await n.createNetwork({ name: `${RUN}-net` });
    later(() => n.deleteNetwork(net.id));
    const sub = await n.createSubnet({
      network_id: net.id,
      name: `${RUN}-sub`,
      cidr: '10.77.0.0/24',
      ip_version: 4,
    });
    expect(sub).toMatchObject({ cidr: '10.77.0.0/24', gateway_ip: '10.77.0.1' });
    expect(sub.allocation_pools[0]).toEqual({ start: '10.77.0.2', end: '10.77.0.254' });
    const port = await n.createPort({
      network_id: net.id,
      name: `${RUN}-port`,
      fixed_ips: [{ ip_address: '10.77.0.50' }],
    });
    later(() => n.deletePort(port.id));
    expect(port.fixed_ips[0]).toMatchObject({ subnet_id: sub.id, ip_address: '10.77.0.50' });
    expect(port.mac_address).toMatch(/^fa:16:3e:/);

    const router = await n.createRouter({ name: `${RUN}-router` });
    later(() => n.deleteRouter(router.id));
    const itf = await n.addRouterInterface(router.id, { subnet_id: sub.id });
    later(() => n.removeRouterInterface(router.id, { subnet_id: sub.id }));
    expect(itf.subnet_id).toBe(sub.id);
    const rports = await n.listPorts({ device_id: router.id });
    expect(rports.map((p) => p.fixed_ips[0]?.ip_address)).toContain('10.77.0.1');

    const sg = await n.createSecurityGroup({ name: `${RUN}-sg`, description: 'contract' });
    later(() => n.deleteSecurityGroup(sg.id));
    // Every new group starts with the two egress rules (IPv4 and IPv6).
    expect(sg.security_group_rules.filter((r) => r.direction === 'egress')).toHaveLength(2);
    const rule = await n.createSecurityGroupRule({
      security_group_id: sg.id,
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
      ethertype: 'IPv4',
    });
    expect((await n.getSecurityGroup(sg.id)).security_group_rules.map((r) => r.id)).toContain(rule.id);
    const dup = await n
      .createSecurityGroupRule({
        security_group_id: sg.id,
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 22,
        port_range_max: 22,
        remote_ip_prefix: '0.0.0.0/0',
        ethertype: 'IPv4',
      })
      .catch((e: unknown) => e);
    expect((dup as OpenStackHttpError).status).toBe(409);
    const missing = await n.getNetwork('00000000-0000-0000-0000-000000000000').catch((e: unknown) => e);
    expect((missing as OpenStackHttpError).status).toBe(404);
  });
});

describe('Cinder', () => {
  it(
    'creates a volume, snapshots it, backs it up to Swift, exports the record and restores into a new volume',
    async () => {
      const cinder = demo.cinder;
      const vol = await cinder.createVolume({ size: 1, name: `${RUN}-vol`, metadata: { tier: 'db' } });
      later(() => cinder.deleteVolume(vol.id, { cascade: true }));
      const ready = await cinder.waitForVolume(vol.id, ['available'], SLOW);
      expect(ready).toMatchObject({ size: 1, name: `${RUN}-vol`, metadata: { tier: 'db' }, attachments: [] });

      // Backup before any snapshot: with the NFS backend a volume that has snapshots is a qcow2
      // overlay, and its backup copies the overlay instead of the data (cloud-api-notes).
      const backup = await cinder.createBackup({ volume_id: vol.id, name: `${RUN}-backup` });
      later(() => cinder.deleteBackup(backup.id));
      const done = await cinder.waitForBackup(backup.id, SLOW);
      expect(done).toMatchObject({ status: 'available', volume_id: vol.id, size: 1 });
      expect(done.object_count).toBeGreaterThan(0);

      const snap = await cinder.createSnapshot({ volume_id: vol.id, name: `${RUN}-snap` });
      later(() => cinder.deleteSnapshot(snap.id));
      expect((await cinder.waitForSnapshot(snap.id, SLOW)).status).toBe('available');

      const record = await admin.cinder.exportBackupRecord(backup.id);
      expect(record.backup_service).toMatch(/swift/i);
      expect(record.backup_url.length).toBeGreaterThan(10);

      const restored = await cinder.restoreBackup(backup.id, { name: `${RUN}-restored` });
      later(() => cinder.deleteVolume(restored.volume_id, { cascade: true }));
      expect(restored.backup_id).toBe(backup.id);
      const rv = await cinder.waitForVolume(restored.volume_id, ['available'], SLOW);
      expect(rv.size).toBe(1);

      await cinder.deleteSnapshot(snap.id);
      await cinder.waitForSnapshotDeleted(snap.id, SLOW);
      expect(await cinder.findSnapshot(snap.id)).toBeUndefined();
    },
    CINDER_TEST,
  );

  it(
    'finds nothing for an unknown volume and refuses to delete a volume that has snapshots',
    async () => {
      expect(await demo.cinder.findVolume('00000000-0000-0000-0000-000000000000')).toBeUndefined();
      const vol = await demo.cinder.createVolume({ size: 1, name: `${RUN}-busy` });
      later(() => demo.cinder.deleteVolume(vol.id, { cascade: true }));
      await demo.cinder.waitForVolume(vol.id, ['available'], SLOW);
      const snap = await demo.cinder.createSnapshot({ volume_id: vol.id, name: `${RUN}-busy-snap` });
      await demo.cinder.waitForSnapshot(snap.id, SLOW);
      const err = await demo.cinder.deleteVolume(vol.id).catch((e: unknown) => e);
      expect((err as OpenStackHttpError).status).toBe(400);
      await demo.cinder.deleteVolume(vol.id, { cascade: true });
      await demo.cinder.waitForVolumeDeleted(vol.id, SLOW);
    },
    CINDER_TEST,
  );
});

describe('Nova', () => {
  it(
    'boots a server on a network, attaches a volume, keeps metadata, snapshots it and deletes it',
    async () => {
      const { nova, neutron, cinder, glance } = demo;
      const flavor = await nova.findFlavor(target.flavorName);
      expect(flavor).toBeDefined();
      const net = await neutron.createNetwork({ name: `${RUN}-vmnet` });
      later(() => neutron.deleteNetwork(net.id));
      await neutron.createSubnet({
        network_id: net.id,
        cidr: '10.78.0.0/24',
        ip_version: 4,
        name: `${RUN}-vmsub`,
      });
      const image = await glance.createImage({
        name: `${RUN}-boot`,
        disk_format: 'raw',
        container_format: 'bare',
      });
      later(() => glance.deleteImage(image.id));
      await glance.uploadImage(image.id, randomBytes(64 * 1024));

      const created = await nova.createServer({
        name: `${RUN}-vm`,
        flavorRef: flavor?.id as string,
        imageRef: image.id,
        networks: [{ uuid: net.id }],
        metadata: { role: 'db' },
      });
      later(() => nova.deleteServer(created.id));
      const server = await nova.waitForServer(created.id, 'ACTIVE', { timeoutMs: 180_000 });
      expect(server.addresses[`${RUN}-vmnet`]?.[0]?.addr).toMatch(/^10\.78\.0\./);
      expect(await nova.getServerMetadata(created.id)).toEqual({ role: 'db' });
      const ports = await neutron.listPorts({ device_id: created.id });
      expect(ports).toHaveLength(1);
      expect(ports[0].device_owner).toMatch(/^compute:/);

      const vol = await cinder.createVolume({ size: 1, name: `${RUN}-data` });
      later(() => cinder.deleteVolume(vol.id, { cascade: true }));
      await cinder.waitForVolume(vol.id, ['available'], SLOW);
      const att = await nova.attachVolume(created.id, vol.id);
      expect(att.volumeId).toBe(vol.id);
      const inUse = await cinder.waitForVolume(vol.id, ['in-use'], SLOW);
      expect(inUse.attachments[0]?.server_id).toBe(created.id);
      expect((await nova.listVolumeAttachments(created.id)).map((a) => a.volumeId)).toEqual([vol.id]);

      const imageId = await nova.createImage(created.id, `${RUN}-snapshot`, { dragon: 'yes' });
      later(() => glance.deleteImage(imageId));
      const snapImage = await glance.getImage(imageId);
      expect(snapImage).toMatchObject({ image_type: 'snapshot', instance_uuid: created.id });
      if (target.kind === 'real') {
        // The fake virt driver uploads no bytes: the image stays queued (a hypervisor would fill it).
        expect(['queued', 'saving']).toContain(snapImage.status);
      }

      // Detaching is refused (409) while the snapshot's task is pending.
      await waitFor({
        resource: `server ${created.id} task`,
        poll: () => nova.getServer(created.id),
        status: (s) => String(s['OS-EXT-STS:task_state'] ?? 'none'),
        ready: ['none'],
        ...SLOW,
      });
      await nova.detachVolume(created.id, vol.id);
      await cinder.waitForVolume(vol.id, ['available'], SLOW);
      await nova.deleteServer(created.id);
      await nova.waitForServerDeleted(created.id, { timeoutMs: 120_000 });
      // Real Nova shows status DELETED for a moment (vm_state deleted, row not yet soft-deleted),
      // which waitForServerDeleted counts as gone; a 404 follows.
      const after = await nova.findServer(created.id);
      expect(after?.status ?? 'DELETED').toBe('DELETED');
      await waitFor({
        resource: `server ${created.id} record`,
        poll: async () => ((await nova.findServer(created.id)) ? 'present' : 'gone'),
        status: (s) => s,
        ready: ['gone'],
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      expect(await neutron.listPorts({ device_id: created.id })).toHaveLength(0);
    },
    CINDER_TEST,
  );

  it('lists availability zones and manages keypairs', async () => {
    const zones = await demo.nova.listAvailabilityZones();
    expect(zones.map((z) => z.zoneName)).toContain('nova');
    const kp = await demo.nova.createKeypair(`${RUN}-kp`);
    later(() => demo.nova.deleteKeypair(`${RUN}-kp`));
    expect(kp.public_key).toMatch(/^ssh-/);
    expect((await demo.nova.listKeypairs()).map((k) => k.name)).toContain(`${RUN}-kp`);
    await demo.nova.deleteKeypair(`${RUN}-kp`);
    const gone = await demo.nova.getKeypair(`${RUN}-kp`).catch((e: unknown) => e);
    expect((gone as OpenStackHttpError).status).toBe(404);
  });
});

describe('Heat', () => {
  it('creates a stack, reports resources and outputs, returns its template, and deletes it', async () => {
    const template = {
      heat_template_version: '2018-08-31',
      parameters: { len: { type: 'number', default: 12 } },
      resources: { secret: { type: 'OS::Heat::RandomString', properties: { length: { get_param: 'len' } } } },
      outputs: { value: { value: { get_attr: ['secret', 'value'] } } },
    };
    const created = await demo.heat.createStack({ name: `${RUN}-stack`, template, parameters: { len: 16 } });
    later(() => demo.heat.deleteStack(created.id));
    const stack = await demo.heat.waitForStack({ name: `${RUN}-stack`, id: created.id }, 'CREATE_COMPLETE', {
      timeoutMs: 120_000,
    });
    expect(stack.stack_status).toBe('CREATE_COMPLETE');
    const resources = await demo.heat.listResources(created.id);
    expect(resources.map((r) => [r.resource_name, r.resource_type, r.resource_status])).toEqual([
      ['secret', 'OS::Heat::RandomString', 'CREATE_COMPLETE'],
    ]);
    expect(String(await demo.heat.getOutput(created.id, 'value'))).toHaveLength(16);
    const tpl = await demo.heat.getTemplate(created.id);
    expect(Object.keys(tpl.resources as object)).toEqual(['secret']);
    await demo.heat.deleteStack(created.id);
    await demo.heat.waitForStack({ name: `${RUN}-stack`, id: created.id }, 'DELETE_COMPLETE', {
      timeoutMs: 120_000,
    });
    // Heat keeps showing a deleted stack by id (soft-deleted row); by name it is gone, a moment later.
    const byId = await demo.heat.findStack({ name: `${RUN}-stack`, id: created.id });
    expect(byId?.stack_status ?? 'DELETE_COMPLETE').toBe('DELETE_COMPLETE');
    await waitFor({
      resource: `stack name ${RUN}-stack`,
      poll: async () => ((await demo.heat.findStack(`${RUN}-stack`)) ? 'present' : 'gone'),
      status: (s) => s,
      ready: ['gone'],
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  });

  it('reports a failed create with the reason and rolls back when asked', async () => {
    const template = {
      heat_template_version: '2018-08-31',
      resources: {
        bad: { type: 'OS::Cinder::Volume', properties: { size: 1, volume_type: `${RUN}-no-such-type` } },
      },
    };
    const err = await demo.heat
      .createStack({ name: `${RUN}-bad`, template, disableRollback: false })
      .then(async (c) => {
        later(() => demo.heat.deleteStack(c.id));
        return demo.heat.waitForStack(c.id, 'CREATE_COMPLETE', { timeoutMs: 120_000 });
      })
      .catch((e: unknown) => e);
    // Real Heat validates the volume type at create (400); a simulator may fail the resource later.
    expect(String((err as Error).message ?? err)).toMatch(
      /no-such-type|not found|could not be found|FAILED/i,
    );
  });
});
