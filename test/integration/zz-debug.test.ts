/**
 * The disaster, end to end over HTTP against the simulator: the three-tier
 * workload is protected by the primary's Dragon; then the primary site is
 * switched off entirely and that Dragon's database dropped. A fresh Dragon
 * with an empty database finds the checkpoint in the backup site's bank and
 * recovers it there. Then what must hold around it: a damaged bank stops a
 * recovery before anything is created, a dry run reports problems and
 * creates nothing, a failed stack is rolled back, a drill proves the
 * checkpoint without touching production and leaves nothing behind, and
 * failback brings the workload home once the primary is back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../../services/cloudsim/cloud.js';
import type { VolumeServiceApi } from '../../services/cloudsim/contracts.js';
import type { SiteClients } from '../../services/engine/plugin-api.js';
import { type FreshDragon, startFreshDragon } from '../support/fresh-dragon.js';
import { type Body, type ProtectStack, startProtectStack } from '../support/protect-stack.js';
import { buildThreeTier, type ThreeTier } from '../support/three-tier.js';

const SERVER = 'OS::Nova::Server';
const VOLUME = 'OS::Cinder::Volume';

let stack: ProtectStack;
let workload: ThreeTier;
let backupDragon: FreshDragon | undefined;
let container: string;
const volumeHashes: Record<string, string> = {};

const volumePath = (cloud: RunningCloud, region: string, id: string) =>
  (cloud.sites[region].services.get('volumev3') as VolumeServiceApi).volumeDataPath(id);

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** Writes recognisable bytes at a few offsets of a volume's backing file (what the workload stored). */
async function writeVolumeData(path: string, seed: string): Promise<void> {
  const f = await open(path, 'r+');
  try {
    for (const offset of [0, 5 * 1024 * 1024, 300 * 1024 * 1024]) {
      const data = Buffer.concat([Buffer.from(`${seed}@${offset}:`), randomBytes(256 * 1024)]);
      await f.write(data, 0, data.length, offset);
    }
  } finally {
    await f.close();
  }
}

/** What exists at a site, to prove something left nothing behind. */
async function inventory(site: SiteClients) {
  const ids = (xs: Array<{ id: string }>) => xs.map((x) => x.id).sort();
  return {
    servers: ids(await site.nova.listServers()),
    volumes: ids(await site.cinder.listVolumes()),
    images: ids(await site.glance.listImages({})),
    networks: ids(await site.neutron.listNetworks()),
    routers: ids(await site.neutron.listRouters()),
    ports: ids(await site.neutron.listPorts()),
    floatingIps: ids(await site.neutron.listFloatingIps()),
    securityGroups: ids(await site.neutron.listSecurityGroups()),
    stacks: ids(await site.heat.listStacks()),
    keypairs: (await site.nova.listKeypairs()).map((k) => k.name).sort(),
  };
}

const describeFailure = async (dragon: FreshDragon, executionId: string) => {
  const { body } = await dragon.call('GET', `/v1/executions/${executionId}`);
  return JSON.stringify(
    { error: body.execution.error, steps: body.execution.steps?.filter((s: Body) => s.status === 'failed') },
    null,
    1,
  );
};

beforeAll(async () => {
  stack = await startProtectStack();
  // Small volumes: every byte is copied, checked and restored several times in this file.
  workload = await buildThreeTier(stack.primary.clients, { dbVolumeSize: 1 });
  for (const v of [workload.volumes.data, workload.volumes.db]) {
    const path = volumePath(stack.cloud, 'RegionOne', v.id);
    await writeVolumeData(path, v.id);
    volumeHashes[v.id] = await sha256File(path);
  }
}, 240_000);

afterAll(async () => {
  const t0 = Date.now();
  console.error('closing api');
  await backupDragon?.api.stop();
  console.error('api stopped', Date.now() - t0);
  await backupDragon?.engine.stop();
  console.error('engine stopped', Date.now() - t0);
  await stack?.close();
  console.error('stack closed', Date.now() - t0);
}, 300_000);

describe('the disaster: the primary site and its Dragon are gone', () => {
  it('protects the three-tier workload at the primary', async () => {
    const policyId = await stack.policy('web-shop', [
      { resource_id: workload.servers.web.id, resource_type: SERVER, action: 'image-copy' },
      { resource_id: workload.servers.app.id, resource_type: SERVER, action: 'image-copy' },
      { resource_id: workload.servers.db.id, resource_type: SERVER, action: 'image-copy' },
      {
        resource_id: workload.volumes.data.id,
        resource_type: VOLUME,
        action: 'volume-snapshot',
        options: { method: 'backup' },
      },
      {
        resource_id: workload.volumes.db.id,
        resource_type: VOLUME,
        action: 'volume-snapshot',
        options: { method: 'image' },
      },
    ]);
    const res = await stack.call('POST', `/v1/policies/${policyId}/protect`);
    expect(res.status).toBe(202);
    const execution = await stack.waitExecution(res.body.execution_id, 240_000);
    expect(execution.status, JSON.stringify(execution.error)).toBe('succeeded');
    container = (await stack.call('GET', `/v1/checkpoints/${res.body.checkpoint.id}`)).body.checkpoint
      .container;
    expect(container).toMatch(/^web-shop_\d{8}T\d{6}Z/);
  }, 300_000);

  it('switches the primary off and drops its Dragon; a fresh Dragon finds the checkpoint in the bank', async () => {
    stack.cloud.faults.RegionOne.outage = true;
    await expect(stack.primary.clients.nova.listServers()).rejects.toThrow();
    await stack.destroyDragon();
    backupDragon = await startFreshDragon({ confPath: stack.confPath, token: stack.token });

    const local = await backupDragon.call('GET', '/v1/checkpoints');
    expect(local.body.checkpoints).toEqual([]);
    const { status, body } = await backupDragon.call('GET', '/v1/checkpoints?source=bank&site=RegionTwo');
    expect(status).toBe(200);
    const found = body.checkpoints.find((c: Body) => c.container === container);
    expect(found).toMatchObject({ policy_name: 'web-shop', usable: true, source: 'bank', resource_count: 5 });
    expect(found.size_bytes).toBeGreaterThan(0);
  }, 120_000);

});

describe('what must hold around a recovery', () => {
  const recover = (extra: Record<string, unknown> = {}) =>
    backupDragon!.call('POST', '/v1/recoveries', {
      recovery: { checkpoint: container, site: 'RegionTwo', ...extra },
    });

  it('keeps what it made when told to, and DELETE removes it; a cancelled recovery removes it at once', async () => {
    const dragon = backupDragon!;
    // The key pair is there already (as after an earlier recovery), so the stack is the first POST to Nova.
    await stack.backup.clients.nova.createKeypair(workload.keyName).catch(() => undefined);
    const before = await inventory(stack.backup.clients);
    stack.cloud.faults.RegionTwo.set('compute', { errorRate: 1, methods: ['POST'] });
    let kept: Body;
    try {
      const res = await recover({ stack_name: 'kept', on_failure: 'keep' });
      kept = await dragon.waitRecovery(res.body.recovery.id, 300_000);
    } finally {
      stack.cloud.faults.RegionTwo.set('compute', undefined);
    }
    expect(kept.status).toBe('error');
    expect(kept.result.rolled_back).toBe(false);
    const keptTypes = kept.result.kept.map((k: Body) => k.type);
    expect(keptTypes).toContain('OS::Heat::Stack');
    expect(keptTypes).toContain('OS::Cinder::Volume');
    expect(await inventory(stack.backup.clients)).not.toEqual(before);
    const del = await dragon.call('DELETE', `/v1/recoveries/${kept.id}`);
    expect(del.status).toBe(202);
    expect((await dragon.waitExecution(del.body.execution_id, 300_000)).status).toBe('succeeded');
    expect(await inventory(stack.backup.clients)).toEqual(before);

    const started = await recover({ stack_name: 'cancelled' });
    // Cancelled while the volumes are being restored.
    for (let i = 0; i < 200; i++) {
      const { body } = await dragon.call('GET', `/v1/executions/${started.body.execution_id}`);
      if (body.execution.steps.some((s: Body) => s.name.startsWith('volume-') && s.status === 'running'))
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const cancel = await dragon.call('POST', `/v1/recoveries/${started.body.recovery.id}/cancel`);
    expect(cancel.status).toBe(202);
    const cancelled = await dragon.waitRecovery(started.body.recovery.id, 300_000);
    expect(cancelled.status).toBe('cancelled');
    expect(await inventory(stack.backup.clients)).toEqual(before);
  }, 600_000);

});
