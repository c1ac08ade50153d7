import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import volumeReplication from '../../../plugins/volume-replication/index.js';
import volumeSnapshot from '../../../plugins/volume-snapshot/index.js';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import type { VolumeServiceApi } from '../../../services/cloudsim/contracts.js';
import { allServices } from '../../../services/cloudsim/services.js';
import type { SiteClients } from '../../../services/engine/plugin-api.js';
import {
  ADMIN,
  DirBank,
  protectContext,
  randomImage,
  recoverContext,
  sha256OfFile,
  siteClients,
} from './plugin-helpers.js';

// Volumes are whole GiB: every copy below moves 1 GiB through Glance or Swift.
vi.setConfig({ testTimeout: 240_000 });
const VOLUME = 'OS::Cinder::Volume';
const fast = { intervalMs: 20, maxIntervalMs: 200, timeoutMs: 60_000 };
let cloud: RunningCloud;
let primary: SiteClients;
let backup: SiteClients;
let imageId: string;

const volumeFile = (region: string, id: string) =>
  (cloud.sites[region].services.get('volumev3') as VolumeServiceApi).volumeDataPath(id);

async function dataVolume(name: string, type?: string): Promise<string> {
  const v = await primary.cinder.createVolume({
    size: 1,
    name,
    imageRef: imageId,
    ...(type ? { volume_type: type } : {}),
  });
  await primary.cinder.waitForVolume(v.id, ['available'], fast);
  return v.id;
}

/** Everything Dragon may create at the primary while protecting: all must be gone afterwards. */
async function leftovers(): Promise<string[]> {
  const [snaps, vols, backups, images] = await Promise.all([
    primary.cinder.listSnapshots(),
    primary.cinder.listVolumes(),
    primary.cinder.listBackups(),
    primary.glance.listImages(),
  ]);
  return [
    ...snaps.map((s) => `snapshot ${s.id} ${s.status}`),
    ...vols.filter((v) => (v.name ?? '').startsWith('dragon-')).map((v) => `volume ${v.id} ${v.status}`),
    ...backups.map((b) => `backup ${b.id} ${b.status}`),
    ...images.filter((i) => (i.name ?? '').startsWith('dragon-')).map((i) => `image ${i.id} ${i.status}`),
  ];
}

async function backupObjectsAtPrimary(): Promise<string[]> {
  const info = await primary.swift.containerInfo('volumebackups');
  if (!info) return [];
  return (await primary.swift.listObjects('volumebackups')).map((o) => o.name);
}

beforeAll(async () => {
  cloud = await startCloud({ services: allServices });
  primary = siteClients(cloud, 'RegionOne');
  backup = siteClients(cloud, 'RegionTwo');
  for (const region of ['RegionOne', 'RegionTwo'])
    await siteClients(cloud, region, ADMIN).cinder.updateQuota(cloud.demo.projectId, {
      volumes: 100,
      snapshots: 100,
      backups: 100,
      gigabytes: 1000,
      backup_gigabytes: 1000,
    });
  imageId = (await randomImage(primary, 'data-seed', 2 * 1024 * 1024 + 5)).id;
});
afterAll(async () => {
  await cloud?.close();
});

describe('volume-snapshot', () => {
  for (const method of ['image', 'backup'] as const) {
    it(`method ${method}: saves the volume's bytes and recovers them into a new volume at the backup site`, async () => {
      const volumeId = await dataVolume(`data-${method}`);
      const want = await sha256OfFile(volumeFile('RegionOne', volumeId));
      const bank = new DirBank();
      const ctx = protectContext(
        { primary, backup },
        bank,
        { id: volumeId, type: VOLUME },
        { method, timeout_s: 60 },
      );
      const saved = (await volumeSnapshot.protect!(ctx)) as Record<string, unknown>;
      expect(saved).toMatchObject({ method, volume_id: volumeId, size: 1, name: `data-${method}` });
      expect(await leftovers()).toEqual([]);
      expect(await backupObjectsAtPrimary()).toEqual([]);
      if (method === 'image') expect(bank.stat(`volumes/${volumeId}.img`)?.sha256).toBe(want);
      else
        expect(bank.list(`volumes/${volumeId}/backup/`).some((o) => o.name.endsWith('_metadata'))).toBe(true);
      expect(ctx.rec.progress.at(-1)?.percent).toBe(100);
      expect(ctx.rec.progress.some((p) => ((p.detail?.bytes_done as number) ?? 0) > 0)).toBe(true);

      const out = (await volumeSnapshot.recover!(
        recoverContext(backup, bank, { id: volumeId, type: VOLUME }, saved, { timeout_s: 60 }),
      )) as { volume_id: string };
      const recovered = await backup.cinder.getVolume(out.volume_id);
      expect(recovered).toMatchObject({ status: 'available', size: 1, name: `data-${method}` });
      expect(await sha256OfFile(volumeFile('RegionTwo', out.volume_id))).toBe(want);
      // The image that carried the bytes into Cinder at the backup site is gone again.
      expect((await backup.glance.listImages()).filter((i) => (i.name ?? '').startsWith('dragon-'))).toEqual(
        [],
      );
    });
  }

  it('backs up an in-use volume (through a forced snapshot)', async () => {
    const volumeId = await dataVolume('attached');
    const server = await primary.nova.createServer({
      name: 'app',
      flavorRef: '1',
      imageRef: imageId,
      networks: 'none',
    });
    await primary.nova.waitForServer(server.id, 'ACTIVE', fast);
    await primary.nova.attachVolume(server.id, volumeId);
    await primary.cinder.waitForVolume(volumeId, ['in-use'], fast);
    const want = await sha256OfFile(volumeFile('RegionOne', volumeId));
    const bank = new DirBank();
    const saved = await volumeSnapshot.protect!(
      protectContext({ primary, backup }, bank, { id: volumeId, type: VOLUME }),
    );
    expect(await leftovers()).toEqual([]);
    expect((await primary.cinder.getVolume(volumeId)).status).toBe('in-use');
    const out = (await volumeSnapshot.recover!(
      recoverContext(backup, bank, { id: volumeId, type: VOLUME }, saved),
    )) as {
      volume_id: string;
    };
    expect(await sha256OfFile(volumeFile('RegionTwo', out.volume_id))).toBe(want);
  });

  it('explains a snapshot of an in-use volume stuck in creating (Nova-assisted snapshots the compute driver never did)', async () => {
    const volumeId = await dataVolume('assisted');
    const server = await primary.nova.createServer({
      name: 'nfs-app',
      flavorRef: '1',
      imageRef: imageId,
      networks: 'none',
    });
    await primary.nova.waitForServer(server.id, 'ACTIVE', fast);
    await primary.nova.attachVolume(server.id, volumeId);
    await primary.cinder.waitForVolume(volumeId, ['in-use'], fast);
    // As on an NFS backend with Nova's fake driver: Cinder reports the snapshot `creating`
    // for ever — until Dragon's clean-up looks it up (then the truth, so clean-up can finish).
    let hold = true;
    const get = primary.cinder.getSnapshot.bind(primary.cinder);
    const find = primary.cinder.findSnapshot.bind(primary.cinder);
    const spyGet = vi.spyOn(primary.cinder, 'getSnapshot').mockImplementation(async (id) => {
      const s = await get(id);
      return hold ? { ...s, status: 'creating' } : s;
    });
    const spyFind = vi.spyOn(primary.cinder, 'findSnapshot').mockImplementation(async (id) => {
      hold = false;
      return find(id);
    });
    try {
      await expect(
        volumeSnapshot.protect!(
          protectContext(
            { primary, backup },
            new DirBank(),
            { id: volumeId, type: VOLUME },
            { timeout_s: 1 },
          ),
        ),
      ).rejects.toThrow(
        /still creating after 1 s.*attached \(in-use\).*assisted snapshot.*Detach the volume/,
      );
    } finally {
      spyGet.mockRestore();
      spyFind.mockRestore();
    }
    expect(await leftovers()).toEqual([]);
  });

  it('cleans up the primary when the bank fails mid-protect', async () => {
    const volumeId = await dataVolume('bank-fails');
    for (const method of ['image', 'backup']) {
      const bank = new DirBank();
      bank.beforePut = (name) => {
        throw new Error(`bank refused ${name}`);
      };
      await expect(
        volumeSnapshot.protect!(
          protectContext({ primary, backup }, bank, { id: volumeId, type: VOLUME }, { method }),
        ),
      ).rejects.toThrow(/bank refused volumes\//);
      expect(await leftovers()).toEqual([]);
      expect(await backupObjectsAtPrimary()).toEqual([]);
    }
  });

  it('cleans up the primary when the step is aborted while it waits', async () => {
    const volumeId = await dataVolume('aborted');
    for (const method of ['image', 'backup']) {
      const ctx = protectContext(
        { primary, backup },
        new DirBank(),
        { id: volumeId, type: VOLUME },
        { method },
      );
      // Cancel right after the snapshot is available: the step is then waiting for a volume or a backup.
      ctx.progress = (percent, detail) => {
        ctx.rec.progress.push({ percent, detail });
        if (percent >= 2) ctx.rec.controller.abort(new Error('cancelled by the user'));
      };
      await expect(volumeSnapshot.protect!(ctx)).rejects.toThrow('cancelled by the user');
      expect(await leftovers()).toEqual([]);
      expect(await backupObjectsAtPrimary()).toEqual([]);
    }
  });
  it('removes what an earlier attempt left at the primary when it is retried', async () => {
    const volumeId = await dataVolume('retried');
    // An engine died after making the snapshot: the takeover runs the step again (attempt 2).
    const stale = await primary.cinder.createSnapshot({
      volume_id: volumeId,
      name: `dragon-cp-1-${volumeId}`,
    });
    await primary.cinder.waitForSnapshot(stale.id, fast);
    const ctx = protectContext(
      { primary, backup },
      new DirBank(),
      { id: volumeId, type: VOLUME },
      { method: 'backup' },
    );
    ctx.attempt = 2;
    await volumeSnapshot.protect!(ctx);
    expect(await primary.cinder.findSnapshot(stale.id)).toBeUndefined();
    expect(await leftovers()).toEqual([]);
  });
});

describe('volume-replication', () => {
  it('refuses a volume whose type is not replicated', async () => {
    const volumeId = await dataVolume('plain');
    const type = (await primary.cinder.getVolume(volumeId)).volume_type;
    await expect(
      volumeReplication.protect!(
        protectContext({ primary, backup }, new DirBank(), { id: volumeId, type: VOLUME }),
      ),
    ).rejects.toThrow(`volume ${volumeId} has type ${type} which is not replicated; use volume-snapshot`);
  });

  it('records the replica without copying data and takes it over at the backup site', async () => {
    const volumeId = await dataVolume('replicated-db', 'replicated');
    const bank = new DirBank();
    const saved = (await volumeReplication.protect!(
      protectContext({ primary, backup }, bank, { id: volumeId, type: VOLUME }),
    )) as Record<string, unknown>;
    expect(saved).toMatchObject({
      volume_id: volumeId,
      volume_type: 'replicated',
      replication_status: 'enabled',
      source_name: `volume-${volumeId}`,
    });
    expect(bank.puts).toEqual([]);
    // The guest writes after the protect: replication carries it to the other site, a snapshot would not.
    const disk = await open(volumeFile('RegionOne', volumeId), 'r+');
    await disk.write(randomBytes(4096), 0, 4096, 1024 * 1024);
    await disk.close();
    const want = await sha256OfFile(volumeFile('RegionOne', volumeId));

    const options = { backup_host: 'cinder@lvmdriver-1#lvmdriver-1', timeout_s: 60 };
    const resource = { id: volumeId, type: VOLUME };
    // Dry run: a member cannot list manageable volumes (warned); an admin sees the replica (no problem);
    // a replica name the backend does not have is a problem.
    const memberPlan = await volumeReplication.plan!(recoverContext(backup, bank, resource, saved, options));
    expect(memberPlan.problems ?? []).toEqual([]);
    expect(memberPlan.warnings?.[0]).toMatch(/admin-only/);
    const adminSite = siteClients(cloud, 'RegionTwo', ADMIN);
    expect(await volumeReplication.plan!(recoverContext(adminSite, bank, resource, saved, options))).toEqual({
      summary: expect.stringContaining(`replica volume-${volumeId}`),
      bytes: 0,
    });
    const missing = await volumeReplication.plan!(
      recoverContext(adminSite, bank, resource, { ...saved, source_name: 'volume-nothere' }, options),
    );
    expect(missing.problems?.[0]).toMatchObject({ kind: 'replica', subject: volumeId });

    await expect(
      volumeReplication.recover!(
        recoverContext(backup, bank, { id: volumeId, type: VOLUME }, saved, options),
      ),
    ).rejects.toThrow(/admin-only in Cinder's default policy/);

    const adminBackup = adminSite;
    const out = (await volumeReplication.recover!(
      recoverContext(adminBackup, bank, { id: volumeId, type: VOLUME }, saved, options),
    )) as { volume_id: string };
    expect((await adminBackup.cinder.getVolume(out.volume_id)).status).toBe('available');
    expect(await sha256OfFile(volumeFile('RegionTwo', out.volume_id))).toBe(want);
  });
});
