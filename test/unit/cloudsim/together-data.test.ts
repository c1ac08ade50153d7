/**
 * Bytes moving between services over HTTP: Nova's createImage writes the
 * server's disk into Glance; a Cinder backup lands as objects in the
 * project's Swift container `volumebackups` (seen through SwiftClient) and
 * its restore holds the same bytes (read back through upload-to-image).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../../../services/cloudsim/cloud.js';
import { SEED_IMAGE_NAME } from '../../../services/cloudsim/glance.js';
import { type Clients, clientsOf, startWholeCloud } from './together-support.js';

/** sha256 of a stream (of its first `limit` bytes when given) and how many bytes it had. */
async function digest(stream: Readable, limit = Number.POSITIVE_INFINITY) {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const take = Math.max(0, Math.min(chunk.length, limit - size));
    if (take > 0) h.update(chunk.subarray(0, take));
    size += chunk.length;
  }
  return { sha256: h.digest('hex'), size };
}

async function imageDigest(c: Clients, id: string, limit?: number) {
  const d = await c.glance.downloadImage(id);
  if (!d) throw new Error(`image ${id} has no data`);
  return digest(d.stream, limit);
}

let cloud: RunningCloud;
let c: Clients;
let cirros: { id: string; sha256: string; size: number };

beforeAll(async () => {
  cloud = await startWholeCloud();
  c = clientsOf(cloud);
  const [image] = await c.glance.listImages({ name: SEED_IMAGE_NAME });
  cirros = { id: image.id, ...(await imageDigest(c, image.id)) };
});
afterAll(async () => {
  await cloud?.close();
});

describe('data between Nova, Glance, Cinder and Swift', () => {
  it('Nova createImage of a server booted from an image → an active Glance image with the disk bytes', async () => {
    const [net] = await c.neutron.listNetworks({ name: 'public' });
    const flavor = await c.nova.findFlavor('m1.tiny');
    const created = await c.nova.createServer({
      name: 'snap-me',
      flavorRef: flavor!.id,
      imageRef: cirros.id,
      networks: [{ uuid: net.id }],
    });
    await c.nova.waitForServer(created.id, 'ACTIVE', { timeoutMs: 30_000 });
    const imageId = await c.nova.createImage(created.id, 'snap-me-image', { purpose: 'dr-test' });
    const image = await c.glance.waitForImageActive(imageId, { timeoutMs: 60_000 });
    expect(image).toMatchObject({ name: 'snap-me-image', status: 'active' });
    // Glance v2 shows extra properties at the top level, as Nova sets them on a snapshot.
    expect(image).toMatchObject({ instance_uuid: created.id, image_type: 'snapshot', purpose: 'dr-test' });
    const snap = await imageDigest(c, imageId, cirros.size);
    // The root disk was written from the image: its first bytes are the image's.
    expect(snap.sha256).toBe(cirros.sha256);
    expect(snap.size).toBe(image.size);
    await c.nova.deleteServer(created.id);
    await c.nova.waitForServerDeleted(created.id, { timeoutMs: 30_000 });
  }, 120_000);

  it('a Cinder backup of a detached volume is objects in Swift `volumebackups`; the restore holds the same bytes', async () => {
    const source = await c.cinder.createVolume({ name: 'precious', size: 1, imageRef: cirros.id });
    await c.cinder.waitForVolume(source.id, ['available'], { timeoutMs: 60_000 });

    const backup = await c.cinder.createBackup({ volume_id: source.id, name: 'precious-backup' });
    const done = await c.cinder.waitForBackup(backup.id, { timeoutMs: 120_000 });
    expect(done).toMatchObject({ status: 'available', container: 'volumebackups', size: 1 });

    const objects = await c.swift.listObjects('volumebackups');
    const mine = objects.filter((o) => o.name?.includes(backup.id));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.reduce((n, o) => n + (o.bytes ?? 0), 0)).toBeGreaterThan(0);

    const restored = await c.cinder.restoreBackup(backup.id, { name: 'precious-restored' });
    await c.cinder.waitForVolume(restored.volume_id, ['available'], { timeoutMs: 120_000 });

    // Read both volumes through Glance (upload-to-image): the restore equals the original.
    const read = async (volumeId: string, name: string) => {
      const up = await c.cinder.uploadToImage(volumeId, { image_name: name });
      await c.glance.waitForImageActive(up.image_id, { timeoutMs: 120_000 });
      await c.cinder.waitForVolume(volumeId, ['available'], { timeoutMs: 60_000 });
      return imageDigest(c, up.image_id);
    };
    const original = await read(source.id, 'precious-original');
    const copy = await read(restored.volume_id, 'precious-copy');
    expect(original.size).toBe(1024 ** 3);
    expect(copy).toEqual(original);
    // And the volume made from the image starts with the image's bytes.
    const head = await c.glance.listImages({ name: 'precious-original' });
    expect((await imageDigest(c, head[0].id, cirros.size)).sha256).toBe(cirros.sha256);
  }, 300_000);
});
