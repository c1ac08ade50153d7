/**
 * Checkpoints that use objects of an earlier checkpoint's container (manifest
 * `references`, format 2) against the simulated backup site's Swift: what a
 * reader may open, what verify and the bank listing see, and what deletion
 * keeps (`retained`) and when it lets go.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { allServices } from '../../../services/cloudsim/services.js';
import type { KeystoneSession } from '../../../services/common/openstack/session.js';
import { SwiftClient } from '../../../services/common/openstack/swift.js';
import {
  CheckpointBankWriter,
  deleteCheckpoint,
  listCheckpointsInBank,
  type ManifestInput,
  META,
  metaKey,
  openCheckpoint,
  type ReferenceLedger,
  segmentContainerName,
} from '../../../services/engine/bank/index.js';
import type { BankReference, EarlierObject } from '../../../services/engine/plugin-api.js';
import { readAll, sha256 } from '../../support/bytes.js';
import { DEMO, sessionFor } from '../cloudsim/storage-helpers.js';

const SEGMENT = 1024 * 1024;
let cloud: RunningCloud;
let session: KeystoneSession;
let swift: SwiftClient;

beforeAll(async () => {
  cloud = await startCloud({ services: allServices });
  session = sessionFor(cloud, DEMO, 'RegionTwo');
  swift = new SwiftClient(session, { retryDelayMs: 10 });
});
afterAll(async () => {
  await session?.close();
  await cloud?.close();
});

const input = (name: string): ManifestInput => ({
  policy: { id: `policy-${name}`, name, project_id: cloud.demo.projectId, resources: [] },
  graph: [],
  steps: {},
});

/** A ledger like the engine's, in memory: what the writer records, and one earlier copy to offer. */
function memoryLedger(offer?: EarlierObject): ReferenceLedger & { rows: BankReference[] } {
  const rows: BankReference[] = [];
  return {
    rows,
    find: async () => (offer ? { ...offer, offeredBy: 'cp-earlier' } : undefined),
    record: async (ref) => void rows.push(ref),
    forget: async (ref) => void rows.splice(rows.indexOf(ref), 1),
    recorded: async () => [...rows],
  };
}

let seq = 0;
async function checkpoint(name: string) {
  seq += 1;
  return CheckpointBankWriter.create({
    swift,
    policy: { id: `policy-${name}`, name },
    projectId: cloud.demo.projectId,
    checkpointId: `cp-ref-${seq}`,
    segmentSize: SEGMENT,
  });
}

/** An older checkpoint holding an image (an SLO: above the segment size) and a small object. */
async function older(name: string) {
  const image = randomBytes(Math.floor(2.5 * SEGMENT));
  const bank = await checkpoint(name);
  const written = await bank.put('images/base.img', image, { size: image.length });
  await bank.put('template.yaml', 'resources: {}\n');
  const manifest = await bank.writeManifest(input(name));
  return { bank, image, written, manifest };
}

/** A newer checkpoint that references the older one's image instead of copying it. */
async function newer(name: string, from: Awaited<ReturnType<typeof older>>) {
  const ref: BankReference = {
    container: from.bank.container,
    object: 'images/base.img',
    size: from.written.size,
    sha256: from.written.sha256,
    checkpoint_id: from.manifest.checkpoint_id,
  };
  const bank = await checkpoint(name);
  const ledger = memoryLedger({ ...ref, saved: { image_id: 'base' } });
  await bank.useLedger(ledger);
  const found = await bank.findEarlier('images/base.img', () => true);
  expect(found?.container).toBe(from.bank.container);
  await bank.reference(ref);
  await bank.put('template.yaml', 'resources: {}\n');
  const manifest = await bank.writeManifest(input(name));
  return { bank, manifest, ref, ledger };
}

describe('checkpoints referencing an earlier checkpoint', () => {
  it('writes format 2 with the reference, and reads and verifies the referenced bytes', async () => {
    const a = await older('ref-read');
    expect(a.manifest.format_version).toBe(1);
    const b = await newer('ref-read', a);
    expect(b.manifest.format_version).toBe(2);
    expect(b.manifest.references).toEqual([b.ref]);
    expect(b.manifest.objects.map((o) => o.name)).toEqual(['template.yaml']);
    // No image bytes in the newer container.
    expect((await swift.listObjects(b.bank.container)).map((o) => o.name).sort()).toEqual([
      'manifest.json',
      'template.yaml',
    ]);
    expect((await swift.containerInfo(b.bank.container))?.metadata[metaKey(META.format)]).toBe('2');

    const reader = await openCheckpoint({ swift, container: b.bank.container });
    expect(reader.stat('images/base.img')).toEqual({
      name: 'images/base.img',
      size: a.image.length,
      sha256: sha256(a.image),
    });
    expect(sha256(await readAll(await reader.get('images/base.img')))).toBe(sha256(a.image));
    expect(sha256(await readAll(await reader.get('images/base.img', { container: a.bank.container })))).toBe(
      sha256(a.image),
    );
    const verified = await reader.verify();
    expect(verified.ok).toBe(true);
    expect(verified.bytesRead).toBeGreaterThanOrEqual(a.image.length);

    const listed = (await listCheckpointsInBank({ swift })).find((c) => c.container === b.bank.container);
    expect(listed).toMatchObject({ usable: true, formatVersion: 2 });
  });

  it('never follows a container the manifest does not reference', async () => {
    const a = await older('ref-other');
    const b = await newer('ref-other', a);
    const stranger = await older('ref-stranger');
    const reader = await openCheckpoint({ swift, container: b.bank.container });
    await expect(reader.get('images/base.img', { container: stranger.bank.container })).rejects.toThrow(
      /not in the manifest/,
    );
    await expect(reader.get('template.yaml', { container: stranger.bank.container })).rejects.toThrow(
      /not in the manifest/,
    );
    expect(reader.stat('images/base.img', { container: stranger.bank.container })).toBeUndefined();
  });

  it('fails verify, reading and the listing when the referenced object is changed, naming it', async () => {
    const a = await older('ref-tamper');
    const b = await newer('ref-tamper', a);
    const where = `${a.bank.container}/images/base.img`;
    // Same size, one byte different: only re-reading can tell.
    const changed = Buffer.from(a.image);
    changed[1000] ^= 0xff;
    await swift.putObject(a.bank.container, 'images/base.img', changed, { segmentSize: SEGMENT });
    const reader = await openCheckpoint({ swift, container: b.bank.container });
    const verified = await reader.verify();
    expect(verified.ok).toBe(false);
    expect(verified.problems).toEqual([expect.objectContaining({ object: where, problem: 'sha256' })]);
    await expect(readAll(await reader.get('images/base.img'))).rejects.toThrow(/images\/base\.img/);

    await swift.deleteObject(a.bank.container, 'images/base.img');
    const gone = await reader.verify();
    expect(gone.problems).toEqual([{ object: where, problem: 'missing' }]);
    const listed = (await listCheckpointsInBank({ swift })).find((c) => c.container === b.bank.container);
    expect(listed?.usable).toBe(false);
    expect(listed?.reason).toContain(where);
  });

  it('refuses a reference to an object that is not there, and a manifest whose reference went away', async () => {
    const a = await older('ref-race');
    const gone: BankReference = {
      container: a.bank.container,
      object: 'images/none.img',
      size: 1,
      sha256: 'x',
      checkpoint_id: 'cp',
    };
    const bank = await checkpoint('ref-race-new');
    const ledger = memoryLedger({ ...gone, saved: {} });
    await bank.useLedger(ledger);
    expect(await bank.findEarlier(gone.object, () => true)).toBeDefined();
    await expect(bank.reference(gone)).rejects.toThrow(`${a.bank.container}/images/none.img: is missing`);
    expect(ledger.rows).toEqual([]);
    // Taken while it was there, gone before the manifest (the older checkpoint deleted meanwhile).
    const there: BankReference = {
      container: a.bank.container,
      object: 'images/base.img',
      size: a.written.size,
      sha256: a.written.sha256,
      checkpoint_id: a.manifest.checkpoint_id,
    };
    const racing = await checkpoint('ref-race-new');
    await racing.useLedger(memoryLedger({ ...there, saved: {} }));
    await racing.findEarlier(there.object, () => true);
    await racing.reference(there);
    await deleteCheckpoint({ swift, container: a.bank.container });
    await expect(racing.writeManifest(input('ref-race-new'))).rejects.toThrow(
      `${a.bank.container}/images/base.img is missing`,
    );
    expect(await swift.headObject(racing.container, 'manifest.json')).toBeUndefined();
  });

  it('references only what the ledger offered, never a container of the caller choice', async () => {
    const a = await older('ref-offered');
    const bank = await checkpoint('ref-offered-new');
    await bank.useLedger(memoryLedger());
    await expect(
      bank.reference({
        container: a.bank.container,
        object: 'images/base.img',
        size: a.written.size,
        sha256: a.written.sha256,
        checkpoint_id: a.manifest.checkpoint_id,
      }),
    ).rejects.toThrow(/did not offer it/);
    const manifest = await bank.writeManifest(input('ref-offered-new'));
    expect(manifest.references).toBeUndefined();
    expect(manifest.format_version).toBe(1);
  });

  it('keeps only the referenced object (with its segments) when the older checkpoint is deleted', async () => {
    const a = await older('ref-retain');
    const b = await newer('ref-retain', a);
    const { retained } = await deleteCheckpoint({
      swift,
      container: a.bank.container,
      keep: ['images/base.img'],
    });
    expect(retained).toEqual(['images/base.img']);
    const meta = (await swift.containerInfo(a.bank.container))?.metadata ?? {};
    expect(meta[metaKey(META.status)]).toBe('retained');
    expect((await swift.listObjects(a.bank.container)).map((o) => o.name)).toEqual(['images/base.img']);
    expect((await swift.listObjects(segmentContainerName(a.bank.container))).length).toBe(3);

    // The older checkpoint is never offered again; the newer one still recovers and verifies.
    const listing = await listCheckpointsInBank({ swift });
    expect(listing.find((c) => c.container === a.bank.container)).toMatchObject({
      usable: false,
      status: 'retained',
    });
    expect(listing.find((c) => c.container === b.bank.container)?.usable).toBe(true);
    await expect(openCheckpoint({ swift, container: a.bank.container })).rejects.toThrow(/no manifest/);
    const reader = await openCheckpoint({ swift, container: b.bank.container });
    expect((await reader.verify()).ok).toBe(true);
    expect(sha256(await readAll(await reader.get('images/base.img')))).toBe(sha256(a.image));

    // Nothing references it any more: the retained container goes entirely.
    await deleteCheckpoint({ swift, container: b.bank.container });
    await deleteCheckpoint({ swift, container: a.bank.container, keep: [] });
    expect(await swift.containerInfo(a.bank.container)).toBeUndefined();
    expect(await swift.containerInfo(segmentContainerName(a.bank.container))).toBeUndefined();
  });
});
