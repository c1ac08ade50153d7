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
  await backupDragon?.close();
  await stack?.close();
});

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

  it('recovers the workload at the backup site from the bank alone', async () => {
    const dragon = backupDragon!;
    const res = await dragon.call('POST', '/v1/recoveries', {
      recovery: { checkpoint: container, site: 'RegionTwo', stack_name: 'web-shop-dr' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const execution = await dragon.waitExecution(res.body.execution_id, 300_000);
    expect(execution.status, await describeFailure(dragon, execution.id)).toBe('succeeded');
    const recovery = (await dragon.call('GET', `/v1/recoveries/${res.body.recovery.id}`)).body.recovery;
    expect(recovery.status).toBe('available');
    expect(recovery.result.rto_seconds).toBeGreaterThan(0);
    expect(recovery.result.rpo_seconds).toBeGreaterThanOrEqual(0);
    const idMap = recovery.result.id_map as Record<string, string>;
    const site = stack.backup.clients;

    // Servers ACTIVE, with their names, flavors and metadata.
    for (const s of Object.values(workload.servers)) {
      expect(idMap[s.id], `server ${s.name} mapped`).toBeTruthy();
      const got = await site.nova.getServer(idMap[s.id]);
      expect(got.status).toBe('ACTIVE');
      expect(got.name).toBe(s.name);
      expect(got.metadata).toEqual(s.metadata);
    }
    // Every volume holds the protected bytes and is attached where it was.
    for (const [server, volume] of [
      [workload.servers.app, workload.volumes.data],
      [workload.servers.db, workload.volumes.db],
    ] as const) {
      const newVolume = idMap[volume.id];
      expect(newVolume, `volume ${volume.name} mapped`).toBeTruthy();
      expect(await sha256File(volumePath(stack.cloud, 'RegionTwo', newVolume))).toBe(volumeHashes[volume.id]);
      const attachments = await site.nova.listVolumeAttachments(idMap[server.id]);
      expect(attachments.map((a) => [a.volumeId, a.device])).toContainEqual([newVolume, '/dev/vdb']);
    }
    // Ports keep their fixed IPs and security groups; the floating IP is on the web server's port.
    for (const tier of ['web', 'app', 'db'] as const) {
      const ports = await site.neutron.listPorts({ device_id: idMap[workload.servers[tier].id] });
      expect(ports.flatMap((p) => p.fixed_ips.map((f) => f.ip_address))).toEqual([workload.addresses[tier]]);
      const groups = await Promise.all(ports[0].security_groups.map((g) => site.neutron.getSecurityGroup(g)));
      expect(groups.map((g) => g.name)).toEqual([workload.securityGroups[tier].name]);
    }
    expect(recovery.result.fixed_ips[workload.addresses.web]).toBe(workload.addresses.web);
    const newFip = idMap[workload.floatingIp.id];
    const fip = await site.neutron.getFloatingIp(newFip);
    const webPorts = await site.neutron.listPorts({ device_id: idMap[workload.servers.web.id] });
    expect(fip.port_id).toBe(webPorts[0].id);
    expect(recovery.result.floating_ip_addresses[workload.floatingIp.id]).toBe(fip.floating_ip_address);
    expect(recovery.result.checks.every((c: Body) => c.ok)).toBe(true);
  }, 400_000);
});

describe('what must hold around a recovery', () => {
  const recover = (extra: Record<string, unknown> = {}) =>
    backupDragon!.call('POST', '/v1/recoveries', {
      recovery: { checkpoint: container, site: 'RegionTwo', ...extra },
    });

  it('stops before creating anything when an object was changed, truncated, or the manifest is gone', async () => {
    const dragon = backupDragon!;
    const swift = stack.backup.clients.swift;
    const objects = (await swift.listObjects(container)).filter(
      (o) => o.name.startsWith('volumes/') && o.bytes > 10,
    );
    const victim = objects[0].name;
    const readAll = async (name: string) => {
      const chunks: Buffer[] = [];
      for await (const c of (await swift.getObject(container, name)).stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const original = await readAll(victim);
    const before = await inventory(stack.backup.clients);

    const flipped = Buffer.from(original);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    await swift.putObject(container, victim, flipped);
    let res = await recover();
    expect(res.status).toBe(202);
    let execution = await dragon.waitExecution(res.body.execution_id);
    expect(execution.status).toBe('failed');
    expect(execution.error).toContain(victim);
    expect(await inventory(stack.backup.clients)).toEqual(before);

    await swift.putObject(container, victim, original.subarray(0, original.length - 7));
    const truncated = (await dragon.call('GET', '/v1/checkpoints?source=bank&site=RegionTwo')).body
      .checkpoints;
    expect(truncated.find((c: Body) => c.container === container)).toMatchObject({
      usable: false,
      reason: expect.stringContaining(victim),
    });
    res = await recover();
    execution = await dragon.waitExecution(res.body.execution_id);
    expect(execution.status).toBe('failed');
    expect(execution.error).toContain(victim);
    expect(await inventory(stack.backup.clients)).toEqual(before);

    await swift.putObject(container, victim, original);
    const manifest = await readAll('manifest.json');
    await swift.deleteObject(container, 'manifest.json');
    res = await recover();
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('manifest.json');
    const listed = (await dragon.call('GET', '/v1/checkpoints?source=bank&site=RegionTwo')).body.checkpoints;
    expect(listed.find((c: Body) => c.container === container)).toMatchObject({ usable: false });
    await swift.putObject(container, 'manifest.json', manifest);
    expect(await inventory(stack.backup.clients)).toEqual(before);
  }, 300_000);

  it('dry run: reports a missing flavor and a quota shortfall, and creates nothing', async () => {
    const dragon = backupDragon!;
    const admin = stack.cloud;
    const { adminSiteClients } = await import('../support/site-clients.js');
    const adminBackup = adminSiteClients(admin, 'RegionTwo');
    const before = await inventory(stack.backup.clients);
    try {
      await adminBackup.clients.cinder.updateQuota(admin.demo.projectId, { gigabytes: 1 });
      const res = await recover({ dry_run: true, mapping: { flavors: { 'm1.tiny': 'm9.huge' } } });
      expect(res.status).toBe(202);
      const recovery = await dragon.waitRecovery(res.body.recovery.id);
      expect(recovery.status).toBe('planned');
      const kinds = recovery.plan.problems.map((p: Body) => p.kind);
      expect(kinds).toContain('flavor');
      expect(kinds).toContain('quota');
      expect(recovery.plan.problems.find((p: Body) => p.kind === 'flavor').message).toContain('m9.huge');
      expect(recovery.plan.parameters).toBeTruthy();
      expect(recovery.plan.template).toContain('heat_template_version');
      expect(recovery.plan.steps.length).toBe(5);
      expect(recovery.plan.steps.every((s: Body) => typeof s.summary === 'string')).toBe(true);
    } finally {
      await adminBackup.clients.cinder.updateQuota(admin.demo.projectId, { gigabytes: 1000 });
      await adminBackup.close();
    }
    expect(await inventory(stack.backup.clients)).toEqual(before);
  }, 200_000);

  it('rolls back everything after the stack fails', async () => {
    const dragon = backupDragon!;
    const before = await inventory(stack.backup.clients);
    // Nova at the backup site refuses every new server: Heat's stack fails.
    stack.cloud.faults.RegionTwo.set('compute', { errorRate: 1, methods: ['POST'] });
    try {
      const res = await recover({ stack_name: 'doomed' });
      const recovery = await dragon.waitRecovery(res.body.recovery.id, 300_000);
      expect(recovery.status).toBe('error');
      expect(recovery.result.rolled_back).toBe(true);
      expect(recovery.result.not_removed).toEqual([]);
    } finally {
      stack.cloud.faults.RegionTwo.set('compute', undefined);
    }
    expect(await inventory(stack.backup.clients)).toEqual(before);
  }, 400_000);

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

  it('a drill proves the checkpoint in isolated networks and its teardown leaves the site as it was', async () => {
    const dragon = backupDragon!;
    const before = await inventory(stack.backup.clients);
    const res = await recover({ drill: true });
    expect(res.status).toBe(202);
    const recovery = await dragon.waitRecovery(res.body.recovery.id, 400_000);
    expect(recovery.status, recovery.error).toBe('available');
    expect(recovery.drill).toBe(true);
    const checks = recovery.result.checks as Body[];
    expect(checks.filter((c) => c.check === 'server_active')).toHaveLength(3);
    expect(checks.filter((c) => c.check === 'volume_sha256')).toHaveLength(2);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(recovery.result.rpo_seconds).toBeGreaterThanOrEqual(0);
    const site = stack.backup.clients;
    const net = await site.neutron.getNetwork(recovery.result.id_map[workload.network.id]);
    expect(net.name).toContain('-drill-');
    const router = await site.neutron.getRouter(recovery.result.id_map[workload.router.id]);
    expect(router.external_gateway_info ?? null).toBeNull();
    expect(recovery.result.id_map[workload.floatingIp.id]).toBeUndefined();

    const del = await dragon.call('DELETE', `/v1/recoveries/${recovery.id}`);
    expect(del.status).toBe(202);
    const teardown = await dragon.waitExecution(del.body.execution_id, 300_000);
    expect(teardown.status, JSON.stringify(teardown.error)).toBe('succeeded');
    expect((await dragon.call('GET', `/v1/recoveries/${recovery.id}`)).status).toBe(404);
    expect(await inventory(stack.backup.clients)).toEqual(before);
  }, 600_000);

  it('failback: a policy at the backup site protects the recovered workload home', async () => {
    const dragon = backupDragon!;
    stack.cloud.faults.RegionOne.outage = false;
    const recoveries = (await dragon.call('GET', '/v1/recoveries?status=available')).body
      .recoveries as Body[];
    const production = recoveries.find((r) => !r.drill && r.stack_name === 'web-shop-dr');
    expect(production).toBeTruthy();
    const fb = await dragon.call('POST', `/v1/recoveries/${production.id}/failback-policy`, {
      policy: { name: 'web-shop-home', backup_site: 'RegionOne' },
    });
    expect(fb.status, JSON.stringify(fb.body)).toBe(201);
    expect(fb.body.policy).toMatchObject({ primary_site: 'RegionTwo', backup_site: 'RegionOne' });
    expect(fb.body.resources).toBe(5);
    const protect = await dragon.call('POST', `/v1/policies/${fb.body.policy.id}/protect`);
    expect(protect.status).toBe(202);
    const pe = await dragon.waitExecution(protect.body.execution_id, 300_000);
    expect(pe.status, await describeFailure(dragon, pe.id)).toBe('succeeded');
    const home = (await dragon.call('GET', `/v1/checkpoints/${protect.body.checkpoint.id}`)).body.checkpoint;
    expect(home.site).toBe('RegionOne');
    const back = await dragon.call('POST', '/v1/recoveries', {
      recovery: { checkpoint: home.container, site: 'RegionOne', stack_name: 'web-shop-home' },
    });
    expect(back.status, JSON.stringify(back.body)).toBe(202);
    const recovery = await dragon.waitRecovery(back.body.recovery.id, 400_000);
    expect(recovery.status, recovery.error).toBe('available');
    const web = await stack.primary.clients.nova.getServer(
      recovery.result.id_map[production.result.id_map[workload.servers.web.id]],
    );
    expect(web.status).toBe('ACTIVE');
    const data = recovery.result.id_map[production.result.id_map[workload.volumes.data.id]];
    expect(await sha256File(volumePath(stack.cloud, 'RegionOne', data))).toBe(
      volumeHashes[workload.volumes.data.id],
    );
  }, 900_000);
});
