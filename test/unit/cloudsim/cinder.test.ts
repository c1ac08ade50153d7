import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeCinderService } from '../../../services/cloudsim/cinder.js';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import type {
  ImageServiceApi,
  ObjectStoreApi,
  VolumeServiceApi,
} from '../../../services/cloudsim/contracts.js';
import { glanceService, SEED_IMAGE_NAME } from '../../../services/cloudsim/glance.js';
import type { SiteContext } from '../../../services/cloudsim/site.js';
import { SiteFaults } from '../../../services/cloudsim/site-faults.js';
import { CinderClient } from '../../../services/common/openstack/cinder.js';
import { OpenStackHttpError } from '../../../services/common/openstack/errors.js';
import { GlanceClient } from '../../../services/common/openstack/glance.js';
import type { KeystoneSession } from '../../../services/common/openstack/session.js';
import { fakeObjectStore } from './fake-object-store.js';
import { ADMIN, addOtherTenant, DEMO, OTHER, sessionFor } from './storage-helpers.js';

// Volumes are whole GiB: copies, backups and restores of 1 GiB sparse files take a second or two each.
vi.setConfig({ testTimeout: 60_000 });
const GiB = 1024 ** 3;
const fast = { intervalMs: 20, maxIntervalMs: 100, timeoutMs: 30_000 };
let cloud: RunningCloud;
let otherProjectId: string;
const sessions: KeystoneSession[] = [];

function session(who = DEMO, region = 'RegionOne') {
  const s = sessionFor(cloud, who, region);
  sessions.push(s);
  return s;
}
const cinder = (who = DEMO, region = 'RegionOne', microversion?: string) =>
  new CinderClient(session(who, region), { region, microversion });
const glance = (who = DEMO, region = 'RegionOne') => new GlanceClient(session(who, region), { region });
const volumes = (region = 'RegionOne') => cloud.sites[region].services.get('volumev3') as VolumeServiceApi;
const swift = (region = 'RegionOne') => cloud.sites[region].services.get('object-store') as ObjectStoreApi;

beforeAll(async () => {
  // One directory behind both regions' object stores: a Swift both sites read (the bank).
  const sharedSwift = mkdtempSync(join(tmpdir(), 'fake-swift-'));
  cloud = await startCloud({
    services: [
      glanceService,
      makeCinderService({ delayMs: 20, backupObjectSize: 128 * 1024 * 1024 }),
      fakeObjectStore(sharedSwift),
    ],
  });
  otherProjectId = addOtherTenant(cloud);
  const admin = cinder(ADMIN);
  // This file creates more volumes than the default quota of 10 (raised the way an operator would).
  for (const region of ['RegionOne', 'RegionTwo'])
    await cinder(ADMIN, region).updateQuota(cloud.demo.projectId, {
      volumes: 100,
      snapshots: 100,
      backups: 100,
    });
  expect((await admin.getQuotaUsage(cloud.demo.projectId)).volumes.limit).toBe(100);
});
afterAll(async () => {
  for (const s of sessions) await s.close();
  await cloud?.close();
});

async function rejection(p: Promise<unknown>): Promise<OpenStackHttpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenStackHttpError) return err;
    throw err;
  }
  throw new Error('expected an OpenStackHttpError');
}

/** Writes bytes into a volume's file the way a server's disk writes would. */
async function writeAt(path: string, offset: number, data: Buffer) {
  const fh = await open(path, 'r+');
  await fh.write(data, 0, data.length, offset);
  await fh.close();
}
async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  const buf = Buffer.alloc(length);
  await fh.read(buf, 0, length, offset);
  await fh.close();
  return buf;
}

async function newVolume(c: CinderClient, req: Parameters<CinderClient['createVolume']>[0] = { size: 1 }) {
  const v = await c.createVolume(req);
  return c.waitForVolume(v.id, ['available'], fast);
}

describe('Cinder simulator and client: volumes', () => {
  it('creates an empty sparse volume: creating → available, list, show, update, delete', async () => {
    const c = cinder();
    const created = await c.createVolume({ size: 1, name: 'empty-1', metadata: { app: 'x' } });
    expect(created.status).toBe('creating');
    const v = await c.waitForVolume(created.id, ['available'], fast);
    expect(v.size).toBe(1);
    expect(v.volume_type).toBe('__DEFAULT__');
    expect(v.replication_status).toBe('disabled');
    const file = await stat(volumes().volumeDataPath(v.id));
    expect(file.size).toBe(GiB);
    expect(file.blocks * 512).toBeLessThan(1024 * 1024); // sparse
    expect((await c.listVolumes({ name: 'empty-1' })).map((x) => x.id)).toEqual([v.id]);
    const updated = await c.updateVolume(v.id, { name: 'empty-1b', metadata: { app: 'y' } });
    expect(updated.name).toBe('empty-1b');
    expect((await c.getVolume(v.id)).metadata.app).toBe('y');
    await c.extendVolume(v.id, 2);
    expect((await c.waitForVolume(v.id, ['available'], fast)).size).toBe(2);
    expect((await stat(volumes().volumeDataPath(v.id))).size).toBe(2 * GiB);
    await c.deleteVolume(v.id);
    await c.waitForVolumeDeleted(v.id, fast);
    expect(await c.findVolume(v.id)).toBeUndefined();
  });

  it('maps errors: itemNotFound 404, badRequest 400, microversion 406, project mismatch 400', async () => {
    const c = cinder();
    const missing = await rejection(c.getVolume('00000000-0000-0000-0000-000000000000'));
    expect(missing.status).toBe(404);
    expect(missing.osMessage).toBe('Volume 00000000-0000-0000-0000-000000000000 could not be found.');
    expect(missing.requestId).toMatch(/^req-/);
    const bad = await rejection(c.createVolume({ size: 0 }));
    expect(bad.status).toBe(400);
    expect(bad.osMessage).toContain('size');
    const tooNew = await rejection(cinder(DEMO, 'RegionOne', '3.99').listVolumes());
    expect(tooNew.status).toBe(406);
    expect(tooNew.osMessage).toContain('maximum is 3.70');

    const s = session();
    const token = await s.getToken();
    const url = `${cloud.sites.RegionOne.endpoints.volumev3}/v3/${otherProjectId}/volumes`;
    const res = await fetch(url, { headers: { 'X-Auth-Token': token } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
    const ok = await fetch(`${cloud.sites.RegionOne.endpoints.volumev3}/v3/${cloud.demo.projectId}/volumes`, {
      headers: { 'X-Auth-Token': token, 'OpenStack-API-Version': 'volume 3.50' },
    });
    expect(ok.headers.get('openstack-api-version')).toBe('volume 3.50');
    const malformed = await fetch(
      `${cloud.sites.RegionOne.endpoints.volumev3}/v3/${cloud.demo.projectId}/volumes`,
      {
        method: 'POST',
        headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
        body: '{"volume": ',
      },
    );
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ badRequest: { code: 400, message: 'Malformed request body' } });
  });

  it('keeps projects apart and selects the region from the catalog', async () => {
    const v = await newVolume(cinder(), { size: 1, name: 'isolated' });
    expect(await cinder(OTHER).findVolume(v.id)).toBeUndefined();
    expect((await cinder(OTHER).listVolumes()).map((x) => x.id)).not.toContain(v.id);
    expect(await cinder(DEMO, 'RegionTwo').findVolume(v.id)).toBeUndefined();
    const all = await cinder(ADMIN).listVolumes({ all_tenants: 1 });
    expect(all.map((x) => x.id)).toContain(v.id);
    const quota = await rejection(cinder(OTHER).getQuotaUsage(cloud.demo.projectId));
    expect(quota.status).toBe(403);
  });

  it('a volume from an image holds the image bytes', async () => {
    const c = cinder();
    const seeded = (await glance().listImages({ name: SEED_IMAGE_NAME }))[0];
    const v = await newVolume(c, { size: 1, imageRef: seeded.id, name: 'from-image' });
    expect(v.bootable).toBe('true');
    expect(v.volume_image_metadata?.image_id).toBe(seeded.id);
    const image = await readFile(
      (cloud.sites.RegionOne.services.get('image') as ImageServiceApi).imageDataPath(seeded.id)!,
    );
    const vol = volumes().volumeDataPath(v.id);
    expect((await readAt(vol, 0, image.length)).equals(image)).toBe(true);
    expect((await readAt(vol, image.length, 4096)).equals(Buffer.alloc(4096))).toBe(true);
    const bad = await rejection(c.createVolume({ size: 1, imageRef: 'no-such-image' }));
    expect(bad.status).toBe(400);
  });

  it('a snapshot keeps the bytes of its moment; volumes from snapshots and volumes copy them', async () => {
    const c = cinder();
    const v = await newVolume(c, { size: 1, name: 'snap-src' });
    const path = volumes().volumeDataPath(v.id);
    await writeAt(path, 4096, Buffer.from('before the snapshot'));
    const snap = await c.createSnapshot({ volume_id: v.id, name: 's1' });
    await c.waitForSnapshot(snap.id, fast);
    await writeAt(path, 4096, Buffer.from('AFTER  the snapshot'));
    const fromSnap = await newVolume(c, { snapshot_id: snap.id });
    expect(fromSnap.snapshot_id).toBe(snap.id);
    expect((await readAt(volumes().volumeDataPath(fromSnap.id), 4096, 19)).toString()).toBe(
      'before the snapshot',
    );
    const clone = await newVolume(c, { source_volid: v.id });
    expect((await readAt(volumes().volumeDataPath(clone.id), 4096, 19)).toString()).toBe(
      'AFTER  the snapshot',
    );
    expect((await c.listSnapshots({ volume_id: v.id })).map((s) => s.id)).toEqual([snap.id]);

    const busy = await rejection(c.deleteVolume(v.id));
    expect(busy.status).toBe(400);
    await c.deleteSnapshot(snap.id);
    await c.waitForSnapshotDeleted(snap.id, fast);
    await c.deleteVolume(v.id);
    await c.waitForVolumeDeleted(v.id, fast);
  });

  it('in-use volumes: attach through the contract, snapshot needs force, admin force-detach and reset', async () => {
    const c = cinder();
    const v = await newVolume(c, { size: 1, name: 'attached' });
    volumes().attach(v.id, 'server-1', '/dev/vdb');
    const inUse = await c.getVolume(v.id);
    expect(inUse.status).toBe('in-use');
    expect(inUse.attachments[0]).toMatchObject({
      server_id: 'server-1',
      device: '/dev/vdb',
      volume_id: v.id,
    });
    expect((await rejection(c.createSnapshot({ volume_id: v.id }))).status).toBe(400);
    const forced = await c.createSnapshot({ volume_id: v.id, force: true });
    await c.waitForSnapshot(forced.id, fast);
    expect((await rejection(c.deleteVolume(v.id))).status).toBe(400);
    expect((await rejection(c.forceDetach(v.id))).status).toBe(403);
    await cinder(ADMIN).forceDetach(v.id, inUse.attachments[0].attachment_id);
    expect((await c.getVolume(v.id)).status).toBe('available');
    await cinder(ADMIN).resetVolumeStatus(v.id, 'error');
    expect((await c.getVolume(v.id)).status).toBe('error');
    expect((await rejection(c.resetVolumeStatus(v.id, 'available'))).status).toBe(403);
    await c.deleteVolume(v.id, { cascade: true });
    await c.waitForVolumeDeleted(v.id, fast);
    expect(await c.findSnapshot(forced.id)).toBeUndefined();
  });

  it('attaches and detaches through the os-attach / os-detach actions, and answers version discovery', async () => {
    const s = session();
    const c = new CinderClient(s);
    const v = await newVolume(c, { size: 1, name: 'http-attach' });
    const action = (body: unknown) =>
      s.request('POST', { service: 'volumev3', path: `volumes/${v.id}/action` }, { json: body });
    await action({ 'os-attach': { instance_uuid: 'server-9', mountpoint: '/dev/vdc' } });
    const attached = await c.getVolume(v.id);
    expect(attached.status).toBe('in-use');
    expect(attached.attachments[0]).toMatchObject({ server_id: 'server-9', device: '/dev/vdc' });
    await action({ 'os-detach': { attachment_id: attached.attachments[0].attachment_id } });
    expect((await c.getVolume(v.id)).status).toBe('available');
    const bogus = await rejection(action({ 'os-frobnicate': {} }));
    expect(bogus.status).toBe(400);
    expect(bogus.osMessage).toBe('There is no such action: os-frobnicate');

    const base = cloud.sites.RegionOne.endpoints.volumev3;
    expect((await fetch(`${base}/`)).status).toBe(300);
    const v3 = (await (await fetch(`${base}/v3/`)).json()) as { versions: Array<{ version: string }> };
    expect(v3.versions[0].version).toBe('3.70');
  });

  it('uploads a volume to a new Glance image', async () => {
    const c = cinder();
    const v = await newVolume(c, { size: 1, name: 'to-image' });
    await writeAt(volumes().volumeDataPath(v.id), 0, Buffer.from('bootloader'));
    const r = await c.uploadToImage(v.id, { image_name: 'vol-image', disk_format: 'raw' });
    expect(r.status).toBe('uploading');
    const img = await glance().waitForImageActive(r.image_id, { intervalMs: 50, timeoutMs: 60_000 });
    expect(img.size).toBe(GiB);
    expect(img.disk_format).toBe('raw');
    await c.waitForVolume(v.id, ['available'], fast);
    const dl = await glance().downloadImage(r.image_id);
    const head: Buffer[] = [];
    for await (const chunk of dl!.stream) {
      head.push(chunk as Buffer);
      break;
    }
    dl!.stream.destroy();
    expect(head[0].subarray(0, 10).toString()).toBe('bootloader');
    await glance().deleteImage(r.image_id);
  }, 60_000);
});

describe('Cinder simulator and client: backups', () => {
  it('writes backup objects into Swift like the Swift driver and restores them (new and existing volume)', async () => {
    const c = cinder();
    const v = await newVolume(c, { size: 1, name: 'backed-up' });
    const path = volumes().volumeDataPath(v.id);
    await writeAt(path, 0, Buffer.from('first block'));
    await writeAt(path, 700 * 1024 * 1024, Buffer.from('deep inside'));
    const b = await c.createBackup({ volume_id: v.id, name: 'b1' });
    expect(['creating', 'available']).toContain(b.status);
    const done = await c.waitForBackup(b.id, fast);
    expect(done.container).toBe('volumebackups');
    expect(done.object_count).toBe(8);
    expect((await c.getVolume(v.id)).status).toBe('available');

    const names = swift().listObjects(`AUTH_${cloud.demo.projectId}`, 'volumebackups', `volume_${v.id}/`);
    const prefix = new RegExp(`^volume_${v.id}/\\d{14}/az_nova_backup_${b.id}`);
    expect(names.every((n) => prefix.test(n))).toBe(true);
    expect(names.filter((n) => /-\d{5}$/.test(n))).toHaveLength(8);
    expect(names.some((n) => n.endsWith('-00001'))).toBe(true);
    expect(names.some((n) => n.endsWith('_metadata'))).toBe(true);
    expect(names.some((n) => n.endsWith('_sha256file'))).toBe(true);

    const r = await c.restoreBackup(b.id, { name: 'restored' });
    const restored = await c.waitForVolume(r.volume_id, ['available'], fast);
    expect(restored.size).toBe(1);
    const rpath = volumes().volumeDataPath(r.volume_id);
    expect((await readAt(rpath, 0, 11)).toString()).toBe('first block');
    expect((await readAt(rpath, 700 * 1024 * 1024, 11)).toString()).toBe('deep inside');

    const target = await newVolume(c, { size: 2, name: 'restore-target' });
    await writeAt(volumes().volumeDataPath(target.id), 0, Buffer.from('old contents'));
    await c.restoreBackup(b.id, { volume_id: target.id });
    await c.waitForVolume(target.id, ['available'], fast);
    expect((await readAt(volumes().volumeDataPath(target.id), 0, 12)).toString()).toBe('first block\0');

    const incremental = await c.createBackup({ volume_id: v.id, incremental: true, container: 'mine' });
    const inc = await c.waitForBackup(incremental.id, fast);
    expect(inc.is_incremental).toBe(true);
    expect(inc.container).toBe('mine');
    expect((await c.getBackup(b.id)).has_dependent_backups).toBe(true);
    expect((await rejection(c.deleteBackup(b.id))).status).toBe(400);
    await c.deleteBackup(inc.id);
    await c.waitForBackupDeleted(inc.id, fast);
    expect(swift().listObjects(`AUTH_${cloud.demo.projectId}`, 'mine')).toEqual([]);
    expect((await c.listBackups({ volume_id: v.id })).map((x) => x.id)).toEqual([b.id]);
  }, 60_000);

  it('backs up a snapshot (bytes of the snapshot time) and creates a volume from a backup (3.47)', async () => {
    const c = cinder();
    const v = await newVolume(c, { size: 1, name: 'snap-backup-src' });
    const path = volumes().volumeDataPath(v.id);
    await writeAt(path, 0, Buffer.from('at snapshot time'));
    const snap = await c.waitForSnapshot((await c.createSnapshot({ volume_id: v.id })).id, fast);
    await writeAt(path, 0, Buffer.from('later, not in it'));
    const b = await c.waitForBackup(
      (await c.createBackup({ volume_id: v.id, snapshot_id: snap.id })).id,
      fast,
    );
    expect(b.snapshot_id).toBe(snap.id);
    expect((await c.getSnapshot(snap.id)).status).toBe('available');
    const fromBackup = await newVolume(c, { backup_id: b.id, name: 'from-backup' });
    expect(fromBackup.size).toBe(1);
    expect((await readAt(volumes().volumeDataPath(fromBackup.id), 0, 16)).toString()).toBe(
      'at snapshot time',
    );
  });

  it('exports a backup record at one site, imports it at the other and restores there', async () => {
    const demo = cinder();
    const v = await newVolume(demo, { size: 1, name: 'dr-source' });
    await writeAt(volumes().volumeDataPath(v.id), 1024, Buffer.from('recover me'));
    const b = await demo.waitForBackup((await demo.createBackup({ volume_id: v.id })).id, fast);

    expect((await rejection(demo.exportBackupRecord(b.id))).status).toBe(403);
    const record = await cinder(ADMIN).exportBackupRecord(b.id);
    expect(record.backup_service).toBe('cinder.backup.drivers.swift.SwiftBackupDriver');
    expect(JSON.parse(Buffer.from(record.backup_url, 'base64').toString()).id).toBe(b.id);

    const two = cinder(ADMIN, 'RegionTwo');
    const imported = await two.importBackupRecord(record);
    expect(imported.id).toBe(b.id);
    const ready = await two.waitForBackup(imported.id, fast);
    expect(ready.size).toBe(1);
    expect((await rejection(two.importBackupRecord(record))).status).toBe(400);
    const r = await two.restoreBackup(imported.id, { name: 'recovered' });
    await two.waitForVolume(r.volume_id, ['available'], fast);
    expect((await readAt(volumes('RegionTwo').volumeDataPath(r.volume_id), 1024, 10)).toString()).toBe(
      'recover me',
    );

    const bogus = {
      ...record,
      backup_url: Buffer.from(JSON.stringify({ service_metadata: 'nothing/here' })).toString('base64'),
    };
    const broken = await two.importBackupRecord(bogus);
    await expect(two.waitForBackup(broken.id, fast)).rejects.toThrow(
      /went to error: .*not in this site's Swift/,
    );
  }, 60_000);

  it('a volume whose restore fails goes to error and the wait says why', async () => {
    const c = cinder();
    const v = await newVolume(c, { size: 1 });
    const b = await c.waitForBackup((await c.createBackup({ volume_id: v.id })).id, fast);
    // The bank lost the objects behind Cinder's back.
    for (const n of swift().listObjects(`AUTH_${cloud.demo.projectId}`, 'volumebackups', `volume_${v.id}/`))
      swift().deleteObject(`AUTH_${cloud.demo.projectId}`, 'volumebackups', n);
    const created = await c.createVolume({ backup_id: b.id, name: 'from-lost-backup' });
    await expect(c.waitForVolume(created.id, ['available'], fast)).rejects.toThrow(
      new RegExp(`volume ${created.id} went to error: backup metadata .* not found`),
    );
    expect((await c.listMessages(created.id))[0].user_message).toContain('not found');
  });
});

describe('Cinder simulator and client: types, replication, manage, quotas, faults', () => {
  it('lists volume types; the replicated type shows replication_enabled', async () => {
    const types = await cinder().listVolumeTypes();
    expect(types.map((t) => t.name).sort()).toEqual(['__DEFAULT__', 'lvmdriver-1', 'replicated']);
    const rep = await cinder().getVolumeType('replicated');
    expect(rep.extra_specs).toEqual({ replication_enabled: '<is> True' });
    expect((await cinder(ADMIN).getVolumeType('replicated')).extra_specs.volume_backend_name).toBe(
      'lvmdriver-1',
    );
    expect((await rejection(cinder().getVolumeType('gold'))).status).toBe(404);
  });

  it('mirrors a replicated volume; after losing the primary the replica is managed at the other site', async () => {
    const c = cinder();
    const v = await newVolume(c, { size: 1, volume_type: 'replicated', name: 'replicated-1' });
    expect(v.replication_status).toBe('enabled');
    expect(v.metadata.replica_id).toBe(`volume-${v.id}`);
    await writeAt(volumes().volumeDataPath(v.id), 8192, Buffer.from('written after the last checkpoint'));

    cloud.faults.RegionOne.outage = true;
    try {
      const admin2 = cinder(ADMIN, 'RegionTwo');
      const offered = await admin2.listManageableVolumes('cinder@lvmdriver-1#lvmdriver-1');
      expect(offered.find((m) => m.reference['source-name'] === v.metadata.replica_id)?.safe_to_manage).toBe(
        true,
      );
      const managed = await admin2.manageVolume({
        host: 'cinder@lvmdriver-1#lvmdriver-1',
        ref: { 'source-name': v.metadata.replica_id },
        name: 'promoted',
      });
      const ready = await admin2.waitForVolume(managed.id, ['available'], fast);
      expect(ready.size).toBe(1);
      expect((await readAt(volumes('RegionTwo').volumeDataPath(managed.id), 8192, 33)).toString()).toBe(
        'written after the last checkpoint',
      );
      const missing = await rejection(
        admin2.manageVolume({ host: 'h', ref: { 'source-name': 'volume-nope' } }),
      );
      expect(missing.status).toBe(400);
      expect((await rejection(cinder(DEMO, 'RegionTwo').manageVolume({ host: 'h', ref: {} }))).status).toBe(
        403,
      );
    } finally {
      cloud.faults.RegionOne.outage = false;
    }
  });

  it('reports quota usage and refuses volumes over quota with 413', async () => {
    const c = cinder(OTHER);
    const before = await c.getQuotaUsage(otherProjectId);
    expect(before.volumes).toMatchObject({ limit: 10, in_use: 0 });
    await newVolume(c, { size: 2 });
    const after = await c.getQuotaUsage(otherProjectId);
    expect(after.volumes.in_use).toBe(1);
    expect(after.gigabytes.in_use).toBe(2);
    await cinder(ADMIN).updateQuota(otherProjectId, { gigabytes: 3 });
    const over = await rejection(c.createVolume({ size: 2 }));
    expect(over.status).toBe(413);
    expect(over.osMessage).toContain('gigabytes quota');
    expect((await rejection(c.updateQuota(otherProjectId, { volumes: 100 }))).status).toBe(403);
  });

  it('retries through a 503 burst; a stuck volume stays creating and the wait names it', async () => {
    const c = cinder();
    cloud.faults.RegionOne.set('volumev3', { errorBurst: 2, methods: ['GET'] });
    try {
      expect(Array.isArray(await c.listVolumeTypes())).toBe(true);
    } finally {
      cloud.faults.RegionOne.set('volumev3', undefined);
    }
    cloud.faults.RegionOne.stuck.add('stuck-volume');
    try {
      const v = await c.createVolume({ size: 1, name: 'stuck-volume' });
      await expect(c.waitForVolume(v.id, ['available'], { intervalMs: 30, timeoutMs: 400 })).rejects.toThrow(
        `volume ${v.id} still creating`,
      );
    } finally {
      cloud.faults.RegionOne.stuck.delete('stuck-volume');
    }
  });
});

describe('Cinder simulator restart', () => {
  it('settles work that was in flight when it stopped, like init_host after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cinder-restart-'));
    const root = join(dataDir, 'RegionX', 'cinder');
    mkdirSync(root, { recursive: true });
    const vol = (id: string, status: string, previous?: string) => ({
      id,
      status,
      previous_status: previous,
      size: 1,
      project_id: 'p',
      attachments: [],
      metadata: {},
    });
    writeFileSync(
      join(root, 'state.json'),
      JSON.stringify({
        volumes: { a: vol('a', 'creating'), b: vol('b', 'backing-up', 'in-use'), c: vol('c', 'available') },
        backups: { k: { id: 'k', status: 'creating' } },
      }),
    );
    const site = {
      region: 'RegionX',
      dataDir: join(dataDir, 'RegionX'),
      faults: new SiteFaults(),
      auth: (_req: unknown, _res: unknown, next: () => void) => next(),
    } as unknown as SiteContext;
    const restarted = makeCinderService()(site) as VolumeServiceApi;
    expect(restarted.getVolume('a')?.status).toBe('error');
    expect(restarted.getVolume('b')?.status).toBe('in-use');
    expect(restarted.getVolume('c')?.status).toBe('available');
    await restarted.stop?.();
  });
});
