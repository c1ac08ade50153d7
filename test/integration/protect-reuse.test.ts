/**
 * image-copy across checkpoints (issue 6), end to end on the engine and
 * PostgreSQL against the simulator: a second protect of servers booted from
 * an unchanged image references the first checkpoint's copy instead of
 * copying it; verify, the bank listing and recovery follow the reference;
 * deleting the older checkpoint (user DELETE or retention) keeps the
 * referenced image in a `retained` container, which goes when the last
 * checkpoint using it goes; a re-uploaded image is copied again; a changed
 * referenced object fails verify naming it.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import imageCopy from '../../plugins/image-copy/index.js';
import type { GlanceService } from '../../services/cloudsim/glance.js';
import { META, metaKey, openCheckpoint, segmentContainerName } from '../../services/engine/bank/index.js';
import type { SiteClients } from '../../services/engine/plugin-api.js';
import { referenceLedger } from '../../services/engine/protect/reuse.js';
import { type ProtectStack, startProtectStack } from '../support/protect-stack.js';
import { recoverContext } from '../unit/protect/plugin-helpers.js';

let stack: ProtectStack;
let primary: SiteClients;
let backup: SiteClients;
const call = (method: string, path: string, body?: unknown) => stack.call(method, path, body);
const waitExecution = (id: string) => stack.waitExecution(id, 240_000);
const SERVER = 'OS::Nova::Server';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function uploadImage(name: string, bytes: Buffer): Promise<string> {
  const img = await primary.glance.createImage({ name, disk_format: 'raw', container_format: 'bare' });
  await primary.glance.uploadImage(img.id, bytes);
  await primary.glance.waitForImageActive(img.id, { intervalMs: 20, timeoutMs: 30_000 });
  return img.id;
}

/** The image's id stays, its bytes (and so Glance's checksum) change: an image re-uploaded. */
async function reupload(imageId: string, bytes: Buffer): Promise<void> {
  const glance = stack.cloud.sites.RegionOne.services.get('image') as GlanceService;
  const record = glance.images().find((i) => i.id === imageId);
  if (!record) throw new Error(`no image ${imageId} in the simulator`);
  record.status = 'queued';
  await primary.glance.uploadImage(imageId, bytes);
  await primary.glance.waitForImageActive(imageId, { intervalMs: 20, timeoutMs: 30_000 });
}

async function boot(name: string, imageRef: string): Promise<string> {
  const created = await primary.nova.createServer({ name, flavorRef: '1', imageRef, networks: 'none' });
  await primary.nova.waitForServer(created.id, 'ACTIVE', { intervalMs: 20, timeoutMs: 30_000 });
  return created.id;
}

async function protect(policyId: string): Promise<{ id: string; container: string; size_bytes: number }> {
  const res = await call('POST', `/v1/policies/${policyId}/protect`);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const execution = await waitExecution(res.body.execution_id);
  expect(execution.error).toBeNull();
  expect(execution.status).toBe('succeeded');
  const { body } = await call('GET', `/v1/checkpoints/${res.body.checkpoint.id}`);
  return body.checkpoint;
}

async function deleteCheckpoint(id: string): Promise<void> {
  const res = await call('DELETE', `/v1/checkpoints/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await waitExecution(res.body.execution_id)).status).toBe('succeeded');
  expect((await call('GET', `/v1/checkpoints/${id}`)).status).toBe(404);
}

async function verify(id: string) {
  const res = await call('POST', `/v1/checkpoints/${id}/verify`);
  expect(res.status).toBe(202);
  return waitExecution(res.body.execution_id);
}

async function bankListing(): Promise<Array<{ container: string; usable: boolean; reason: string | null }>> {
  const res = await call('GET', '/v1/checkpoints?source=bank&site=RegionTwo');
  expect(res.status).toBe(200);
  return res.body.checkpoints;
}

const bankStatus = async (container: string) =>
  (await backup.swift.containerInfo(container))?.metadata[metaKey(META.status)];
const objectsIn = async (container: string) =>
  (await backup.swift.listObjects(container)).map((o) => o.name).sort();

/** Recovery's image-copy path (plan, then recover) through the bank reader of a checkpoint. */
async function recoverImageFrom(container: string, serverId: string) {
  const reader = await openCheckpoint({ swift: backup.swift, container });
  const stepName = Object.keys(reader.manifest.steps).find(
    (n) => (reader.manifest.steps[n] as { image_id?: string } | undefined)?.image_id !== undefined,
  );
  const saved = reader.manifest.steps[stepName ?? ''] as Record<string, unknown>;
  const ctx = () => recoverContext(backup, reader as never, { id: serverId, type: SERVER }, saved);
  const plan = await imageCopy.plan!(ctx());
  const out = (await imageCopy.recover!(ctx())) as { image: string; reused: boolean };
  const dl = await backup.glance.downloadImage(out.image);
  const hash = createHash('sha256');
  for await (const c of dl!.stream) hash.update(c as Buffer);
  // Leave no image behind: the next recovery must read the bank again.
  await backup.glance.deleteImage(out.image);
  return { plan, out, sha256: hash.digest('hex') };
}

beforeAll(async () => {
  stack = await startProtectStack();
  primary = stack.primary.clients;
  backup = stack.backup.clients;
}, 240_000);

afterAll(async () => {
  await stack?.close();
});

describe('image-copy reuses an image an earlier checkpoint saved', () => {
  let imageBytes: Buffer;
  let imageId: string;
  let servers: string[];
  let policyId: string;
  let first: { id: string; container: string; size_bytes: number };
  let second: { id: string; container: string; size_bytes: number };

  it('references the first checkpoint copy in the second one and copies no image bytes', async () => {
    imageBytes = randomBytes(3 * 1024 * 1024 + 5);
    imageId = await uploadImage('reuse-base', imageBytes);
    servers = [await boot('reuse-1', imageId), await boot('reuse-2', imageId)];
    policyId = await stack.policy(
      'reuse',
      servers.map((id) => ({ resource_id: id, resource_type: SERVER, action: 'image-copy' })),
    );
    const object = `images/${imageId}.img`;

    first = await protect(policyId);
    expect(await objectsIn(first.container)).toContain(object);
    expect(first.size_bytes).toBeGreaterThanOrEqual(imageBytes.length);

    second = await protect(policyId);
    const names = await objectsIn(second.container);
    expect(names.filter((n) => n.endsWith('.img'))).toEqual([]);
    expect(names).toContain(`images/${imageId}.json`);
    expect(second.size_bytes).toBeLessThan(imageBytes.length);
    const reader = await openCheckpoint({ swift: backup.swift, container: second.container });
    expect(reader.manifest.format_version).toBe(2);
    expect(reader.manifest.references).toEqual([
      {
        container: first.container,
        object,
        size: imageBytes.length,
        sha256: sha256(imageBytes),
        checkpoint_id: first.id,
      },
    ]);
    const saved = Object.values(reader.manifest.steps) as Array<{ reused_from?: string; shared: boolean }>;
    // One step references the earlier copy, the other shares it within the checkpoint, as before.
    expect(saved.filter((s) => s.reused_from === first.container)).toHaveLength(1);
    expect(saved.filter((s) => s.shared)).toHaveLength(1);

    expect((await verify(second.id)).status).toBe('succeeded');
    const listed = await bankListing();
    expect(listed.find((c) => c.container === second.container)).toMatchObject({ usable: true });
  });

  it('recovers the second checkpoint after the first is deleted, from a retained container', async () => {
    await deleteCheckpoint(first.id);
    expect(await bankStatus(first.container)).toBe('retained');
    expect(await objectsIn(first.container)).toEqual([`images/${imageId}.img`]);
    const listed = await bankListing();
    expect(listed.find((c) => c.container === first.container)?.usable ?? false).toBe(false);
    expect(listed.find((c) => c.container === second.container)).toMatchObject({ usable: true });
    expect((await verify(second.id)).status).toBe('succeeded');

    const { plan, out, sha256: recovered } = await recoverImageFrom(second.container, servers[0]);
    expect(plan.bytes).toBe(imageBytes.length);
    expect(out.reused).toBe(false);
    expect(recovered).toBe(sha256(imageBytes));

    // And a whole recovery (aa-verify, aa-plan with its preflight, the servers) from the bank.
    const rec = await call('POST', '/v1/recoveries', {
      recovery: { checkpoint: second.container, site: 'RegionTwo', stack_name: 'reuse-dr' },
    });
    expect(rec.status, JSON.stringify(rec.body)).toBe(202);
    const execution = await waitExecution(rec.body.execution_id);
    expect(execution.status, JSON.stringify(execution)).toBe('succeeded');
    const recovery = (await call('GET', `/v1/recoveries/${rec.body.recovery.id}`)).body.recovery;
    const server = await backup.nova.getServer(recovery.result.id_map[servers[0]]);
    expect(server.status).toBe('ACTIVE');
    const bootImage = typeof server.image === 'object' && server.image ? server.image.id : '';
    const dl = await backup.glance.downloadImage(bootImage);
    const hash = createHash('sha256');
    for await (const c of dl!.stream) hash.update(c as Buffer);
    expect(hash.digest('hex')).toBe(sha256(imageBytes));
  });

  it('removes the retained container when the last checkpoint referencing it is deleted', async () => {
    await deleteCheckpoint(second.id);
    expect(await backup.swift.containerInfo(second.container)).toBeUndefined();
    expect(await backup.swift.containerInfo(first.container)).toBeUndefined();
    expect(await backup.swift.containerInfo(segmentContainerName(first.container))).toBeUndefined();
  });

  it('keeps the newer checkpoint recoverable under retention keep-last-1, without chains of references', async () => {
    const bytes = randomBytes(2 * 1024 * 1024 + 11);
    const image = await uploadImage('retention-base', bytes);
    const server = await boot('retention-1', image);
    const policy = await stack.policy('reuse-retention', [
      { resource_id: server, resource_type: SERVER, action: 'image-copy' },
    ]);
    const set = await call('PATCH', `/v1/policies/${policy}`, { policy: { retention: { keep_last: 1 } } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const object = `images/${image}.img`;

    const d = await protect(policy);
    const e = await protect(policy);
    await applyRetentionUntilGone(d.id);
    expect(await bankStatus(d.container)).toBe('retained');
    expect((await verify(e.id)).status).toBe('succeeded');
    expect((await recoverImageFrom(e.container, server)).sha256).toBe(sha256(bytes));

    // The third one references the bytes where they are (d's container), not e's reference.
    const f = await protect(policy);
    const reader = await openCheckpoint({ swift: backup.swift, container: f.container });
    expect(reader.manifest.references?.map((r) => `${r.container}/${r.object}`)).toEqual([
      `${d.container}/${object}`,
    ]);
    await applyRetentionUntilGone(e.id);
    expect(await backup.swift.containerInfo(e.container)).toBeUndefined();
    expect(await bankStatus(d.container)).toBe('retained');
    expect((await verify(f.id)).status).toBe('succeeded');

    // A changed referenced object: verify of the newer checkpoint fails and names it.
    const changed = Buffer.from(bytes);
    changed[4096] ^= 0xff;
    await backup.swift.putObject(d.container, object, changed);
    const failed = await verify(f.id);
    expect(failed.status).toBe('failed');
    expect(JSON.stringify(failed)).toContain(`${d.container}/${object}`);
    const listed = await bankListing();
    // Same size: the cheap listing cannot tell; verify can.
    expect(listed.find((c) => c.container === f.container)).toBeDefined();
  });

  it('copies an image re-uploaded with other bytes instead of referencing the old copy', async () => {
    const bytes = randomBytes(1024 * 1024 + 3);
    const image = await uploadImage('reupload-base', bytes);
    const server = await boot('reupload-1', image);
    const policy = await stack.policy('reuse-reupload', [
      { resource_id: server, resource_type: SERVER, action: 'image-copy' },
    ]);
    const before = await protect(policy);
    const newBytes = randomBytes(1024 * 1024 + 3);
    await reupload(image, newBytes);
    const after = await protect(policy);
    const reader = await openCheckpoint({ swift: backup.swift, container: after.container });
    expect(reader.manifest.references ?? []).toEqual([]);
    expect(reader.manifest.format_version).toBe(1);
    expect(reader.stat(`images/${image}.img`)?.sha256).toBe(sha256(newBytes));
    expect(await objectsIn(after.container)).toContain(`images/${image}.img`);
    const saved = Object.values(reader.manifest.steps) as Array<{ reused_from?: string }>;
    expect(saved.every((s) => s.reused_from === undefined)).toBe(true);
    // And the unchanged one before it still holds its own copy.
    expect(await objectsIn(before.container)).toContain(`images/${image}.img`);
  });

  it('keeps what a protect still being written references, and lets go when that checkpoint goes', async () => {
    const bytes = randomBytes(1024 * 1024 + 7);
    const image = await uploadImage('inflight-base', bytes);
    const server = await boot('inflight-1', image);
    const policy = await stack.policy('reuse-inflight', [
      { resource_id: server, resource_type: SERVER, action: 'image-copy' },
    ]);
    const a = (await protect(policy)) as { id: string; container: string; project_id?: string };
    const object = `images/${image}.img`;
    // A protect that took a's image and has not written its manifest yet (as the engine records it).
    const inflight = randomUUID();
    const now = new Date();
    await stack.db('checkpoints').insert({
      id: inflight,
      policy_id: policy,
      policy_name: 'reuse-inflight',
      project_id: a.project_id,
      site: 'RegionTwo',
      container: `reuse-inflight_${inflight.slice(0, 8)}`,
      status: 'creating',
      created_at: now,
      updated_at: now,
    });
    await stack.db('checkpoint_references').insert({
      checkpoint_id: inflight,
      container: a.container,
      object,
      size: bytes.length,
      sha256: sha256(bytes),
      source_checkpoint_id: a.id,
      created_at: now,
    });
    await deleteCheckpoint(a.id);
    expect(await bankStatus(a.container)).toBe('retained');
    expect(await objectsIn(a.container)).toEqual([object]);

    // That protect failed; deleting its checkpoint removes the container it kept alive.
    await stack.db('checkpoints').where({ id: inflight }).update({ status: 'error' });
    await deleteCheckpoint(inflight);
    expect(await backup.swift.containerInfo(a.container)).toBeUndefined();
  });

  it('refuses a reference once the deletion of the checkpoint that offered it has begun', async () => {
    const bytes = randomBytes(1024 * 1024 + 11);
    const image = await uploadImage('race-base', bytes);
    const server = await boot('race-1', image);
    const policy = await stack.policy('reuse-race', [
      { resource_id: server, resource_type: SERVER, action: 'image-copy' },
    ]);
    const a = (await protect(policy)) as unknown as { id: string; container: string; project_id: string };
    const object = `images/${image}.img`;
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const ledger = referenceLedger(
      stack.db,
      backup.swift,
      { id: randomUUID(), project_id: a.project_id, site: 'RegionTwo' },
      quiet,
    );
    const offered = await ledger.find(object, (saved) => saved.image_id === image);
    expect(offered?.container).toBe(a.container);
    expect(offered?.offeredBy).toBe(a.id);
    const { saved: _saved, offeredBy, ...ref } = offered!;
    // The API marks the checkpoint `deleting` before its deletion reads what to keep: from then on a
    // new reference to it could be missed, so it is refused.
    await stack.db('checkpoints').where({ id: a.id }).update({ status: 'deleting' });
    await expect(ledger.record(ref, offeredBy)).rejects.toThrow(/no longer available/);
    await stack.db('checkpoints').where({ id: a.id }).update({ status: 'available' });
    await ledger.record(ref, offeredBy);
    expect((await ledger.recorded()).map((r) => `${r.container}/${r.object}`)).toEqual([
      `${a.container}/${object}`,
    ]);
  });
});

/** Runs retention (as the leading engine's scheduler does) until the checkpoint is deleted. */
async function applyRetentionUntilGone(checkpointId: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const started = await stack.engine!.scheduler.applyRetention();
    for (const id of started) expect((await waitExecution(id)).status).toBe('succeeded');
    if ((await call('GET', `/v1/checkpoints/${checkpointId}`)).status === 404) return;
    if (Date.now() > deadline) throw new Error(`retention did not delete checkpoint ${checkpointId}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
