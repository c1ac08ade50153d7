import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { allServices } from '../../../services/cloudsim/services.js';
import type { KeystoneSession } from '../../../services/common/openstack/session.js';
import { SwiftClient } from '../../../services/common/openstack/swift.js';
import {
  CheckpointBankWriter,
  containerName,
  deleteCheckpoint,
  listCheckpointsInBank,
  MANIFEST_OBJECT,
  type ManifestInput,
  openCheckpoint,
  segmentContainerName,
  swiftForAccount,
  validateObjectName,
} from '../../../services/engine/bank/index.js';
import { readAll, sha256 } from '../../support/bytes.js';
import { DEMO, sessionFor } from '../cloudsim/storage-helpers.js';

const BACKUP = 'RegionTwo';
const SEGMENT = 1024 * 1024;
let cloud: RunningCloud;
const sessions: KeystoneSession[] = [];
let swift: SwiftClient;
let tenant: { projectId: string; user: string; password: string; project: string };

function session(who = DEMO, region = BACKUP): KeystoneSession {
  const s = sessionFor(cloud, who, region);
  sessions.push(s);
  return s;
}

beforeAll(async () => {
  cloud = await startCloud({ services: allServices });
  swift = new SwiftClient(session(), { retryDelayMs: 10 });
  // A second project that reads the bank with its own credentials.
  const store = cloud.keystone.store;
  const project = store.createProject({ name: 'recovery-tenant' });
  const user = store.createUser({ name: 'rita', password: 'RITA_PASS', defaultProjectId: project.id });
  store.grant(user.id, store.ensureRole('member').id, { projectId: project.id });
  tenant = { projectId: project.id, user: 'rita', password: 'RITA_PASS', project: 'recovery-tenant' };
});
afterAll(async () => {
  for (const s of sessions) await s.close();
  await cloud?.close();
});

/** A stream of `total` bytes in chunks of at most 64 KiB, never all in memory. */
function chunks(bytes: Buffer, size = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })(),
  );
}

let seq = 0;
function manifestInput(policyName: string): ManifestInput {
  return {
    policy: {
      id: `policy-${policyName}`,
      name: policyName,
      description: 'test workload',
      project_id: cloud.demo.projectId,
      primary_site: 'RegionOne',
      backup_site: BACKUP,
      resources: [
        { id: 'srv-1', type: 'OS::Nova::Server' },
        { id: 'vol-1', type: 'OS::Cinder::Volume' },
      ],
    },
    graph: [
      { step: 'vol-1', after: [] },
      { step: 'srv-1', after: ['vol-1'] },
    ],
    steps: { 'vol-1': { backup_id: 'b-1' }, 'srv-1': { image: 'data/srv-1.img' } },
    template: { object: 'template.yaml', parameters: { image: 'img-primary' } },
  };
}

async function newCheckpoint(policyName: string, opts: { readAcl?: string; date?: Date } = {}) {
  seq += 1;
  return CheckpointBankWriter.create({
    swift,
    policy: { id: `policy-${policyName}`, name: policyName },
    projectId: cloud.demo.projectId,
    checkpointId: `cp-${seq}`,
    segmentSize: SEGMENT,
    ...opts,
  });
}

/** Writes a complete checkpoint with objects of several sizes; returns the bytes written. */
async function writeComplete(policyName: string, opts: { readAcl?: string } = {}) {
  const bank = await newCheckpoint(policyName, opts);
  const data: Record<string, Buffer> = {
    'template.yaml': Buffer.from('heat_template_version: 2018-08-31\nresources: {}\n'),
    'data/empty.bin': Buffer.alloc(0),
    'data/small.bin': randomBytes(10_000),
    'data/srv-1.img': randomBytes(Math.floor(3.5 * SEGMENT)), // above the segment size: an SLO
    'data/exact.bin': randomBytes(SEGMENT),
  };
  await bank.put('template.yaml', data['template.yaml'].toString('utf8'));
  await bank.put('data/empty.bin', data['data/empty.bin']);
  await bank.put('data/small.bin', data['data/small.bin']);
  await bank.put('data/srv-1.img', chunks(data['data/srv-1.img'])); // size unknown up front
  await bank.put('data/exact.bin', chunks(data['data/exact.bin']), { size: SEGMENT });
  const log = { events: ['started', 'done'] };
  await bank.putJson('log/execution.json', log);
  data['log/execution.json'] = Buffer.from(`${JSON.stringify(log, null, 2)}\n`);
  return { bank, data };
}

describe('checkpoint container names', () => {
  const at = new Date('2026-11-26T10:15:00.123Z');

  it('is the policy name and the UTC time, Swift-safe and within 256 bytes with its segments container', () => {
    expect(containerName('web-shop', at)).toBe('web-shop_20261126T101500Z');
    expect(containerName('a/b c\n/d', at)).toBe('a-b-c-d_20261126T101500Z');
    expect(containerName('  ', at)).toBe('policy_20261126T101500Z');
    // Unicode is kept, normalised to NFC so the same name always gives the same container.
    expect(containerName('cafe\u0301', at)).toBe(containerName('caf\u00e9', at));
    expect(containerName('日本のショップ', at)).toBe('日本のショップ_20261126T101500Z');
    const long = containerName('ü'.repeat(400), at, 12);
    expect(Buffer.byteLength(segmentContainerName(long))).toBeLessThanOrEqual(256);
    expect(long.endsWith('_20261126T101500Z-12')).toBe(true);
    expect(long).not.toContain('\uFFFD');
  });

  it('adds a suffix when the name is taken, never reusing another checkpoint', async () => {
    const date = new Date('2026-11-26T11:00:00Z');
    const a = await newCheckpoint('twins', { date });
    const b = await newCheckpoint('twins', { date });
    expect(a.container).toBe('twins_20261126T110000Z');
    expect(b.container).toBe('twins_20261126T110000Z-2');
    const infoA = await swift.containerInfo(a.container);
    expect(infoA?.metadata['dragon-checkpoint-id']).toBe(a.checkpointId);
  });

  it('refuses object names that escape or replace the manifest', () => {
    for (const bad of ['', '/abs', 'a/../b', '..', 'a//b', MANIFEST_OBJECT])
      expect(() => validateObjectName(bad)).toThrow(/invalid object name/);
    expect(() => validateObjectName('data/vol-1/backup.json')).not.toThrow();
  });
});

describe('writing and reading a checkpoint', () => {
  it('writes objects, then the manifest last, and reads every byte back verified', async () => {
    const { bank, data } = await writeComplete('web-shop');
    let info = await swift.containerInfo(bank.container);
    expect(info?.metadata).toMatchObject({
      'dragon-format': '1',
      'dragon-policy-id': 'policy-web-shop',
      'dragon-policy-name': 'web-shop',
      'dragon-project': cloud.demo.projectId,
      'dragon-checkpoint-id': bank.checkpointId,
      'dragon-status': 'writing',
    });
    const before = (await swift.listObjects(bank.container)).map((o) => o.name);
    expect(before).not.toContain(MANIFEST_OBJECT);
    expect(before).toEqual(expect.arrayContaining(Object.keys(data)));
    expect((await swift.headObject(bank.container, 'data/srv-1.img'))?.staticLargeObject).toBe(true);
    await expect(openCheckpoint({ swift, container: bank.container })).rejects.toThrow(
      `checkpoint ${bank.container} is incomplete: no manifest.json`,
    );

    const written = await bank.writeManifest(manifestInput('web-shop'));
    info = await swift.containerInfo(bank.container);
    expect(info?.metadata['dragon-status']).toBe('available');
    // The manifest is the newest object of the container.
    const listing = await swift.listObjects(bank.container);
    const manifestTime = listing.find((o) => o.name === MANIFEST_OBJECT)?.last_modified ?? '';
    for (const o of listing) expect(o.last_modified <= manifestTime).toBe(true);
    await expect(bank.put('late.bin', 'x')).rejects.toThrow(/already complete/);

    const reader = await openCheckpoint({ swift, container: bank.container });
    expect(reader.manifest.format_version).toBe(1);
    expect(reader.manifest.checkpoint_id).toBe(bank.checkpointId);
    expect(reader.manifest.steps).toEqual(manifestInput('web-shop').steps);
    expect(reader.manifest.template?.parameters).toEqual({ image: 'img-primary' });
    expect(reader.manifest.total_size).toBe(Object.values(data).reduce((n, b) => n + b.length, 0));
    expect(written.objects).toEqual(reader.manifest.objects);
    expect(reader.list('data/').map((o) => o.name)).toEqual([
      'data/empty.bin',
      'data/exact.bin',
      'data/small.bin',
      'data/srv-1.img',
    ]);
    for (const [name, bytes] of Object.entries(data)) {
      expect(reader.stat(name)).toEqual({ name, size: bytes.length, sha256: sha256(bytes) });
      const got = await readAll(await reader.get(name));
      expect(got.equals(bytes)).toBe(true);
    }
    expect(await reader.getJson('log/execution.json')).toEqual({ events: ['started', 'done'] });
    const verified = await reader.verify();
    expect(verified).toMatchObject({ ok: true, problems: [] });
    expect(verified.bytesRead).toBe(reader.manifest.total_size);
  });

  it("hands back the MD5 of each object's bytes, so a plugin can check a checksum without hashing again", async () => {
    const bank = await newCheckpoint('md5-check');
    const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
    const big = randomBytes(Math.floor(2.5 * SEGMENT)); // an SLO: the MD5 is of the whole, not of the segments
    const small = randomBytes(5000);
    expect((await bank.put('data/big.img', chunks(big))).md5).toBe(md5(big));
    expect((await bank.put('data/small.img', chunks(small), { size: small.length })).md5).toBe(md5(small));
    expect((await bank.put('data/buf.bin', small)).md5).toBe(md5(small));
    const written = await bank.writeManifest(manifestInput('md5-check'));
    // Not part of the manifest's format.
    for (const o of written.objects) expect(Object.keys(o).sort()).toEqual(['name', 'sha256', 'size']);
  });

  it('detects a changed byte and a truncated object, naming the object', async () => {
    const { bank, data } = await writeComplete('tamper');
    await bank.writeManifest(manifestInput('tamper'));
    const changed = Buffer.from(data['data/small.bin']);
    changed[5000] ^= 0xff;
    await swift.putObject(bank.container, 'data/small.bin', changed);
    const img = data['data/srv-1.img'];
    await swift.putObject(bank.container, 'data/srv-1.img', img.subarray(0, img.length - 1), {
      segmentSize: SEGMENT,
      segmentContainer: segmentContainerName(bank.container),
    });

    const reader = await openCheckpoint({ swift, container: bank.container });
    await expect(readAll(await reader.get('data/small.bin'))).rejects.toThrow(
      /object data\/small\.bin of checkpoint tamper_.* is corrupt: SHA-256/,
    );
    await expect(readAll(await reader.get('data/srv-1.img'))).rejects.toThrow(
      /object data\/srv-1\.img .* is corrupt: \d+ bytes instead of/,
    );
    expect((await readAll(await reader.get('template.yaml'))).equals(data['template.yaml'])).toBe(true);

    await swift.deleteObject(bank.container, 'data/exact.bin');
    const result = await reader.verify();
    expect(result.ok).toBe(false);
    expect(result.problems.map(({ object, problem }) => ({ object, problem }))).toEqual([
      { object: 'data/exact.bin', problem: 'missing' },
      { object: 'data/small.bin', problem: 'sha256' },
      { object: 'data/srv-1.img', problem: 'size' },
    ]);
    const listed = (await listCheckpointsInBank({ swift })).find((c) => c.container === bank.container);
    expect(listed).toMatchObject({ usable: false, reason: 'objects missing: data/exact.bin' });
  });

  it('rejects a put with an error naming the object when the bank fails mid-write', async () => {
    const bank = await newCheckpoint('failing');
    await bank.put('template.yaml', 'heat_template_version: 2018-08-31\n');
    const total = 4 * SEGMENT;
    const source = randomBytes(total);
    let sent = 0;
    // The backup site goes down after a segment and a half has gone out.
    const stream = Readable.from(
      (function* () {
        for (let i = 0; i < total; i += 64 * 1024) {
          sent += 64 * 1024;
          if (sent > 1.5 * SEGMENT) cloud.faults[BACKUP].outage = true;
          yield source.subarray(i, i + 64 * 1024);
        }
      })(),
    );
    try {
      await expect(bank.put('data/big.img', stream)).rejects.toThrow(
        /writing object data\/big\.img into checkpoint failing_\d{8}T\d{6}Z failed/,
      );
    } finally {
      cloud.faults[BACKUP].outage = false;
    }
    // A burst of 503s longer than the client's retries fails a re-sendable Buffer too.
    cloud.faults[BACKUP].set('object-store', { errorBurst: 20, methods: ['PUT'] });
    try {
      await expect(bank.put('data/small.bin', randomBytes(1000))).rejects.toThrow(
        /writing object data\/small\.bin into checkpoint .* failed: .*503/,
      );
    } finally {
      cloud.faults[BACKUP].set('object-store', undefined);
    }
    await bank.markError('writing object data/big.img failed');
    const listed = (await listCheckpointsInBank({ swift })).find((c) => c.container === bank.container);
    expect(listed).toMatchObject({ status: 'error', usable: false });
    expect(listed?.reason).toMatch(/status error: writing object data\/big\.img failed; .*no manifest\.json/);
  });
  it('lets another engine take over a checkpoint being written and complete it', async () => {
    const { bank: first, data } = await writeComplete('takeover');
    // The first engine died after an upload but before recording its SHA-256 on the object.
    const orphan = randomBytes(5000);
    await swift.putObject(first.container, 'data/orphan.bin', orphan);
    const second = await CheckpointBankWriter.resume({
      swift,
      container: first.container,
      segmentSize: SEGMENT,
    });
    expect(second.checkpointId).toBe(first.checkpointId);
    const last = randomBytes(2000);
    await second.put('data/last.bin', last);
    await second.writeManifest(manifestInput('takeover'));
    const reader = await openCheckpoint({ swift, container: first.container });
    const expected = { ...data, 'data/orphan.bin': orphan, 'data/last.bin': last };
    expect(reader.manifest.objects.map((o) => o.name).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, bytes] of Object.entries(expected))
      expect(reader.stat(name)).toEqual({ name, size: bytes.length, sha256: sha256(bytes) });
    expect((await reader.verify()).ok).toBe(true);
    await expect(CheckpointBankWriter.resume({ swift, container: first.container })).rejects.toThrow(
      /is available, not being written/,
    );
  });
});

describe('the bank as a catalogue of checkpoints', () => {
  it('lists checkpoints from container metadata and manifests, marking incomplete ones', async () => {
    const good = await writeComplete('catalogue');
    await good.bank.writeManifest(manifestInput('catalogue'));
    const noManifest = await writeComplete('catalogue');
    await noManifest.bank.writeManifest(manifestInput('catalogue'));
    await swift.deleteObject(noManifest.bank.container, MANIFEST_OBJECT);
    const inProgress = await newCheckpoint('catalogue');
    await swift.createContainer('not-a-checkpoint');

    const all = await listCheckpointsInBank({ swift, projectId: cloud.demo.projectId });
    expect(all.map((c) => c.container)).not.toContain('not-a-checkpoint');
    expect(all.map((c) => c.container)).not.toContain(segmentContainerName(good.bank.container));
    const byName = new Map(all.map((c) => [c.container, c]));
    expect(byName.get(good.bank.container)).toMatchObject({
      usable: true,
      checkpointId: good.bank.checkpointId,
      policy: { id: 'policy-catalogue', name: 'catalogue' },
      projectId: cloud.demo.projectId,
      status: 'available',
      resourceCount: 2,
      objectCount: Object.keys(good.data).length,
      totalSize: Object.values(good.data).reduce((n, b) => n + b.length, 0),
    });
    expect(byName.get(noManifest.bank.container)).toMatchObject({ usable: false });
    expect(byName.get(noManifest.bank.container)?.reason).toContain('no manifest.json');
    expect(byName.get(inProgress.container)).toMatchObject({ usable: false, status: 'writing' });
    expect(await listCheckpointsInBank({ swift, projectId: 'someone-else' })).toEqual([]);
  });

  it('deletes a checkpoint with its SLO segments and containers', async () => {
    const { bank } = await writeComplete('to-delete');
    await bank.writeManifest(manifestInput('to-delete'));
    expect((await swift.listObjects(segmentContainerName(bank.container))).length).toBeGreaterThan(0);
    await deleteCheckpoint({ swift, container: bank.container });
    expect(await swift.containerInfo(bank.container)).toBeUndefined();
    expect(await swift.containerInfo(segmentContainerName(bank.container))).toBeUndefined();
    expect((await listCheckpointsInBank({ swift })).map((c) => c.container)).not.toContain(bank.container);
    await deleteCheckpoint({ swift, container: bank.container }); // already gone: fine
  });
});

describe('reading with other credentials', () => {
  it('lets another project read and verify a checkpoint only with the read ACL', async () => {
    const reader = swiftForAccount(session(tenant), cloud.demo.projectId, { retryDelayMs: 10 });
    const closed = await writeComplete('acl-closed');
    await closed.bank.writeManifest(manifestInput('acl-closed'));
    await expect(openCheckpoint({ swift: reader, container: closed.bank.container })).rejects.toThrow(/403/);

    const open = await writeComplete('acl-open', { readAcl: `${tenant.projectId}:*` });
    await open.bank.writeManifest(manifestInput('acl-open'));
    expect((await swift.containerInfo(open.bank.container))?.read).toBe(`${tenant.projectId}:*`);
    const cp = await openCheckpoint({ swift: reader, container: open.bank.container });
    const img = await readAll(await cp.get('data/srv-1.img'));
    expect(img.equals(open.data['data/srv-1.img'])).toBe(true);
    expect((await cp.verify()).ok).toBe(true);
    // Reading is all it may do.
    await expect(reader.putObject(open.bank.container, 'intruder', 'x')).rejects.toThrow(/403/);
  });
});

describe('memory', () => {
  it('streams a 300 MiB object into the bank with bounded memory', async () => {
    const bank = await CheckpointBankWriter.create({
      swift,
      policy: { id: 'p-big', name: 'big' },
      projectId: cloud.demo.projectId,
      checkpointId: 'cp-big',
      segmentSize: 64 * 1024 * 1024,
    });
    const total = 300 * 1024 * 1024;
    const chunk = 1024 * 1024;
    const expected = createHash('sha256');
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < total / chunk; i++) {
          const b = Buffer.alloc(chunk, i % 251);
          expected.update(b);
          yield b;
        }
      })(),
    );
    const base = process.memoryUsage().arrayBuffers;
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 10);
    let object: Awaited<ReturnType<typeof bank.put>>;
    try {
      object = await bank.put('data/big.img', source);
    } finally {
      clearInterval(timer);
    }
    expect(object).toMatchObject({ name: 'data/big.img', size: total, sha256: expected.digest('hex') });
    expect(peak - base).toBeLessThan(64 * 1024 * 1024);
    await deleteCheckpoint({ swift, container: bank.container });
  }, 120_000);
});
