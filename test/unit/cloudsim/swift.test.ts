import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import type { ObjectStoreApi } from '../../../services/cloudsim/contracts.js';
import { swiftService } from '../../../services/cloudsim/swift.js';
import { SwiftStore } from '../../../services/cloudsim/swift-store.js';
import { OpenStackConnectionError, OpenStackHttpError } from '../../../services/common/openstack/errors.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { fileSource, SwiftClient } from '../../../services/common/openstack/swift.js';
import { readAll } from '../../support/bytes.js';

let cloud: RunningCloud;
let other: { projectId: string };
const sessions: KeystoneSession[] = [];

beforeAll(async () => {
  cloud = await startCloud({ services: [swiftService] });
  const store = cloud.keystone.store;
  const project = store.createProject({ name: 'backup-tenant' });
  const user = store.createUser({ name: 'bob', password: 'BOB_PASS', defaultProjectId: project.id });
  store.grant(user.id, store.ensureRole('member').id, { projectId: project.id });
  other = { projectId: project.id };
});
afterAll(async () => {
  for (const s of sessions) await s.close();
  await cloud?.close();
});

function session(region = 'RegionOne', user = 'demo', password = 'DEMO_PASS', project = 'demo') {
  const s = new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: { type: 'password', username: user, password, userDomainName: 'Default' },
    scope: { projectName: project, projectDomainName: 'Default' },
    regionName: region,
    retryDelayMs: 10,
  });
  sessions.push(s);
  return s;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('Swift simulator and client: containers and account', () => {
  it('creates, lists, describes, updates and deletes containers; account metadata and counts', async () => {
    const swift = new SwiftClient(session());
    expect(await swift.createContainer('alpha', { metadata: { policy: 'p1' } })).toBe(true);
    expect(await swift.createContainer('alpha')).toBe(false);
    await swift.createContainer('beta');
    const names = (await swift.listContainers()).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['alpha', 'beta']));
    expect((await swift.listContainers({ prefix: 'al' })).map((c) => c.name)).toEqual(['alpha']);

    await swift.setContainerMetadata('alpha', { status: 'available' });
    let info = await swift.containerInfo('alpha');
    expect(info?.metadata).toEqual({ policy: 'p1', status: 'available' });
    await swift.setContainerMetadata('alpha', {}, ['policy']);
    info = await swift.containerInfo('alpha');
    expect(info?.metadata).toEqual({ status: 'available' });
    expect(await swift.containerInfo('missing')).toBeUndefined();

    await swift.putObject('alpha', 'a.txt', 'hello');
    const account = await swift.accountInfo();
    expect(account.containerCount).toBeGreaterThanOrEqual(2);
    expect(account.objectCount).toBeGreaterThanOrEqual(1);
    expect(account.bytesUsed).toBeGreaterThanOrEqual(5);
    await swift.setAccountMetadata({ owner: 'dragon' });
    expect((await swift.accountInfo()).metadata.owner).toBe('dragon');

    const conflict = await swift.deleteContainer('alpha').catch((e) => e);
    expect(conflict).toBeInstanceOf(OpenStackHttpError);
    expect((conflict as OpenStackHttpError).status).toBe(409);
    expect((conflict as OpenStackHttpError).requestId).toMatch(/^tx/);
    await swift.deleteObject('alpha', 'a.txt');
    await swift.deleteContainer('alpha');
    expect(await swift.containerInfo('alpha')).toBeUndefined();
    const gone = await swift.deleteContainer('alpha').catch((e) => e);
    expect((gone as OpenStackHttpError).status).toBe(404);
  });

  it('answers GET /info with slo and bulk_delete capabilities', async () => {
    const info = (await new SwiftClient(session()).info()) as {
      slo: { max_manifest_segments: number };
      bulk_delete: { max_deletes_per_request: number };
    };
    expect(info.slo.max_manifest_segments).toBe(1000);
    expect(info.bulk_delete.max_deletes_per_request).toBeGreaterThan(0);
  });

  it('lists with prefix, delimiter, marker and limit in JSON and plain text', async () => {
    const s = session();
    const swift = new SwiftClient(s);
    await swift.createContainer('listing');
    for (const n of ['a/1', 'a/2', 'b/1', 'c', 'd']) await swift.putObject('listing', n, n);
    expect((await swift.listObjects('listing')).map((o) => o.name)).toEqual(['a/1', 'a/2', 'b/1', 'c', 'd']);
    const rolled = await swift.listObjects('listing', { delimiter: '/' });
    expect(rolled.map((o) => o.name ?? o.subdir)).toEqual(['a/', 'b/', 'c', 'd']);
    expect((await swift.listObjects('listing', { prefix: 'a/' })).map((o) => o.name)).toEqual(['a/1', 'a/2']);
    expect((await swift.listObjects('listing', { marker: 'b/1', limit: 1 })).map((o) => o.name)).toEqual([
      'c',
    ]);
    const entry = (await swift.listObjects('listing', { prefix: 'c' }))[0];
    expect(entry).toMatchObject({ name: 'c', bytes: 1, hash: md5(Buffer.from('c')) });
    expect(entry.last_modified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);

    const url = `${await swift.accountUrl()}/listing?limit=2`;
    const text = await fetch(url, { headers: { 'X-Auth-Token': await s.getToken() } });
    expect(text.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await text.text()).toBe('a/1\na/2\n');
    await swift.createContainer('empty');
    const empty = await fetch(`${await swift.accountUrl()}/empty`, {
      headers: { 'X-Auth-Token': await s.getToken() },
    });
    expect(empty.status).toBe(204);
  });
});

describe('Swift objects', () => {
  it('puts, heads, gets (with ranges), updates metadata, copies and deletes objects', async () => {
    const swift = new SwiftClient(session());
    await swift.createContainer('objs');
    const data = randomBytes(100_000);
    const put = await swift.putObject('objs', 'dir/data.bin', data, {
      metadata: { 'checkpoint-id': 'c1' },
      contentType: 'application/x-test',
    });
    expect(put.etag).toBe(md5(data));
    expect(put.size).toBe(data.length);

    const head = await swift.headObject('objs', 'dir/data.bin');
    expect(head).toMatchObject({
      size: data.length,
      etag: md5(data),
      contentType: 'application/x-test',
      metadata: { 'checkpoint-id': 'c1' },
      staticLargeObject: false,
    });
    expect(head?.timestamp).toMatch(/^\d+\.\d{5}$/);
    expect(head?.lastModified).toMatch(/GMT$/);

    const got = await swift.getObject('objs', 'dir/data.bin');
    expect((await readAll(got.stream)).equals(data)).toBe(true);

    const part = await swift.getObject('objs', 'dir/data.bin', { range: { start: 10, end: 19 } });
    expect(part.status).toBe(206);
    expect(part.contentRange).toBe(`bytes 10-19/${data.length}`);
    expect((await readAll(part.stream)).equals(data.subarray(10, 20))).toBe(true);
    const tail = await swift.getObject('objs', 'dir/data.bin', { range: { start: data.length - 5 } });
    expect((await readAll(tail.stream)).equals(data.subarray(data.length - 5))).toBe(true);
    const beyond = await swift
      .getObject('objs', 'dir/data.bin', { range: { start: data.length + 1 } })
      .catch((e) => e);
    expect((beyond as OpenStackHttpError).status).toBe(416);

    await swift.setObjectMetadata('objs', 'dir/data.bin', { status: 'verified' });
    expect((await swift.headObject('objs', 'dir/data.bin'))?.metadata).toEqual({ status: 'verified' });

    await swift.createContainer('objs-copy');
    const copied = await swift.copyObject(
      { container: 'objs', name: 'dir/data.bin' },
      { container: 'objs-copy', name: 'copy.bin' },
    );
    expect(copied).toBe(md5(data));
    expect((await readAll((await swift.getObject('objs-copy', 'copy.bin')).stream)).equals(data)).toBe(true);

    expect(await swift.deleteObject('objs', 'dir/data.bin')).toBe(true);
    expect(await swift.deleteObject('objs', 'dir/data.bin')).toBe(false);
    expect(await swift.headObject('objs', 'dir/data.bin')).toBeUndefined();
    const missing = await swift.getObject('objs', 'dir/data.bin').catch((e) => e);
    expect((missing as OpenStackHttpError).status).toBe(404);
  });

  it('uploads a one-shot stream of unknown size as a plain object', async () => {
    const swift = new SwiftClient(session(), { segmentSize: 1024 });
    await swift.createContainer('streams');
    const data = randomBytes(700);
    const r = await swift.putObject(
      'streams',
      's.bin',
      Readable.from([data.subarray(0, 300), data.subarray(300)]),
      {
        metadata: { kind: 'stream' },
        contentType: 'text/x-stream',
      },
    );
    expect(r.md5).toBe(md5(data));
    const head = await swift.headObject('streams', 's.bin');
    expect(head).toMatchObject({ size: 700, staticLargeObject: false, contentType: 'text/x-stream' });
    expect(head?.metadata).toEqual({ kind: 'stream' });
    expect((await swift.listObjects('streams_segments')).length).toBe(0);
  });

  it('refuses a body whose md5 differs from the ETag sent (422)', async () => {
    const s = session();
    const swift = new SwiftClient(s);
    await swift.createContainer('etags');
    const res = await fetch(`${await swift.accountUrl()}/etags/x`, {
      method: 'PUT',
      headers: { 'X-Auth-Token': await s.getToken(), ETag: md5(Buffer.from('other')) },
      body: 'content',
    });
    expect(res.status).toBe(422);
    expect(await swift.headObject('etags', 'x')).toBeUndefined();
    const err = await swift
      .putObject('etags', 'y', 'content', { headers: { ETag: md5(Buffer.from('nope')) } })
      .catch((e) => e);
    expect((err as OpenStackHttpError).status).toBe(422);
  });

  it('deletes many objects and containers with bulk delete', async () => {
    const swift = new SwiftClient(session());
    await swift.createContainer('bulk');
    for (const n of ['one', 'two', 'with space/three']) await swift.putObject('bulk', n, n);
    const r = await swift.bulkDelete(['bulk/one', 'bulk/two', 'bulk/with space/three', 'bulk/never', 'bulk']);
    expect(r).toMatchObject({ deleted: 4, notFound: 1, errors: [] });
    expect(await swift.containerInfo('bulk')).toBeUndefined();
    await swift.createContainer('bulk2');
    await swift.putObject('bulk2', 'keep', 'x');
    const r2 = await swift.bulkDelete(['bulk2']);
    expect(r2.errors[0]?.[1]).toMatch(/409/);
  });
});

describe('Static Large Objects', () => {
  it('uploads above the segment size as segments + manifest, downloads the whole, deletes segments', async () => {
    const swift = new SwiftClient(session(), { segmentSize: 64 * 1024 });
    await swift.createContainer('big');
    const data = randomBytes(200 * 1024 + 17);
    const put = await swift.putObject('big', 'disk.img', data, { metadata: { resource: 'vol-1' } });
    expect(put.segments).toHaveLength(4);
    expect(put.md5).toBe(md5(data));
    expect((await swift.listObjects('big_segments')).length).toBe(4);

    const head = await swift.headObject('big', 'disk.img');
    expect(head).toMatchObject({
      size: data.length,
      staticLargeObject: true,
      metadata: { resource: 'vol-1' },
    });
    const got = await swift.getObject('big', 'disk.img');
    expect((await readAll(got.stream)).equals(data)).toBe(true);
    // A range across a segment boundary.
    const start = 64 * 1024 - 10;
    const part = await swift.getObject('big', 'disk.img', { range: { start, end: start + 29 } });
    expect((await readAll(part.stream)).equals(data.subarray(start, start + 30))).toBe(true);

    const manifest = await swift.getManifest('big', 'disk.img');
    expect(manifest.map((m) => m.size_bytes)).toEqual([65536, 65536, 65536, 8209]);
    expect(manifest[0].path).toMatch(/^\/big_segments\/disk\.img\/slo\//);

    expect(await swift.deleteObject('big', 'disk.img')).toBe(true);
    expect(await swift.listObjects('big_segments')).toHaveLength(0);
    expect(await swift.headObject('big', 'disk.img')).toBeUndefined();
  });

  it('segments a stream of unknown size and a file, and replacing an SLO drops its old segments', async () => {
    const swift = new SwiftClient(session(), { segmentSize: 1000 });
    await swift.createContainer('seg');
    const data = randomBytes(3500);
    const chunks = [data.subarray(0, 333), data.subarray(333, 2100), data.subarray(2100)];
    const r = await swift.putObject('seg', 'stream', Readable.from(chunks));
    expect(r.segments?.map((x) => x.size_bytes)).toEqual([1000, 1000, 1000, 500]);
    expect((await readAll((await swift.getObject('seg', 'stream')).stream)).equals(data)).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), 'swift-test-'));
    const file = join(dir, 'f.bin');
    const fileData = randomBytes(2500);
    writeFileSync(file, fileData);
    const r2 = await swift.putObject('seg', 'stream', fileSource(file));
    expect(r2.segments).toHaveLength(3);
    expect(r2.md5).toBe(md5(fileData));
    expect((await swift.listObjects('seg_segments')).length).toBe(3);
    expect((await readAll((await swift.getObject('seg', 'stream')).stream)).equals(fileData)).toBe(true);
  });

  it('validates manifests: missing segments, etag and size mismatches answer 400', async () => {
    const s = session();
    const swift = new SwiftClient(s);
    await swift.createContainer('man');
    await swift.putObject('man', 'seg1', 'abc');
    const url = `${await swift.accountUrl()}/man/m?multipart-manifest=put`;
    const token = await s.getToken();
    const bad = await fetch(url, {
      method: 'PUT',
      headers: { 'X-Auth-Token': token },
      body: JSON.stringify([
        { path: '/man/seg1', etag: 'deadbeef', size_bytes: 3 },
        { path: '/man/nope', etag: null, size_bytes: null },
        { path: 'man/seg1', etag: null, size_bytes: 4 },
      ]),
    });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).toContain('/man/seg1, Etag Mismatch');
    expect(text).toContain('/man/nope, 404 Not Found');
    expect(text).toContain('Size Mismatch');
    const ok = await fetch(url, {
      method: 'PUT',
      headers: { 'X-Auth-Token': token },
      body: JSON.stringify([{ path: '/man/seg1', etag: md5(Buffer.from('abc')), size_bytes: 3 }]),
    });
    expect(ok.status).toBe(201);
    const m = await fetch(`${await swift.accountUrl()}/man/m?multipart-manifest=get`, {
      headers: { 'X-Auth-Token': token },
    });
    expect(m.headers.get('x-static-large-object')).toBe('True');
    expect(((await m.json()) as Array<{ name: string }>)[0].name).toBe('/man/seg1');
  });
});

describe('ACLs and isolation between projects', () => {
  it('lets another project read a container only after the owner sets X-Container-Read', async () => {
    const owner = new SwiftClient(session());
    const bobSession = session('RegionOne', 'bob', 'BOB_PASS', 'backup-tenant');
    const bob = new SwiftClient(bobSession);
    await owner.createContainer('bank');
    await owner.putObject('bank', 'manifest.json', '{"ok":true}');
    const ownerAccount = await owner.accountUrl();
    const bobToken = await bobSession.getToken();
    const read = () =>
      fetch(`${ownerAccount}/bank/manifest.json`, { headers: { 'X-Auth-Token': bobToken } }).then(
        (r) => r.status,
      );

    expect(await read()).toBe(403);
    expect(await fetch(`${ownerAccount}/bank/manifest.json`).then((r) => r.status)).toBe(401);
    // Bob's own account is separate.
    expect(await bob.containerInfo('bank')).toBeUndefined();

    await owner.setContainerAcl('bank', { read: `${other.projectId}:*` });
    expect((await owner.containerInfo('bank'))?.read).toBe(`${other.projectId}:*`);
    expect(await read()).toBe(200);
    const listing = await fetch(`${ownerAccount}/bank?format=json`, {
      headers: { 'X-Auth-Token': bobToken },
    });
    expect(listing.status).toBe(200);
    expect(listing.headers.get('x-container-read')).toBeNull();
    const write = await fetch(`${ownerAccount}/bank/intruder`, {
      method: 'PUT',
      headers: { 'X-Auth-Token': bobToken },
      body: 'x',
    });
    expect(write.status).toBe(403);

    await owner.setContainerAcl('bank', { read: `AUTH_${other.projectId}`, write: `${other.projectId}:*` });
    expect(await read()).toBe(200);
    const write2 = await fetch(`${ownerAccount}/bank/from-bob`, {
      method: 'PUT',
      headers: { 'X-Auth-Token': bobToken },
      body: 'x',
    });
    expect(write2.status).toBe(201);

    await owner.setContainerAcl('bank', { read: '.r:*,.rlistings', write: '' });
    expect(await fetch(`${ownerAccount}/bank/manifest.json`).then((r) => r.status)).toBe(200);
    expect(await fetch(`${ownerAccount}/bank`).then((r) => r.status)).toBe(200);
    await owner.setContainerAcl('bank', { read: '' });
    expect(await read()).toBe(403);
    // The account itself is never readable by others.
    expect(await fetch(ownerAccount, { headers: { 'X-Auth-Token': bobToken } }).then((r) => r.status)).toBe(
      403,
    );
  });
});

describe('faults, regions and the in-process contract', () => {
  it('retries a PUT through an injected 503 burst', async () => {
    const swift = new SwiftClient(session(), { retryDelayMs: 10 });
    await swift.createContainer('flaky');
    cloud.faults.RegionOne.set('object-store', { errorBurst: 2, methods: ['PUT'] });
    try {
      const r = await swift.putObject('flaky', 'obj', Buffer.from('survives'));
      expect(r.etag).toBe(md5(Buffer.from('survives')));
      cloud.faults.RegionOne.set('object-store', { errorBurst: 1, methods: ['PUT'] });
      const dir = mkdtempSync(join(tmpdir(), 'swift-flaky-'));
      writeFileSync(join(dir, 'f'), 'from a file');
      await swift.putObject('flaky', 'file', fileSource(join(dir, 'f')));
      expect((await swift.headObject('flaky', 'file'))?.size).toBe(11);
      cloud.faults.RegionOne.set('object-store', { errorBurst: 10, methods: ['PUT'] });
      const err = await swift.putObject('flaky', 'never', Buffer.from('x')).catch((e) => e);
      expect((err as OpenStackHttpError).status).toBe(503);
    } finally {
      cloud.faults.RegionOne.set('object-store', undefined);
    }
  });

  it("keeps RegionTwo's Swift working while RegionOne is out", async () => {
    const one = new SwiftClient(session('RegionOne'), { retryDelayMs: 1 });
    const two = new SwiftClient(session('RegionTwo'));
    expect(await one.accountUrl()).not.toBe(await two.accountUrl());
    await two.createContainer('survivor');
    cloud.faults.RegionOne.outage = true;
    try {
      const err = await one.listContainers().catch((e) => e);
      expect(err).toBeInstanceOf(OpenStackConnectionError);
      await two.putObject('survivor', 'x', 'still here');
      expect((await two.headObject('survivor', 'x'))?.size).toBe(10);
    } finally {
      cloud.faults.RegionOne.outage = false;
    }
    // The regions are separate stores.
    expect(await one.containerInfo('survivor')).toBeUndefined();
  });

  it('offers containers and objects to sibling services in process', async () => {
    const api = cloud.sites.RegionTwo.context.service<ObjectStoreApi>('object-store');
    const account = `AUTH_${cloud.demo.projectId}`;
    api.ensureContainer(account, 'volumebackups');
    const put = await api.putObject(account, 'volumebackups', 'b/1', Readable.from([Buffer.from('bytes')]), {
      'X-Object-Meta-Kind': 'backup',
    });
    expect(put).toEqual({ etag: md5(Buffer.from('bytes')), size: 5 });
    expect(api.listObjects(account, 'volumebackups', 'b/')).toEqual(['b/1']);
    const two = new SwiftClient(session('RegionTwo'));
    expect((await two.headObject('volumebackups', 'b/1'))?.metadata).toEqual({ kind: 'backup' });
    expect((await readAll(api.getObject(account, 'volumebackups', 'b/1')!)).toString()).toBe('bytes');
    expect(api.deleteObject(account, 'volumebackups', 'b/1')).toBe(true);
    expect(api.getObject(account, 'volumebackups', 'b/1')).toBeUndefined();
  });

  it('keeps everything in the data directory: a new process over it finds containers, metadata and bytes', async () => {
    const swift = new SwiftClient(session('RegionTwo'), { segmentSize: 1000 });
    await swift.createContainer('durable', { metadata: { policy: 'p' }, read: `${other.projectId}:*` });
    const data = randomBytes(2500);
    await swift.putObject('durable', 'slo', data, { metadata: { k: 'v' } });
    const reopened = new SwiftStore(join(cloud.dataDir, 'RegionTwo', 'swift'));
    const account = `AUTH_${cloud.demo.projectId}`;
    const c = reopened.container(account, 'durable');
    expect(c?.meta).toEqual({ policy: 'p' });
    expect(c?.read).toBe(`${other.projectId}:*`);
    const o = reopened.object(account, 'durable', 'slo');
    expect(o).toMatchObject({ bytes: 2500, meta: { k: 'v' } });
    expect(o?.slo).toBeDefined();
    expect(reopened.container(account, 'durable_segments')?.objects.size).toBe(3);
  });

  it('authenticates again when its token was revoked, and waits out injected latency', async () => {
    const s = session();
    const swift = new SwiftClient(s);
    await swift.createContainer('reauth');
    await cloud.keystone.provider.revoke(await s.getToken());
    expect((await swift.containerInfo('reauth'))?.name).toBe('reauth');
    cloud.faults.RegionOne.set('object-store', { latencyMs: 300 });
    try {
      const started = Date.now();
      await swift.containerInfo('reauth');
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    } finally {
      cloud.faults.RegionOne.set('object-store', undefined);
    }
  });
});
