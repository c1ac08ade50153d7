import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import type { ImageServiceApi } from '../../../services/cloudsim/contracts.js';
import { glanceService, SEED_IMAGE_NAME, SEED_IMAGE_SIZE } from '../../../services/cloudsim/glance.js';
import { deterministicChunks } from '../../../services/cloudsim/glance-data.js';
import { OpenStackHttpError } from '../../../services/common/openstack/errors.js';
import { GlanceClient } from '../../../services/common/openstack/glance.js';
import type { KeystoneSession } from '../../../services/common/openstack/session.js';
import { ADMIN, addOtherTenant, DEMO, OTHER, sessionFor } from './storage-helpers.js';

let cloud: RunningCloud;
const sessions: KeystoneSession[] = [];
function client(who = DEMO, region = 'RegionOne') {
  const s = sessionFor(cloud, who, region);
  sessions.push(s);
  return new GlanceClient(s, { region });
}

beforeAll(async () => {
  cloud = await startCloud({ services: [glanceService] });
  addOtherTenant(cloud);
});
afterAll(async () => {
  for (const s of sessions) await s.close();
  await cloud?.close();
});

async function hashes(stream: AsyncIterable<Buffer | Uint8Array>) {
  const md5 = createHash('md5');
  const sha = createHash('sha512');
  let size = 0;
  for await (const c of stream) {
    md5.update(c);
    sha.update(c);
    size += c.length;
  }
  return { md5: md5.digest('hex'), sha512: sha.digest('hex'), size };
}

async function rejection(p: Promise<unknown>): Promise<OpenStackHttpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenStackHttpError) return err;
    throw err;
  }
  throw new Error('expected an OpenStackHttpError');
}

describe('Glance simulator and client', () => {
  it('creates, shows, lists, patches and deletes an image record', async () => {
    const g = client();
    const img = await g.createImage({
      name: 'rec-1',
      disk_format: 'raw',
      container_format: 'bare',
      properties: { image_type: 'snapshot', dr_test: 'yes' },
    });
    expect(img.status).toBe('queued');
    expect(img.visibility).toBe('shared');
    expect(img.image_type).toBe('snapshot');
    expect((await g.getImage(img.id)).name).toBe('rec-1');
    const snaps = await g.listImages({ image_type: 'snapshot' });
    expect(snaps.map((i) => i.id)).toEqual([img.id]);

    const patched = await g.updateImage(img.id, [
      { op: 'replace', path: '/name', value: 'rec-1b' },
      { op: 'add', path: '/os_distro', value: 'cirros' },
      { op: 'remove', path: '/dr_test' },
    ]);
    expect(patched.name).toBe('rec-1b');
    expect(patched.os_distro).toBe('cirros');
    expect(patched.dr_test).toBeUndefined();
    const viaHelper = await g.setProperties(img.id, { os_distro: 'debian', extra: 'x', image_type: null });
    expect(viaHelper.os_distro).toBe('debian');
    expect(viaHelper.image_type).toBeUndefined();

    const readOnly = await rejection(
      g.updateImage(img.id, [{ op: 'replace', path: '/status', value: 'active' }]),
    );
    expect(readOnly.status).toBe(403);

    await g.deleteImage(img.id);
    expect(await g.findImage(img.id)).toBeUndefined();
    const gone = await rejection(g.getImage(img.id));
    expect(gone.status).toBe(404);
    expect(gone.osMessage).toContain(`No image found with ID ${img.id}`);
    expect(gone.requestId).toMatch(/^req-/);
  });

  it('round-trips bytes: upload streams, checksum md5 and os_hash_value sha512 match the download', async () => {
    const g = client();
    const img = await g.createImage({ name: 'data-1', disk_format: 'qcow2', container_format: 'bare' });
    expect(await g.downloadImage(img.id)).toBeUndefined(); // 204: no data yet
    const size = 3 * 1024 * 1024 + 17;
    const expected = await hashes(Readable.from(deterministicChunks(size, 42)));
    await g.uploadImage(img.id, Readable.from(deterministicChunks(size, 42)));
    const active = await g.waitForImageActive(img.id, { intervalMs: 20 });
    expect(active.size).toBe(size);
    expect(active.checksum).toBe(expected.md5);
    expect(active.os_hash_algo).toBe('sha512');
    expect(active.os_hash_value).toBe(expected.sha512);
    const dl = await g.downloadImage(img.id);
    expect(dl?.md5).toBe(expected.md5);
    expect(dl?.size).toBe(size);
    const got = await hashes(dl!.stream);
    expect(got).toEqual(expected);
    const byHash = await g.listImages({ os_hash_value: expected.sha512 });
    expect(byHash.map((i) => i.id)).toEqual([img.id]);
    const again = await rejection(g.uploadImage(img.id, Buffer.from('x')));
    expect(again.status).toBe(409);
  });

  it('refuses data before disk and container formats are set, and bad formats', async () => {
    const g = client();
    const img = await g.createImage({ name: 'no-format' });
    const e = await rejection(g.uploadImage(img.id, Buffer.from('abc')));
    expect(e.status).toBe(400);
    expect(e.osMessage).toContain('disk_format');
    expect((await g.getImage(img.id)).status).toBe('queued');
    const bad = await rejection(g.createImage({ name: 'bad', disk_format: 'exe' }));
    expect(bad.status).toBe(400);
  });

  const BIG = 200 * 1024 * 1024;
  /**
   * Peak growth of the memory holding bytes (Buffers live outside the JS heap, in arrayBuffers; RSS
   * keeps earlier tests' high-water mark, so it cannot tell this test's growth apart).
   */
  async function peakGrowth(fn: () => Promise<void>): Promise<number> {
    const base = process.memoryUsage().arrayBuffers;
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 10);
    try {
      await fn();
    } finally {
      clearInterval(timer);
    }
    return peak - base;
  }

  it('streams a 200 MiB image down with bounded memory', async () => {
    const g = client();
    const img = await g.createImage({ name: 'big', disk_format: 'raw', container_format: 'bare' });
    await g.uploadImage(img.id, Readable.from(deterministicChunks(BIG, 7)));
    const growth = await peakGrowth(async () => {
      const dl = await g.downloadImage(img.id);
      const got = await hashes(dl!.stream);
      expect(got.size).toBe(BIG);
      expect(got.md5).toBe((await g.getImage(img.id)).checksum);
    });
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    await g.deleteImage(img.id);
  }, 60_000);

  // Fails while session.ts's streamed fetch() lacks `redirect: 'error'`: undici then clones the
  // request for redirects, tees the body and keeps every uploaded byte until the call ends
  // (measured: 1 GiB upload = +1 GiB). Turn into it() once that one-line fix lands.
  it('streams a 200 MiB image up with bounded memory', async () => {
    const g = client();
    const img = await g.createImage({ name: 'big-up', disk_format: 'raw', container_format: 'bare' });
    const growth = await peakGrowth(() => g.uploadImage(img.id, Readable.from(deterministicChunks(BIG, 9))));
    await g.deleteImage(img.id);
    expect(growth).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);

  it('shows public images to every project and private ones only to their owner', async () => {
    const demo = client();
    const other = client(OTHER);
    const admin = client(ADMIN);
    const seeded = (await other.listImages({ name: SEED_IMAGE_NAME }))[0];
    expect(seeded.visibility).toBe('public');
    expect(seeded.size).toBe(SEED_IMAGE_SIZE);
    expect(seeded.disk_format).toBe('qcow2');
    expect(seeded.status).toBe('active');

    const mine = await demo.createImage({ name: 'private-1', visibility: 'private' });
    expect(await other.findImage(mine.id)).toBeUndefined();
    expect((await other.listImages()).map((i) => i.id)).not.toContain(mine.id);
    expect((await admin.getImage(mine.id)).id).toBe(mine.id);
    const patch = await rejection(other.updateImage(mine.id, [{ op: 'replace', path: '/name', value: 'x' }]));
    expect(patch.status).toBe(404);

    const publicize = await rejection(
      demo.updateImage(mine.id, [{ op: 'replace', path: '/visibility', value: 'public' }]),
    );
    expect(publicize.status).toBe(403);
    await admin.updateImage(mine.id, [{ op: 'replace', path: '/visibility', value: 'public' }]);
    expect((await other.getImage(mine.id)).visibility).toBe('public');
    const notOwner = await rejection(other.deleteImage(mine.id));
    expect(notOwner.status).toBe(403);
    await demo.deleteImage(mine.id);
  });

  it('pages with next links and filters by visibility', async () => {
    const g = client();
    for (let i = 0; i < 3; i++) await g.createImage({ name: `page-${i}`, properties: { batch: 'p' } });
    const all = await g.listImages({ batch: 'p' }, { pageSize: 1 });
    expect(all.map((i) => i.name).sort()).toEqual(['page-0', 'page-1', 'page-2']);
    expect(await g.listImages({ batch: 'p' }, { pageSize: 1, max: 2 })).toHaveLength(2);
    const pub = await g.listImages({ visibility: 'public' });
    expect(pub.every((i) => i.visibility === 'public')).toBe(true);
  });

  it('selects the region from the catalog: images of one site are not at the other', async () => {
    const one = client(DEMO, 'RegionOne');
    const two = client(DEMO, 'RegionTwo');
    const img = await one.createImage({ name: 'regional' });
    expect(await two.findImage(img.id)).toBeUndefined();
    expect((await two.listImages({ name: SEED_IMAGE_NAME })).length).toBe(1);
  });

  it('retries through an injected 503 burst', async () => {
    const g = client();
    const img = await g.createImage({ name: 'retry' });
    cloud.faults.RegionOne.set('image', { errorBurst: 2 });
    try {
      expect((await g.getImage(img.id)).id).toBe(img.id);
    } finally {
      cloud.faults.RegionOne.set('image', undefined);
    }
  });

  it('a stuck image stays saving and the wait names it', async () => {
    const g = client();
    const img = await g.createImage({ name: 'stuck', disk_format: 'raw', container_format: 'bare' });
    cloud.faults.RegionOne.stuck.add(img.id);
    try {
      await g.uploadImage(img.id, Buffer.from('some bytes'));
      await expect(g.waitForImageActive(img.id, { timeoutMs: 300, intervalMs: 50 })).rejects.toThrow(
        `image ${img.id} still saving`,
      );
    } finally {
      cloud.faults.RegionOne.stuck.delete(img.id);
    }
  });

  it('answers version discovery and malformed JSON like Glance', async () => {
    const base = cloud.sites.RegionOne.endpoints.image;
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(300);
    const versions = (await root.json()) as {
      versions: Array<{ status: string; links: Array<{ href: string }> }>;
    };
    expect(versions.versions[0].status).toBe('CURRENT');
    expect(versions.versions[0].links[0].href).toBe(`${base}/v2/`);
    const token = await sessionFor(cloud, DEMO).getToken();
    const bad = await fetch(`${base}/v2/images`, {
      method: 'POST',
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: '{"name": ',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { title: string }).title).toBe('Bad Request');
    const html = await fetch(`${base}/v2/images/nope`, {
      headers: { 'X-Auth-Token': token, Accept: 'text/html' },
    });
    expect(html.status).toBe(404);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('No image found with ID nope');
  });

  it('offers images to sibling services in process', async () => {
    const glance = cloud.sites.RegionOne.services.get('image') as ImageServiceApi;
    const seeded = [
      ...(glance as unknown as { images(): Array<{ id: string; name: string }> }).images(),
    ].find((i) => i.name === SEED_IMAGE_NAME)!;
    const path = glance.imageDataPath(seeded.id)!;
    const copy = await glance.createImageFromFile(cloud.demo.projectId, { name: 'from-file' }, path);
    expect(copy.status).toBe('active');
    expect(copy.checksum).toBe(glance.getImage(seeded.id)?.checksum);
    expect(copy.visibility).toBe('private');
  });
});
