import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import imageCopy from '../../../plugins/image-copy/index.js';
import serverSnapshot from '../../../plugins/server-snapshot/index.js';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { SEED_IMAGE_NAME } from '../../../services/cloudsim/glance.js';
import { allServices } from '../../../services/cloudsim/services.js';
import { GlanceClient } from '../../../services/common/openstack/glance.js';
import { isTransient, type SiteClients } from '../../../services/engine/plugin-api.js';
import {
  DirBank,
  imageSha256,
  protectContext,
  randomImage,
  recoverContext,
  siteClients,
} from './plugin-helpers.js';

vi.setConfig({ testTimeout: 60_000 });
const SERVER = 'OS::Nova::Server';
let cloud: RunningCloud;
let primary: SiteClients;
let backup: SiteClients;
let image: { id: string; sha256: string };

async function boot(name: string, imageRef: string): Promise<string> {
  const created = await primary.nova.createServer({ name, flavorRef: '1', imageRef, networks: 'none' });
  await primary.nova.waitForServer(created.id, 'ACTIVE', { intervalMs: 20, timeoutMs: 30_000 });
  return created.id;
}

/** The primary's images named like a Dragon snapshot: what server-snapshot must never leave behind. */
async function leftoverSnapshots(): Promise<string[]> {
  const all = await primary.glance.listImages();
  return all.filter((i) => (i.name ?? '').startsWith('dragon-snapshot-')).map((i) => `${i.id} ${i.status}`);
}

beforeAll(async () => {
  cloud = await startCloud({ services: allServices });
  primary = siteClients(cloud, 'RegionOne');
  backup = siteClients(cloud, 'RegionTwo');
  image = await randomImage(primary, 'app-image');
});
afterAll(async () => {
  await cloud?.close();
});

describe('image-copy', () => {
  it('copies the base image into the bank and recovers it byte for byte at the backup site', async () => {
    const serverId = await boot('web-1', image.id);
    const bank = new DirBank();
    const ctx = protectContext({ primary, backup }, bank, { id: serverId, type: SERVER });
    const saved = (await imageCopy.protect!(ctx)) as Record<string, unknown>;
    expect(saved).toMatchObject({ image_id: image.id, object: `images/${image.id}.img`, shared: false });
    expect(bank.stat(`images/${image.id}.img`)?.sha256).toBe(image.sha256);
    const meta = await bank.getJson<Record<string, unknown>>(`images/${image.id}.json`);
    expect(meta).toMatchObject({ name: 'app-image', disk_format: 'raw', properties: { purpose: 'dr-test' } });
    expect(ctx.rec.progress.at(-1)?.detail?.bytes_done).toBe(bank.stat(`images/${image.id}.img`)?.size);

    const rctx = recoverContext(backup, bank, { id: serverId, type: SERVER }, saved);
    const out = (await imageCopy.recover!(rctx)) as { image: string; reused: boolean; created: unknown[] };
    expect(out.reused).toBe(false);
    expect(out.created).toEqual([{ type: 'OS::Glance::Image', id: out.image }]);
    const recovered = await backup.glance.getImage(out.image);
    expect(recovered).toMatchObject({ status: 'active', name: 'app-image', purpose: 'dr-test' });
    expect(await imageSha256(backup, out.image)).toBe(image.sha256);

    // A second recovery finds the same bytes already at the backup site and reuses them.
    const again = (await imageCopy.recover!(
      recoverContext(backup, bank, { id: serverId, type: SERVER }, saved),
    )) as { image: string; reused: boolean };
    expect(again).toEqual({ image: out.image, reused: true, created: [] });
  });

  it('copies an image once per checkpoint when two servers boot from it', async () => {
    const a = await boot('app-1', image.id);
    const b = await boot('app-2', image.id);
    const bank = new DirBank();
    const [sa, sb] = (await Promise.all([
      imageCopy.protect!(
        protectContext({ primary, backup }, bank, { id: a, type: SERVER }, {}, undefined, 'cp-two'),
      ),
      imageCopy.protect!(
        protectContext({ primary, backup }, bank, { id: b, type: SERVER }, {}, undefined, 'cp-two'),
      ),
    ])) as Array<{ object: string; shared: boolean }>;
    expect(sa.object).toBe(sb.object);
    expect([sa.shared, sb.shared].sort()).toEqual([false, true]);
    expect(bank.puts.filter((n) => n.endsWith('.img'))).toEqual([`images/${image.id}.img`]);
  });

  it('lets the other servers of an image go on while the first one copies it', async () => {
    const a = await boot('slot-1', image.id);
    const b = await boot('slot-2', image.id);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    // The copy into the bank stalls until released: the second server's step must not wait for it.
    let copying = false;
    const bank = new (class extends DirBank {
      override async put(...args: Parameters<DirBank['put']>) {
        if (args[0].endsWith('.img')) {
          copying = true;
          await gate;
        }
        return super.put(...args);
      }
    })();
    const ctx = (id: string) =>
      protectContext({ primary, backup }, bank, { id, type: SERVER }, {}, undefined, 'cp-slots');
    let copied = false;
    const first = imageCopy.protect!(ctx(a)).then((saved) => {
      copied = true;
      return saved as { object: string; shared: boolean };
    });
    // Let the first step reach the copy before the second asks.
    while (!copying) await new Promise((r) => setTimeout(r, 10));
    const second = (await imageCopy.protect!(ctx(b))) as { object: string; shared: boolean; size: number };
    expect(copied).toBe(false);
    expect(second).toMatchObject({ object: `images/${image.id}.img`, shared: true });
    release();
    const saved = await first;
    expect(saved).toMatchObject({ object: second.object, shared: false });
    expect(bank.stat(second.object)?.size).toBe(second.size);
  });

  it('refuses an image whose bytes do not match the MD5 checksum Glance records', async () => {
    const serverId = await boot('web-md5', image.id);
    // The bank's MD5 of what it wrote is what the plugin compares: bytes changed on the way look like this.
    const bank = new (class extends DirBank {
      override async put(...args: Parameters<DirBank['put']>) {
        const written = await super.put(...args);
        return args[0].endsWith('.img') ? { ...written, md5: '0'.repeat(32) } : written;
      }
    })();
    const ctx = protectContext(
      { primary, backup },
      bank,
      { id: serverId, type: SERVER },
      {},
      undefined,
      'cp-md5',
    );
    await expect(imageCopy.protect!(ctx)).rejects.toThrow(
      new RegExp(`image ${image.id} read back with MD5 0{32} but Glance records [0-9a-f]{32}; not saved`),
    );
  });

  it('reuses the public image the backup site already has instead of uploading', async () => {
    const [cirrosAtPrimary] = await primary.glance.listImages({ name: SEED_IMAGE_NAME });
    const [cirrosAtBackup] = await backup.glance.listImages({ name: SEED_IMAGE_NAME });
    const serverId = await boot('cirros-1', cirrosAtPrimary.id);
    const bank = new DirBank();
    const saved = await imageCopy.protect!(
      protectContext({ primary, backup }, bank, { id: serverId, type: SERVER }, {}, undefined, 'cp-cirros'),
    );
    const before = (await backup.glance.listImages()).length;
    const out = await imageCopy.recover!(recoverContext(backup, bank, { id: serverId, type: SERVER }, saved));
    expect(out).toEqual({ image: cirrosAtBackup.id, reused: true, created: [] });
    expect((await backup.glance.listImages()).length).toBe(before);
  });

  it('turns a burst of 503 from Glance into a retryable error', async () => {
    const serverId = await boot('web-503', image.id);
    cloud.faults.RegionOne.set('image', { errorBurst: 50, methods: ['GET'] });
    try {
      const err = await imageCopy.protect!(
        protectContext(
          { primary, backup },
          new DirBank(),
          { id: serverId, type: SERVER },
          {},
          undefined,
          'cp-503',
        ),
      ).catch((e: unknown) => e);
      expect(isTransient(err)).toBe(true);
      expect((err as Error).message).toMatch(/image .*503/);
    } finally {
      cloud.faults.RegionOne.set('image', undefined);
    }
  });
});

describe('server-snapshot', () => {
  it('snapshots the server into the bank, deletes the snapshot at the primary, recovers the bytes', async () => {
    // Bytes the backup site has not seen yet, so recovery must upload them.
    const dbImage = await randomImage(primary, 'db-image');
    const serverId = await boot('db-1', dbImage.id);
    const bank = new DirBank();
    const ctx = protectContext({ primary, backup }, bank, { id: serverId, type: SERVER }, { timeout_s: 30 });
    const saved = (await serverSnapshot.protect!(ctx)) as { image_id: string; object: string };
    expect(await primary.glance.findImage(saved.image_id)).toBeUndefined();
    expect(await leftoverSnapshots()).toEqual([]);
    expect(bank.stat(saved.object)?.sha256).toBe(dbImage.sha256);
    expect(
      ctx.rec.progress.some(
        (p) => typeof p.detail?.bytes_done === 'number' && (p.detail.bytes_done as number) > 0,
      ),
    ).toBe(true);

    const out = (await serverSnapshot.recover!(
      recoverContext(backup, bank, { id: serverId, type: SERVER }, saved),
    )) as { image: string; reused: boolean };
    const recovered = await backup.glance.getImage(out.image);
    expect(recovered.status).toBe('active');
    expect(out.reused).toBe(false);
    expect(recovered.image_type).toBe('snapshot');
    expect(await imageSha256(backup, out.image)).toBe(dbImage.sha256);
  });

  it('names a snapshot that stays queued (like Nova fake driver) and still deletes it', async () => {
    const serverId = await boot('db-queued', image.id);
    // A Glance that always reports the snapshot queued, as with Nova's fake virt driver.
    class QueuedGlance extends GlanceClient {
      override async getImage(id: string) {
        return { ...(await super.getImage(id)), status: 'queued' };
      }
    }
    const stuck = { ...primary, glance: new QueuedGlance(primary.glance.session, { region: 'RegionOne' }) };
    const ctx = protectContext(
      { primary: stuck, backup },
      new DirBank(),
      { id: serverId, type: SERVER },
      { timeout_s: 1 },
    );
    await expect(serverSnapshot.protect!(ctx)).rejects.toThrow(
      new RegExp(`snapshot image \\S+ of server ${serverId} stayed queued for 1 s`),
    );
    expect(await leftoverSnapshots()).toEqual([]);
  });

  it('deletes the snapshot at the primary when the bank fails and when the step is aborted', async () => {
    const serverId = await boot('db-fail', image.id);
    const failing = new DirBank();
    failing.beforePut = () => {
      throw new Error('bank unavailable');
    };
    await expect(
      serverSnapshot.protect!(
        protectContext({ primary, backup }, failing, { id: serverId, type: SERVER }, { timeout_s: 30 }),
      ),
    ).rejects.toThrow('bank unavailable');
    expect(await leftoverSnapshots()).toEqual([]);

    const aborting = new DirBank();
    const ctx = protectContext(
      { primary, backup },
      aborting,
      { id: serverId, type: SERVER },
      { timeout_s: 30 },
    );
    aborting.beforePut = () => ctx.rec.controller.abort(new Error('cancelled by the user'));
    await expect(serverSnapshot.protect!(ctx)).rejects.toThrow('cancelled by the user');
    expect(await leftoverSnapshots()).toEqual([]);
  });
});
